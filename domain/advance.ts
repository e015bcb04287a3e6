import type { Logger } from '@aws-lambda-powertools/logger';
import type { DomainEvent } from '../events/catalog';
import type { ControlPlane } from './aws/clients';
import type { Config } from './config';
import { emit } from './emit';
import { DeployFailure, RejectedError, SupersededError } from './errors';
import { withdrawPauseTimer } from './pause';
import { isActiveDeploy, Ledger, type Phase, type ServiceKey, type ServiceState, type Transition } from './ledger';

/** What every step gets: configuration, clients, the ledger, a logger carrying the deploy's keys. */
export interface StepContext {
  cfg: Config;
  cp: ControlPlane;
  ledger: Ledger;
  log: Logger;
  /** Id of the EventBridge event being handled (the same on every redelivery of it). */
  eventId: string;
}

export interface DeployRef extends ServiceKey {
  DeployId: string;
  Seq: number;
}

/** What a step decided: the next phase, what to record, and the events that follow. */
export interface StepOutcome {
  phase: Phase;
  set?: Transition['set'];
  remove?: Transition['remove'];
  expectWaiting?: Transition['expectWaiting'];
  history?: Record<string, unknown>;
  historyOf?: Transition['historyOf'];
  emit: DomainEvent[];
}

/**
 * Runs one step of a deploy, at most once per ledger position:
 * - the deploy no longer holds the service, or the ledger is elsewhere → the event is stale: drop it;
 * - the ledger already moved past this event *because of this very event* (a redelivery after a
 *   crash between the write and the publish) → publish the recorded outbox again;
 * - otherwise do the work, record the transition conditionally, then publish.
 * An expected failure (DeployFailure) starts the rollback; the deploy ends with DeployFailed once
 * production is safe again.
 */
/** A step may re-run its (idempotent) work this often when a concurrent write beat its transition. */
const MAX_ATTEMPTS = 3;

/**
 * Throws SupersededError unless the ledger is still where the step started. Steps call it between
 * AWS changes, so a step that was overtaken (cancelled, rolled back) stops changing things.
 */
export type Guard = () => Promise<void>;

