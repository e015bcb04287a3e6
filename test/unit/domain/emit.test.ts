import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../events/catalog';
import { atExpression, scheduleName } from '../../../domain/emit';

const SCHEDULE_NAME = /^[0-9A-Za-z_.-]{1,64}$/;

const shiftDue = (overrides: { DeployId?: string; Seq?: number; Step?: number } = {}): DomainEvent => ({
  DetailType: 'TrafficShiftDue',
  Detail: { DeployId: 'deploy-1', AccountCanonicalSlug: 'acme-prod', ServiceName: 'web', Seq: 3, Step: 2, ...overrides },
  DelaySeconds: 1200,
});

const healthDue = (overrides: { DeployId?: string; Seq?: number } = {}): DomainEvent => ({
  DetailType: 'HealthCheckDue',
  Detail: { DeployId: 'deploy-1', AccountCanonicalSlug: 'acme-prod', ServiceName: 'web', Seq: 3, Attempt: 1, Healthy: 0, Wanted: 2, ...overrides },
  DelaySeconds: 1200,
});

describe('Function: scheduleName', () => {
  it('starts with the detail-type and deploy id', () => {
    expect(scheduleName(shiftDue())).toMatch(/^TrafficShiftDue-deploy-1-[0-9a-f]{12}$/);
  });

  it('is deterministic', () => {
    expect(scheduleName(shiftDue())).toBe(scheduleName(shiftDue()));
  });

  it.each([
    ['Seq', shiftDue({ Seq: 4 })],
    ['DeployId', shiftDue({ DeployId: 'deploy-2' })],
    ['DetailType', healthDue()],
  ])('differs when %s differs', (_label, other) => {
    expect(scheduleName(other)).not.toBe(scheduleName(shiftDue()));
  });

  it('differs for long deploy ids that share their first 50 characters', () => {
    // Prepare
    const common = 'd'.repeat(60);

    // Act
    const a = scheduleName(shiftDue({ DeployId: `${common}-a` }));
    const b = scheduleName(shiftDue({ DeployId: `${common}-b` }));

    // Assess
    expect(a).not.toBe(b);
  });

  it.each([
    ['a short deploy id', 'ab'],
    ['a 64-character deploy id', 'x'.repeat(64)],
    ['a deploy id with STS symbols', 'a+b=c,d@e.f_g-h'],
    ['a 64-character deploy id of symbols', '+=,@'.repeat(16)],
  ])('stays within 64 characters of [0-9A-Za-z_.-] for %s', (_label, DeployId) => {
    for (const event of [shiftDue({ DeployId }), healthDue({ DeployId })]) {
      // Act
      const name = scheduleName(event);

      // Assess
      expect(name).toMatch(SCHEDULE_NAME);
    }
  });

  it('replaces characters schedules do not allow', () => {
    expect(scheduleName(shiftDue({ DeployId: 'a+b=c,d@e' }))).toMatch(/^TrafficShiftDue-a_b_c_d_e-[0-9a-f]{12}$/);
  });
});

describe('Function: atExpression', () => {
  it.each([
    ['a UTC time', new Date(Date.UTC(2026, 10, 26, 17, 17, 31)), 'at(2026-11-26T17:17:31)'],
    ['milliseconds', new Date(Date.UTC(2026, 10, 26, 17, 17, 31, 999)), 'at(2026-11-26T17:17:31)'],
    ['a time given with an offset', new Date('2026-11-26T09:17:31-08:00'), 'at(2026-11-26T17:17:31)'],
    ['a time whose UTC day differs from its local day', new Date('2026-11-27T01:30:00+09:00'), 'at(2026-11-26T16:30:00)'],
    ['single-digit fields', new Date(Date.UTC(2027, 0, 2, 3, 4, 5)), 'at(2027-01-02T03:04:05)'],
  ])('writes %s as UTC wall-clock time', (_label, due, expected) => {
    expect(atExpression(due)).toBe(expected);
  });
});
