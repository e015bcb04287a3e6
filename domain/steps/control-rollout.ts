import type { DomainEvent } from '../../events/catalog';
import { parseCommand, PauseRequested, PromoteRequested, ResumeRequested, type RolloutCommand } from '../../events/client';
import type { EventEnvelope } from '../../events/envelope';
import { publish } from '../../events/publish';
import type { StepContext } from '../advance';
import { bakeTimer } from '../bake';
import { emit } from '../emit';
import type { ServiceKey, ServiceState, Transition } from '../ledger';
import { echoFields } from './echo';
import { pausedEvents, pauseLimit, pauseRollbackAt, withdrawPauseTimer } from '../pause';

/**
 * Steering a running rollout: PauseRequested, ResumeRequested, PromoteRequested. Each is one
 * conditional ledger transition, so the deploy's pending timers (next step, bake) go stale:
 * a paused rollout cannot advance, and resuming or promoting emits the next timer afresh.
 */
export type RolloutCommandType = 'PauseRequested' | 'ResumeRequested' | 'PromoteRequested';
const SCHEMAS = { PauseRequested, ResumeRequested, PromoteRequested } as const;

/** What a command does to the deploy in `state`, or why it cannot. */
type Decision = { ok: true; phase: Transition['phase']; set?: Transition['set']; remove?: Transition['remove']; emit: DomainEvent[]; log: string } | { ok: false; reason: string };

export async function controlRollout(ctx: StepContext, envelope: EventEnvelope): Promise<void> {
  const command = envelope['detail-type'] as RolloutCommandType;
  const parsed = parseCommand(SCHEMAS[command], envelope.detail);
  if (!parsed.ok) return reject(ctx, command, envelope.detail, parsed.reasons);
  const input = parsed.value;
  const key: ServiceKey = { AccountCanonicalSlug: input.AccountCanonicalSlug, ServiceName: input.ServiceName };
  ctx.log.appendKeys({ account: key.AccountCanonicalSlug, serviceName: key.ServiceName, command });

  for (let attempt = 1; attempt <= 5; attempt++) {
    const state = await ctx.ledger.getService(key);
    if (state?.OutboxCause === envelope.id) {
      ctx.log.info('Redelivered command already applied: publishing its outcome again');
      await emit(ctx.cp, ctx.cfg, state.Outbox);
      return;
    }
    if (state?.Commands?.includes(envelope.id)) {
      ctx.log.info('Late duplicate of a command already applied: dropping it');
      return;
    }
    const where = `${key.ServiceName} in ${key.AccountCanonicalSlug}`;
    if (!state || !['Starting', 'WaitingHealthy', 'Shifting', 'Baking', 'Paused'].includes(state.Phase)) {
      return reject(ctx, command, envelope.detail, [`No deployment of ${where} active`]);
    }
    if (input.DeployId && input.DeployId !== state.ActiveDeployId) {
      return reject(ctx, command, envelope.detail, [`Deploy ${input.DeployId} is not the one running for ${where} (${state.ActiveDeployId} is)`]);
    }
    ctx.log.appendKeys({ deployId: state.ActiveDeployId });
    const decision = decide(ctx, command, input, state);
    if (!decision.ok) return reject(ctx, command, envelope.detail, [decision.reason]);
    const moved = await ctx.ledger.advance(key, {
      deployId: state.ActiveDeployId,
      fromSeq: state.Seq,
      cause: envelope.id,
      phase: decision.phase,
      set: { ...decision.set, Commands: [...(state.Commands ?? []).slice(-19), envelope.id] },
      remove: decision.remove,
      outbox: decision.emit,
    });
    if (moved) {
      ctx.log.info(decision.log, { fromPhase: state.Phase, phase: decision.phase });
      await emit(ctx.cp, ctx.cfg, decision.emit);
      // Resumed or promoted: the pause's timer is stale now; its schedule need not linger.
      if (state.Phase === 'Paused') await withdrawPauseTimer(ctx, state);
      return;
    }
    ctx.log.info('The ledger moved while applying the command: looking again', { attempt });
  }
  throw new Error(`Could not apply ${command}: the ledger kept changing`);
}

