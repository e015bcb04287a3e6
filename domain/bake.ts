import type { DomainEvent } from '../events/catalog';
import type { Config } from './config';
import { dueAt } from './emit';
import type { DeployRequest } from './ledger';

interface NextRef {
  DeployId: string;
  AccountCanonicalSlug: string;
  ServiceName: string;
  Seq: number;
}

/**
 * The bake's timer from `fromMs` for `bakeMs`: BakeElapsed at its end; with RollbackAlarms, a
 * BakeCheckDue every alarm-check interval first, so a tripped alarm rolls back during the bake,
 * not only at its end.
 */
export function bakeTimer(cfg: Pick<Config, 'alarmCheckIntervalSeconds'>, request: Pick<DeployRequest, 'Config'>, next: NextRef, fromMs: number, bakeMs: number): DomainEvent {
  const endsAt = fromMs + bakeMs;
  const BakeTime = request.Config.BakeTime;
  if (!request.Config.RollbackAlarms?.length || bakeMs <= 0) {
    return dueAt(endsAt, { DetailType: 'BakeElapsed', Detail: { ...next, BakeTime } });
  }
  return bakeCheck(cfg, next, fromMs, endsAt);
}

/** The next alarm check of a bake ending at `endsAtMs`, an interval after `fromMs` (never past the end). */
export function bakeCheck(cfg: Pick<Config, 'alarmCheckIntervalSeconds'>, next: NextRef, fromMs: number, endsAtMs: number): DomainEvent {
  const due = Math.min(fromMs + cfg.alarmCheckIntervalSeconds * 1000, endsAtMs);
  return dueAt(due, { DetailType: 'BakeCheckDue', Detail: { ...next, BakeEndsAt: new Date(endsAtMs).toISOString() } });
}
