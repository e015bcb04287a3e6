import type { Logger } from '@aws-lambda-powertools/logger';
import type { DomainEvent } from '../events/catalog';
import type { ControlPlane } from './aws/clients';
import type { Config } from './config';
import { emit } from './emit';
import { DeployFailure, RejectedError } from './errors';
import { Ledger, type Phase, type ServiceKey, type ServiceState, type Transition } from './ledger';

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
  history?: Record<string, unknown>;
  emit: DomainEvent[];
}

/**
 * Runs one step of a deploy, at most once per ledger position:
 * - the deploy no longer holds the service, or the ledger is elsewhere → the event is stale: drop it;
 * - the ledger already moved past this event *because of this very event* (a redelivery after a
 *   crash between the write and the publish) → publish the recorded outbox again;
 * - otherwise do the work, record the transition conditionally, then publish.
 * An expected failure (DeployFailure) ends the deploy with DeployFailed.
 */
export async function runStep(ctx: StepContext, ref: DeployRef, work: (state: ServiceState) => Promise<StepOutcome>): Promise<void> {
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
  let outcome: StepOutcome;
  try {
    outcome = await work(state);
  } catch (err) {
    if (!(err instanceof DeployFailure || err instanceof RejectedError)) throw err;
    outcome = failed(ref, state, err.message);
  }
  const moved = await ctx.ledger.advance(ref, {
    deployId: ref.DeployId,
    fromSeq: ref.Seq,
    cause: ctx.eventId,
    phase: outcome.phase,
    set: outcome.set,
    history: outcome.history,
    outbox: outcome.emit,
  });
  if (!moved) {
    ctx.log.info('Another delivery moved the ledger first: dropping this one', { seq: ref.Seq });
    return;
  }
  ctx.log.info('Step done', { phase: outcome.phase, seq: ref.Seq + 1, emits: outcome.emit.map((e) => e.DetailType) });
  await emit(ctx.cp, ctx.cfg, outcome.emit);
}

/** The deploy ends failed, holding the service until it is rolled back. */
export function failed(ref: DeployRef, state: ServiceState, error: string): StepOutcome {
  return {
    phase: 'Failed',
    history: { Result: 'Failed', Errors: [error], FinishedAt: new Date().toISOString() },
    emit: [
      {
        DetailType: 'DeployFailed',
        Detail: { ...refOf(ref), Seq: ref.Seq + 1, Phase: state.Phase, Errors: [error] },
      },
    ],
  };
}

export function refOf(ref: DeployRef) {
  return { DeployId: ref.DeployId, AccountCanonicalSlug: ref.AccountCanonicalSlug, ServiceName: ref.ServiceName };
}
