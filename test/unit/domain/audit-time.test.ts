import { describe, expect, it } from 'vitest';
import { historyItem, MAX_TIME_SKEW_SECONDS } from '../../../domain/audit';

/**
 * Issue #12 (finding 11): an event's `time` is chosen by its publisher (PutEvents `Time`). A
 * deployer who dates a DeployRequested in 2001 would have its history item expire at once (TTL
 * from the event time) and sort before everything; one dated 2099 would never expire and sort
 * after everything. The history files an event under the time its queue received it unless its
 * own time is plausible, and keeps the claimed time beside it.
 */
const RECEIVED = new Date('2026-11-26T20:00:07.250Z');
const RECEIVED_KEY = '2026-11-26T20:00:07Z';
const DAY = 86_400;
const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

const envelope = (time: string, replay = false) => ({
  id: 'e-1',
  'detail-type': 'DeployRequested',
  source: 'deployomat.client',
  time,
  detail: { AccountCanonicalSlug: 'acme', ServiceName: 'web', AmiId: 'ami-12345678', DeployId: 'd-1' },
  ...(replay ? { 'replay-name': 'rebuild' } : {}),
});

describe('Function: historyItem, the time an event is filed under', () => {
  it.each([
    ['far in the past', '2001-01-01T00:00:00Z'],
    ['far in the future', '2099-12-31T23:59:59Z'],
    ['an hour early', '2026-11-26T19:00:07Z'],
    ['not a time', 'yesterday'],
  ])('files a live event whose time is %s under its receive time, expiring from then', (_, time) => {
    // Act
    const item = historyItem(envelope(time), RECEIVED);

    // Assess
    expect(item.sk).toMatch(new RegExp(`^EVENT#${RECEIVED_KEY}#000000#[0-9a-f]{16}$`));
    expect(item.Time).toBe(RECEIVED_KEY);
    expect(item.ExpiresAt).toBe(epoch(RECEIVED_KEY) + 400 * DAY);
    expect(item.PublishedTime).toBe(time);
  });

  it('files a live event under its own time when it is within the skew of its receipt (positive control)', () => {
    for (const time of ['2026-11-26T20:00:06Z', new Date(RECEIVED.getTime() - MAX_TIME_SKEW_SECONDS * 1000).toISOString().replace('.250', '')]) {
      const item = historyItem(envelope(time), RECEIVED);
      expect(item.sk.startsWith(`EVENT#${time}#`), time).toBe(true);
      expect(item.ExpiresAt).toBe(epoch(time) + 400 * DAY);
      expect(item.PublishedTime).toBeUndefined();
    }
  });

  it('files an archive replay under its original time (so a replay rebuilds the same items), but never a future or expired one', () => {
    const tenDaysAgo = '2026-11-16T20:00:07Z';
    expect(historyItem(envelope(tenDaysAgo, true), RECEIVED)).toMatchObject({ Time: tenDaysAgo, ExpiresAt: epoch(tenDaysAgo) + 400 * DAY });
    expect(historyItem(envelope(tenDaysAgo, true), RECEIVED).PublishedTime).toBeUndefined();
    for (const forged of ['2099-01-01T00:00:00Z', '2001-01-01T00:00:00Z']) {
      expect(historyItem(envelope(forged, true), RECEIVED), forged).toMatchObject({ Time: RECEIVED_KEY, PublishedTime: forged });
    }
  });

  it('files two deliveries of a plausible event under one key, whenever within the skew each reached its queue', () => {
    const time = '2026-11-26T20:00:00Z';
    const first = historyItem(envelope(time), new Date('2026-11-26T20:00:01Z'));
    const second = historyItem(envelope(time), new Date('2026-11-26T20:03:00Z'));
    expect(second).toEqual(first);
  });
});
