import { describe, expect, it } from 'vitest';
import { DEFAULT_AMI_OWNERS, loadConfig } from '../../../domain/config';
import { ConfigError } from '../../../domain/errors';

/** The installation's own facts, which have no defaults. */
const REQUIRED = {
  DEPLOYOMAT_BUS_NAME: 'deployomat',
  DEPLOYOMAT_BUS_ARN: 'arn:aws:events:us-east-1:123456789012:event-bus/deployomat',
  DEPLOYOMAT_TABLE_NAME: 'deployomat-ledger',
  DEPLOYOMAT_TIMER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/deployomat-timers',
  DEPLOYOMAT_TIMER_QUEUE_ARN: 'arn:aws:sqs:us-east-1:123456789012:deployomat-timers',
  DEPLOYOMAT_SCHEDULE_GROUP: 'deployomat',
  DEPLOYOMAT_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/deployomat-scheduler',
};

describe('Function: loadConfig', () => {
  it('searches the workload account and the installation account for AMIs by default', () => {
    expect(DEFAULT_AMI_OWNERS).toEqual(['self', 'deployomat-account']);
    expect(loadConfig(REQUIRED).amiOwners).toEqual(['self', '123456789012']);
  });

  it('passes no external id by default, and the one given otherwise', () => {
    expect(loadConfig(REQUIRED).roleExternalId).toBeUndefined();
    expect(loadConfig({ ...REQUIRED, DEPLOYOMAT_ROLE_EXTERNAL_ID: 'acme-deployomat-4f1c' }).roleExternalId).toBe('acme-deployomat-4f1c');
  });

  it.each([
    ['too short', 'x'],
    ['empty', ''],
    ['a space', 'acme deployomat'],
    ['too long', 'a'.repeat(1225)],
  ])('refuses an external id STS would refuse (%s), naming the variable', (_label, value) => {
    expect(() => loadConfig({ ...REQUIRED, DEPLOYOMAT_ROLE_EXTERNAL_ID: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...REQUIRED, DEPLOYOMAT_ROLE_EXTERNAL_ID: value })).toThrow(/DEPLOYOMAT_ROLE_EXTERNAL_ID/);
  });
});