function decide(ctx: StepContext, command: RolloutCommandType, input: RolloutCommand, state: ServiceState): Decision {
  const next = { DeployId: state.ActiveDeployId, AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName, Seq: state.Seq + 1 };
  const percent = state.Progress?.Percent ?? 0;
  const step = state.Progress?.Step ?? 0;
  const now = Date.now();
  const notYet = `it is ${state.Phase === 'Starting' ? 'starting' : 'waiting for healthy instances'}; traffic has not started to move`;
  const stoodSeconds = state.Paused ? (now - Date.parse(state.Paused.Since)) / 1000 : 0;

  switch (command) {
    case 'PauseRequested': {
      if (state.Phase === 'Paused') return { ok: false, reason: `The rollout is already paused (${state.Paused?.Reason})` };
      if (state.Phase !== 'Shifting' && state.Phase !== 'Baking') return { ok: false, reason: `Cannot pause yet: ${notYet}` };
      const reason = input.Reason ?? 'paused by request';
      const fromBake = state.Phase === 'Baking';
      const bakeEndsAt = state.Progress?.BakeEndsAt ? Date.parse(state.Progress.BakeEndsAt) : now;
      // A step held for capacity stops holding: its time so far counts as standing still.
      const heldSeconds = state.Progress?.HeldSince ? (now - Date.parse(state.Progress.HeldSince)) / 1000 : 0;
      const limit = pauseLimit(state.Request.Config, ctx.cfg.maxPauseSeconds);
      return {
        ok: true,
        phase: 'Paused',
        set: {
          ...(heldSeconds ? { PausedSeconds: (state.PausedSeconds ?? 0) + heldSeconds, Progress: { Step: step, Percent: percent, BakeEndsAt: state.Progress?.BakeEndsAt } } : {}),
          Paused: {
            Since: new Date(now).toISOString(),
            FromPhase: fromBake ? 'Baking' : 'Shifting',
            ...(fromBake ? { BakeRemainingMs: Math.max(0, bakeEndsAt - now) } : { NextStep: step + 1 }),
            By: 'request',
            Reason: reason,
            RollbackAt: pauseRollbackAt(limit, now),
          },
        },
        emit: pausedEvents(next, step, fromBake ? 100 : percent, 'request', reason, limit, now),
        log: 'Rollout paused',
      };
    }
    case 'ResumeRequested': {
      if (state.Phase !== 'Paused' || !state.Paused) return { ok: false, reason: `The rollout is not paused (it is ${state.Phase})` };
      const paused = state.Paused;
      const resumed: DomainEvent = { DetailType: 'RolloutResumed', Detail: { ...next, PausedSeconds: Math.round(stoodSeconds * 10) / 10, Reason: input.Reason } };
      return {
        ok: true,
        phase: paused.FromPhase,
        set: { PausedSeconds: (state.PausedSeconds ?? 0) + stoodSeconds, ...(paused.FromPhase === 'Baking' ? { Progress: bakeProgress(state, now + (paused.BakeRemainingMs ?? 0)) } : {}) },
        remove: ['Paused'],
        emit: [resumed, paused.FromPhase === 'Baking' ? bakeTimer(ctx.cfg, state.Request, next, now, paused.BakeRemainingMs ?? 0) : shiftNow(next, paused.NextStep ?? step + 1)],
        log: 'Rollout resumed',
      };
    }
    case 'PromoteRequested': {
      const from = state.Phase === 'Paused' ? state.Paused?.FromPhase : state.Phase;
      if (from !== 'Shifting' && from !== 'Baking') return { ok: false, reason: `Cannot promote yet: ${notYet}` };
      const promoted: DomainEvent = {
        DetailType: 'RolloutPromoted',
        Detail: { ...next, FromPhase: state.Phase, FromPercent: from === 'Baking' ? 100 : percent, Reason: input.Reason },
      };
      const plan = state.Plan!;
      return {
        ok: true,
        phase: from,
        set: { Promoted: true, PausedSeconds: (state.PausedSeconds ?? 0) + stoodSeconds, ...(from === 'Baking' ? { Progress: bakeProgress(state, now) } : {}) },
        remove: state.Paused ? ['Paused'] : undefined,
        // Shifting: the last step now (the step still checks alarms and capacity). Baking: the bake ends now.
        emit: [promoted, from === 'Baking' ? { DetailType: 'BakeElapsed', Detail: { ...next, BakeTime: 0 } } : shiftNow(next, plan.Rollout === 'web' ? plan.Steps : 1)],
        log: 'Rollout promoted',
      };
    }
  }
}

const shiftNow = (next: { DeployId: string; AccountCanonicalSlug: string; ServiceName: string; Seq: number }, step: number): DomainEvent => ({
  DetailType: 'TrafficShiftDue',
  Detail: { ...next, Step: step },
});

function bakeProgress(state: ServiceState, endsAtMs: number) {
  return { Step: state.Progress?.Step ?? 0, Percent: state.Progress?.Percent ?? 100, BakeEndsAt: new Date(endsAtMs).toISOString() };
}

async function reject(ctx: StepContext, command: RolloutCommandType, detail: unknown, reasons: string[]) {
  const { AccountCanonicalSlug, ServiceName, DeployId } = echoFields(detail);
  ctx.log.warn('Rollout command rejected', { command, reasons });
  await publish(ctx.cp.events, ctx.cfg.busName, [{ DetailType: 'RolloutCommandRejected', Detail: { Command: command, AccountCanonicalSlug, ServiceName, DeployId, Reasons: reasons } }]);
}
