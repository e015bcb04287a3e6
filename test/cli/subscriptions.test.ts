import { describe, expect, it } from 'vitest';
import {
  describeSubscription,
  judge,
  MAX_SUBSCRIPTIONS,
  RENEW_EVERY_MS,
  STALE_AFTER_MS,
  subscriptionName,
  subscriptionPrefix,
  UNRENEWED_STALE_AFTER_MS,
} from '../../cli/subscriptions';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const prefix = subscriptionPrefix('deployomat');
const filter = { account: 'acme-dev', service: 'shop' };
const renewed = (ago: number) => describeSubscription(filter, new Date(NOW - ago));
const LEGACY = 'Temporary subscription of the deployomat CLI (acme-dev/shop); safe to delete';
const url = (name: string) => `https://sqs.us-east-1.amazonaws.com/111111111111/${name}`;
const queue = (name: string, createdAgo?: number) => ({ name, url: url(name), createdAt: createdAgo === undefined ? undefined : NOW - createdAgo });

describe('Function: judge', () => {
  it('takes a rule not renewed for longer than STALE_AFTER_MS for a leftover, with its queue', () => {
    // Prepare
    const rules = [
      { name: `${prefix}old`, description: renewed(STALE_AFTER_MS + 1000) },
      { name: `${prefix}new`, description: renewed(STALE_AFTER_MS - 1000) },
    ];

    // Act
    const verdict = judge({ rules, queues: [queue(`${prefix}old`), queue(`${prefix}new`)] }, prefix, NOW);

    // Assess
    expect(verdict).toEqual({ rules: [{ name: `${prefix}old`, queueUrl: url(`${prefix}old`) }], queues: [], live: 1 });
  });

  it('keeps a rule renewed in the future (a clock ahead of this one)', () => {
    expect(judge({ rules: [{ name: `${prefix}ahead`, description: renewed(-10 * 60_000) }], queues: [] }, prefix, NOW)).toEqual({ rules: [], queues: [], live: 1 });
  });

  it('ages a rule of a CLI from before renewals by its queue, a day at least, and leaves one whose queue is not listed alone', () => {
    // Prepare: an older CLI may well follow for more than an hour.
    const rules = ['young', 'hours', 'old', 'alone'].map((n) => ({ name: `${prefix}${n}`, description: LEGACY }));
    const queues = [queue(`${prefix}young`, 60_000), queue(`${prefix}hours`, 5 * STALE_AFTER_MS), queue(`${prefix}old`, UNRENEWED_STALE_AFTER_MS + 1000)];

    // Act
    const verdict = judge({ rules, queues }, prefix, NOW);

    // Assess
    expect(UNRENEWED_STALE_AFTER_MS).toBeGreaterThan(5 * STALE_AFTER_MS);
    expect(verdict).toEqual({ rules: [{ name: `${prefix}old`, queueUrl: url(`${prefix}old`) }], queues: [], live: 2 });
  });

  it('removes a queue whose rule is gone once it is older than STALE_AFTER_MS, and keeps a younger one (its rule may be on its way)', () => {
    const queues = [queue(`${prefix}orphan`, STALE_AFTER_MS + 1000), queue(`${prefix}starting`, 1000), queue(`${prefix}unknown`)];
    expect(judge({ rules: [], queues }, prefix, NOW)).toEqual({ rules: [], queues: [url(`${prefix}orphan`)], live: 0 });
  });

  it('never touches rules or queues under the prefix that the CLI did not make', () => {
    // Prepare: another bus's CLI (`deployomat-cli-x` has queues `deployomat-cli-x-cli-…`), another Description, no Description.
    const rules = [
      { name: `${prefix}x-cli-abc`, description: renewed(STALE_AFTER_MS * 2) },
      { name: `${prefix}mine`, description: 'a rule someone made' },
      { name: `${prefix}bare` },
    ];
    const queues = [queue(`${prefix}x-cli-abc`, STALE_AFTER_MS * 2), queue(`${prefix}mine`, STALE_AFTER_MS * 2)];

    // Act
    const verdict = judge({ rules, queues }, prefix, NOW);

    // Assess: `mine` has a rule of that name, so its queue is not an orphan either.
    expect(verdict).toEqual({ rules: [], queues: [], live: 0 });
  });

  it('reads back the time describeSubscription records', () => {
    const name = subscriptionName('deployomat');
    expect(name).toMatch(/^deployomat-cli-[a-z0-9]+$/);
    expect(judge({ rules: [{ name, description: describeSubscription(filter, new Date(NOW - STALE_AFTER_MS - 1)) }], queues: [] }, prefix, NOW).rules).toHaveLength(1);
    expect(describeSubscription(filter, new Date(NOW))).toBe(
      'Temporary subscription of the deployomat CLI (acme-dev/shop); renewed 2025-06-01T12:00:00.000Z; safe to delete 60 min after that',
    );
  });
});

describe('Limits', () => {
  it('renews many times within the lifetime, and leaves most of the bus quota of 300 rules to others', () => {
    expect(STALE_AFTER_MS / RENEW_EVERY_MS).toBeGreaterThanOrEqual(10);
    expect(MAX_SUBSCRIPTIONS).toBeLessThanOrEqual(300 / 3);
  });
});
