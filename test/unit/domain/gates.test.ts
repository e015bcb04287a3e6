import { describe, expect, it } from 'vitest';
import { bakeTimer } from '../../../domain/bake';
import { neededHealthy, pauseReached } from '../../../domain/gates';

describe('Function: neededHealthy', () => {
  it.each([
    [5, 4, 1],
    [25, 4, 1],
    [26, 4, 2],
    [50, 3, 2],
    [100, 3, 3],
    [0, 10, 0],
    [100, 0, 0],
    [10, 1, 1],
  ])('needs ceil(%i %% of %i) = %i healthy targets', (percent, capacity, needed) => {
    expect(neededHealthy(percent, capacity)).toBe(needed);
  });

  it('never needs more than the capacity, and needs all of it at 100 %', () => {
    for (let capacity = 0; capacity <= 20; capacity++) {
      for (let percent = 0; percent <= 100; percent++) expect(neededHealthy(percent, capacity)).toBeLessThanOrEqual(capacity);
      expect(neededHealthy(100, capacity)).toBe(capacity);
    }
  });

  it.each([[-1, 2], [101, 2], [NaN, 2], [50, -1], [50, NaN]])('refuses percent %d with capacity %d', (percent, capacity) => {
    expect(() => neededHealthy(percent, capacity)).toThrow(RangeError);
  });
});

describe('Function: pauseReached', () => {
  it.each([
    [[25], 0, 10, undefined],
    [[25], 20, 30, 25],
    [[25], 25, 50, undefined],
    [[25], 0, 25, 25],
    [[60, 20], 10, 30, 20],
    [[60, 20], 30, 60, 60],
    [[15, 20], 10, 20, 15],
    [undefined, 0, 50, undefined],
    [[], 0, 50, undefined],
  ])('with %j, a step from %i %% to %i %% pauses at %s', (list, previous, percent, expected) => {
    expect(pauseReached(list, previous, percent)).toBe(expected);
  });

  it('pauses once per entry over a whole rollout, even when entries fall between steps', () => {
    const percents = [0, 30, 60, 90, 100];
    const pauses = percents.slice(1).map((p, i) => pauseReached([10, 20, 50, 95], percents[i]!, p));
    expect(pauses).toEqual([10, 50, undefined, 95]);
  });
});

describe('Function: bakeTimer', () => {
  const next = { DeployId: 'd-1', AccountCanonicalSlug: 'acme', ServiceName: 'shop', Seq: 7 };
  const cfg = { alarmCheckIntervalSeconds: 30 };
  const at = Date.parse('2026-11-26T20:00:00Z');

  it('is one BakeElapsed at the end of the bake without alarms', () => {
    const e = bakeTimer(cfg, { Config: { BakeTime: 600 } as never }, next, at, 600_000);
    expect(e.DetailType).toBe('BakeElapsed');
    expect(e.Detail).toMatchObject({ ...next, BakeTime: 600, DueAt: '2026-11-26T20:10:00.000Z' });
  });

  it('checks the alarms every interval with RollbackAlarms', () => {
    const e = bakeTimer(cfg, { Config: { BakeTime: 600, RollbackAlarms: ['a'] } as never }, next, at, 600_000);
    expect(e.DetailType).toBe('BakeCheckDue');
    expect(e.Detail).toMatchObject({ ...next, BakeEndsAt: '2026-11-26T20:10:00.000Z', DueAt: '2026-11-26T20:00:30.000Z' });
  });

  it('never checks past the end of a short bake, and ends a zero bake at once', () => {
    const short = bakeTimer(cfg, { Config: { BakeTime: 10, RollbackAlarms: ['a'] } as never }, next, at, 10_000);
    expect(short.Detail).toMatchObject({ DueAt: '2026-11-26T20:00:10.000Z', BakeEndsAt: '2026-11-26T20:00:10.000Z' });
    const none = bakeTimer(cfg, { Config: { BakeTime: 0, RollbackAlarms: ['a'] } as never }, next, at, 0);
    expect(none.DetailType).toBe('BakeElapsed');
  });
});