export async function runStep(
  ctx: StepContext,
  ref: DeployRef,
  work: (state: ServiceState, guard: Guard) => Promise<StepOutcome>,
): Promise<void> {
  const guard: Guard = async () => {
    const now = await ctx.ledger.getService(ref);
    if (now?.ActiveDeployId !== ref.DeployId || now.Seq !== ref.Seq) throw new SupersededError(ref);
  };
  for (let attempt = 1; ; attempt++) {
    const state = await ctx.ledger.getService(ref);
    if (!state || state.ActiveDeployId !== ref.DeployId) {
      ctx.log.info('Dropping event: this deploy no longer holds the service', { holder: state?.ActiveDeployId });
      return;
    }
    if (state.Seq === ref.Seq + 1 && state.OutboxCause === ctx.eventId) {
      ctx.log.info('Redelivered event already handled: publishing its outcome again', { seq: state.Seq });
      await emit(ctx.cp, ctx.cfg, state.Outbox);
      return;
    }
    if (state.Seq !== ref.Seq) {
      ctx.log.info('Dropping stale event', { eventSeq: ref.Seq, ledgerSeq: state.Seq, phase: state.Phase });
      return;
    }
    let outcome: StepOutcome & { remove?: Transition['remove']; expectWaiting?: Transition['expectWaiting'] };
    try {
      outcome = await work(state, guard);
    } catch (err) {
      if (err instanceof SupersededError) {
        ctx.log.info('Step overtaken by a later transition (e.g. a cancel): stopping', { seq: ref.Seq });
        return;
      }
      if (err instanceof DeployFailure || err instanceof RejectedError) {
        outcome = rollingBack(ref, state, 'failure', err.message);
      } else {
        await ctx.ledger.noteError(ref, ref.DeployId, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
        throw err;
      }
    }
    const moved = await ctx.ledger.advance(ref, {
      deployId: ref.DeployId,
      fromSeq: ref.Seq,
      cause: ctx.eventId,
      phase: outcome.phase,
      set: outcome.set,
      remove: outcome.remove,
      expectWaiting: outcome.expectWaiting,
      history: outcome.history,
      historyOf: outcome.historyOf,
      outbox: outcome.emit,
    });
    if (moved) {
      ctx.log.info('Step done', { phase: outcome.phase, seq: ref.Seq + 1, emits: outcome.emit.map((e) => e.DetailType) });
      await emit(ctx.cp, ctx.cfg, outcome.emit);
      return;
    }
    // Someone else wrote first: if the ledger is still here (a request queued meanwhile), decide again.
    if (attempt >= MAX_ATTEMPTS) throw new Error(`Ledger of ${ref.ServiceName} kept changing under step at seq ${ref.Seq}`);
    ctx.log.info('The ledger changed during the step: looking again', { seq: ref.Seq, attempt });
  }
}

export type RollbackCause = NonNullable<ServiceState['Rollback']>['Cause'];

/** The deploy stops where it is and is rolled back: its pending steps and timers become stale. */
export function rollingBack(ref: DeployRef, state: ServiceState, cause: RollbackCause, reason: string): StepOutcome {
  const fromPhase = state.Phase === 'RollingBack' ? (state.Rollback?.FromPhase ?? state.Phase) : state.Phase;
  return {
    phase: 'RollingBack',
    set: { Rollback: state.Rollback ?? { Cause: cause, Reason: reason, FromPhase: fromPhase, StartedAt: new Date().toISOString() } },
    history: cause === 'failure' || cause === 'deadline' ? { Errors: [reason] } : { CancelReason: reason },
    emit: [
      {
        DetailType: 'RollbackStarted',
        Detail: { ...refOf(ref), Seq: ref.Seq + 1, Cause: state.Rollback?.Cause ?? cause, Reason: state.Rollback?.Reason ?? reason, FromPhase: fromPhase },
      },
    ],
  };
}

/**
 * Rolls back `deployId` from whatever position it is at (cancel, deadline, a newer deploy, a
 * dead-lettered step). With `restart`, a rollback already running starts over (retrying one
 * that got stuck). Returns the state it acted on, or `undefined` if the deploy is not in flight.
 */
export async function interrupt(
  ctx: StepContext,
  key: ServiceKey,
  deployId: string,
  cause: RollbackCause,
  reason: string,
  /** `commandId`: the client command that asked (kept, so a late duplicate of it is not applied again). */
  opts: { restart?: boolean; commandId?: string } = {},
): Promise<ServiceState | undefined> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const state = await ctx.ledger.getService(key);
    if (!state || state.ActiveDeployId !== deployId) return undefined;
    const restartable = opts.restart && state.Phase === 'RollingBack';
    if (!isActiveDeploy(state.Phase) && !restartable) return undefined;
    const ref = { ...key, DeployId: deployId, Seq: state.Seq };
    const outcome = rollingBack(ref, state, cause, reason);
    const moved = await ctx.ledger.advance(key, {
      deployId,
      fromSeq: state.Seq,
      cause: ctx.eventId,
      phase: outcome.phase,
      set: { ...outcome.set, ...(opts.commandId ? { Commands: [...(state.Commands ?? []).slice(-19), opts.commandId] } : {}) },
      history: outcome.history,
      outbox: outcome.emit,
    });
    if (moved) {
      ctx.log.info('Rollback started', { cause, reason, fromPhase: state.Phase });
      await emit(ctx.cp, ctx.cfg, outcome.emit);
      await withdrawPauseTimer(ctx, state);
      return state;
    }
  }
  throw new Error(`Could not interrupt deploy ${deployId}: its ledger kept changing`);
}

export function refOf(ref: DeployRef) {
  return { DeployId: ref.DeployId, AccountCanonicalSlug: ref.AccountCanonicalSlug, ServiceName: ref.ServiceName };
}
