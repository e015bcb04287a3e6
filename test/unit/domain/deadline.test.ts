import { describe, expect, it } from 'vitest';
import { decideDeadline, PAUSE_BACKSTOP_SECONDS } from '../../../domain/deadline';
import { pauseExpiredReason } from '../../../domain/pause';
import { serviceState as state, T0 } from './service-state';

const DAY = 86_400;
const next = { DeployId: 'shop-2', AccountCanonicalSlug: 'acme', ServiceName: 'shop' };

describe('Function: decideDeadline', () => {
  // Expected: HealthTimeout 300 + 2 steps × 15 s + BakeTime 60 + margin 600 s.
  const d = { ...next, Seq: 1, DeadlineSeconds: 990 };
  const at = (seconds: number) => T0 + seconds * 1000;

  it('drops the deadline of a deploy that is no longer running', () => {
    expect(decideDeadline(undefined, d, at(1000), DAY)).toEqual({ kind: 'drop' });
    expect(decideDeadline(state({ phase: 'Completed' }), d, at(1000), DAY)).toEqual({ kind: 'drop' });
  });

  it('rolls back a running deploy past its deadline, and looks again at one that is not yet', () => {
    expect(decideDeadline(state(), d, at(1000), DAY)).toEqual({ kind: 'rollback', cause: 'deadline', reason: 'the deploy did not finish within its deadline of 990 s (stuck in Shifting)' });
    expect(decideDeadline(state(), d, at(900), DAY)).toEqual({ kind: 'rearm', delaySeconds: 90, stoodSeconds: 0 });
  });

  it('does not count a step held for capacity, and looks again at least a minute later', () => {
    expect(decideDeadline(state({ heldSince: at(900) }), d, at(1000), DAY)).toEqual({ kind: 'rearm', delaySeconds: 90, stoodSeconds: 100 });
    expect(decideDeadline(state({ heldSince: at(980) }), d, at(1000), DAY)).toEqual({ kind: 'rearm', delaySeconds: 60, stoodSeconds: 20 });
  });

  it('does not count a pause within its limit, looking again no later than the backstop after the limit', () => {
    // Paused at 100 s: 890 s of the deadline left; the pause rolls back at 100 s + a day.
    expect(decideDeadline(state({ pausedAt: at(100) }), d, at(1000), DAY)).toEqual({ kind: 'rearm', delaySeconds: 890, stoodSeconds: 900 });
    const nearTheEnd = at(100 + DAY - 30);
    expect(decideDeadline(state({ pausedAt: at(100) }), d, nearTheEnd, DAY)).toMatchObject({ kind: 'rearm', delaySeconds: 30 + PAUSE_BACKSTOP_SECONDS });
    // Past the limit but within the backstop: the pause's own timer acts first.
    expect(decideDeadline(state({ pausedAt: at(100) }), d, at(100 + DAY + 10), DAY)).toMatchObject({ kind: 'rearm', delaySeconds: PAUSE_BACKSTOP_SECONDS - 10 });
  });

  it("rolls back a pause past its limit whose timer was lost, or never armed (a pause before 0.2 without PauseTimeout)", () => {
    const lost = decideDeadline(state({ pausedAt: at(100), config: { PauseTimeout: 600 } }), d, at(100 + 600 + PAUSE_BACKSTOP_SECONDS), DAY);
    expect(lost).toEqual({ kind: 'rollback', cause: 'failure', reason: 'the rollout stayed paused at 50 % for longer than PauseTimeout (600 s) without ResumeRequested' });
    const old = decideDeadline(state({ pausedAt: at(100) }), d, at(100 + 3 * DAY), DAY);
    expect(old).toEqual({ kind: 'rollback', cause: 'failure', reason: pauseExpiredReason(50, { seconds: DAY, by: 'MaxPause' }) });
  });
});
