import { describe, expect, it } from 'vitest';
import { scheduleName } from '../../../domain/emit';
import { armedPauseTimer, pausedEvents, pauseExpiredReason, pauseLimit, pauseRollbackAt, pauseTimeoutProblems } from '../../../domain/pause';
import { iso, serviceState as state, T0 } from './service-state';

const DAY = 86_400;
const next = { DeployId: 'shop-2', AccountCanonicalSlug: 'acme', ServiceName: 'shop', Seq: 5 };

describe('Function: pauseLimit', () => {
  it.each([
    ['its own PauseTimeout, within the maximum', { PauseTimeout: 600 }, { seconds: 600, by: 'PauseTimeout' }],
    ['the maximum, without a PauseTimeout', {}, { seconds: DAY, by: 'MaxPause' }],
    ['the maximum, for a PauseTimeout over it (accepted before it was lowered)', { PauseTimeout: 2 * DAY }, { seconds: DAY, by: 'MaxPause' }],
  ])('is %s', (_what, config, limit) => {
    expect(pauseLimit(config, DAY)).toEqual(limit);
  });
});

describe('Function: pauseTimeoutProblems', () => {
  it('accepts no PauseTimeout, and one up to the maximum', () => {
    expect(pauseTimeoutProblems({}, DAY)).toEqual([]);
    expect(pauseTimeoutProblems({ PauseTimeout: DAY }, DAY)).toEqual([]);
  });

  it('rejects a longer one, naming the maximum, its setting and what to do', () => {
    expect(pauseTimeoutProblems({ PauseTimeout: DAY + 1 }, DAY)).toEqual([
      'DeployConfig.PauseTimeout: must be at most 86400 seconds, the longest a rollout may stay paused in this installation (DEPLOYOMAT_MAX_PAUSE_SECONDS); leave it unset to wait that long',
    ]);
  });
});

describe('Function: pauseExpiredReason', () => {
  it('names the limit that ran out, and for the maximum its setting', () => {
    expect(pauseExpiredReason(50, { seconds: 2, by: 'PauseTimeout' })).toBe('the rollout stayed paused at 50 % for longer than PauseTimeout (2 s) without ResumeRequested');
    expect(pauseExpiredReason(100, { seconds: DAY, by: 'MaxPause' })).toBe(
      'the rollout stayed paused at 100 % for longer than the maximum pause of this installation (86400 s, DEPLOYOMAT_MAX_PAUSE_SECONDS) without ResumeRequested',
    );
  });
});

describe('Function: pausedEvents', () => {
  it('announces when the pause rolls back and arms its timer, with the maximum when there is no PauseTimeout', () => {
    const since = Date.now();
    const [paused, timer] = pausedEvents(next, 1, 50, 'request', 'checking', { seconds: DAY, by: 'MaxPause' }, since);
    expect(paused).toEqual({ DetailType: 'RolloutPaused', Detail: { ...next, Step: 1, Percent: 50, By: 'request', Reason: 'checking', RollbackAt: iso(since + DAY * 1000) } });
    expect(timer).toMatchObject({ DetailType: 'PauseTimeoutDue', Detail: { ...next, PauseTimeout: DAY, Limit: 'MaxPause', DueAt: iso(since + DAY * 1000) } });
    expect(timer!.DelaySeconds).toBeGreaterThan(DAY - 1);
  });
});

describe('Function: armedPauseTimer', () => {
  it('is the timer the pause armed: same schedule name, and a schedule-length delay', () => {
    const since = Date.now();
    const limit = { seconds: DAY, by: 'MaxPause' as const };
    const [, armed] = pausedEvents(next, 1, 50, 'request', 'checking', limit, since);
    const found = armedPauseTimer(state({ pausedAt: since, rollbackAt: Date.parse(pauseRollbackAt(limit, since)) }))!;
    expect(scheduleName(found)).toBe(scheduleName(armed!));
    expect(found.DelaySeconds).toBe(DAY);
  });

  it('is the PauseTimeout for a pause before 0.2 (no RollbackAt recorded), and none without one', () => {
    expect(armedPauseTimer(state({ pausedAt: T0, config: { PauseTimeout: 3600 } }))?.DelaySeconds).toBe(3600);
    expect(armedPauseTimer(state({ pausedAt: T0 }))).toBeUndefined();
    expect(armedPauseTimer(state())).toBeUndefined();
  });
});
