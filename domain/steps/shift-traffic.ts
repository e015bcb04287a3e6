import type { Detail, DomainEvent } from '../../events/catalog';
import { workloadAs, type WorkloadClients } from '../aws/clients';
import { coalesceRule, readRuleWeights, setRuleWeights } from '../aws/listener-rules';
import { refOf, runStep, type Guard, type StepContext, type StepOutcome } from '../advance';
import { bakeTimer } from '../bake';
import { DeployFailure } from '../errors';
import { assertNoAlarms, countHealthy, neededHealthy, pauseReached } from '../gates';
import type { ServiceState } from '../ledger';
import { dueAt, dueTimeOf } from '../emit';
import { percentAtStep, weightsAtPercent } from '../weights';
import { pausedEvents, pauseLimit, pauseRollbackAt } from '../pause';

/**
 * InstancesHealthy / TrafficShiftDue → the traffic step: gates first (RollbackAlarms; enough
 * healthy targets for the step's share, else the step is held and retried), then the absolute
 * weights of `step` on every live rule, read back → TrafficShifted, and then the next step after
 * WaitPerStep, a pause (PauseAtPercent), or at 100 % the rules coalesced and the bake.
 * First deploys and non-web services go straight to bake.
 */
export async function shiftTraffic(ctx: StepContext, event: Detail<'InstancesHealthy'> | Detail<'TrafficShiftDue'>, step: number) {
  await runStep(ctx, event, (state, guard) => shift(ctx, state, event.Seq, step, dueTimeOf('DueAt' in event ? event : {}), guard));
}

/** `due`: when this step was due; the next step and the bake are counted from it. */
async function shift(ctx: StepContext, state: ServiceState, seq: number, requestedStep: number, due: number, guard: Guard): Promise<StepOutcome> {
  const plan = state.Plan!;
  const config = state.Request.Config;
  const ref = { AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName, DeployId: state.ActiveDeployId, Seq: seq };
  const next = { ...refOf(ref), Seq: seq + 1 };

  if (plan.Rollout !== 'web') {
    ctx.log.info('No gradual rollout for this deploy: baking', { rollout: plan.Rollout });
    const bakeMs = state.Promoted ? 0 : config.BakeTime * 1000;
    return { phase: 'Baking', set: { Progress: { Step: 0, Percent: 100, BakeEndsAt: new Date(due + bakeMs).toISOString() } }, emit: [bakeTimer(ctx.cfg, state.Request, next, due, bakeMs)] };
  }

  // A promoted rollout goes straight to the last step.
  const step = state.Promoted ? plan.Steps : requestedStep;
  const percent = percentAtStep(step, config.TrafficShiftPerStep);
  const w = await workloadAs(plan.RoleArn, state.ActiveDeployId, state, ctx.cfg.roleExternalId);
  await assertNoAlarms(w, config, `Before traffic step ${step} (${percent} %)`);

  const healthy = await countHealthy(w, plan);
  const needed = neededHealthy(percent, plan.MinSize);
  if (healthy < needed) return hold(ctx, state, next, step, percent, healthy, needed);

  for (const rule of plan.Rules) {
    await guard();
    if (percent === 100) await coalesceRule(w.elb, rule);
    else await setRuleWeights(w.elb, rule, percent);
  }
  const actual = await readBack(w, state, percent);
  ctx.log.info('Shifted traffic', { step, steps: plan.Steps, percent, actualPercent: actual.ActualPercent, healthy, needed });

  // A step that was held starts the clock again when it finally goes: the waits count from now.
  const heldMs = state.Progress?.HeldSince ? Date.now() - Date.parse(state.Progress.HeldSince) : 0;
  const from = heldMs > 0 ? Date.now() : due;
  const stood = { PausedSeconds: (state.PausedSeconds ?? 0) + heldMs / 1000 };
  const shifted: DomainEvent = {
    DetailType: 'TrafficShifted',
    Detail: { ...next, Step: step, Steps: plan.Steps, Percent: percent, ...actual, Healthy: healthy, Needed: needed },
  };
  if (percent === 100) {
    const bakeMs = state.Promoted ? 0 : config.BakeTime * 1000;
    return {
      phase: 'Baking',
      set: { ...stood, Progress: { Step: step, Percent: percent, BakeEndsAt: new Date(from + bakeMs).toISOString() } },
      history: { ShiftedAt: new Date().toISOString() },
      emit: [shifted, bakeTimer(ctx.cfg, state.Request, next, from, bakeMs)],
    };
  }
  const previous = step > 1 ? percentAtStep(step - 1, config.TrafficShiftPerStep) : 0;
  const pauseAt = state.Promoted ? undefined : pauseReached(config.PauseAtPercent, previous, percent);
  if (pauseAt !== undefined) {
    const reason = `PauseAtPercent ${pauseAt} % reached`;
    const since = Date.now();
    const limit = pauseLimit(config, ctx.cfg.maxPauseSeconds);
    ctx.log.info('Pausing the rollout', { step, percent, pauseAt, limit });
    return {
      phase: 'Paused',
      set: {
        ...stood,
        Progress: { Step: step, Percent: percent },
        Paused: {
          Since: new Date(since).toISOString(),
          FromPhase: 'Shifting',
          NextStep: step + 1,
          By: 'PauseAtPercent',
          Reason: reason,
          RollbackAt: pauseRollbackAt(limit, since),
        },
      },
      emit: [shifted, ...pausedEvents(next, step, percent, 'PauseAtPercent', reason, limit, since)],
    };
  }
  return {
    phase: 'Shifting',
    set: { ...stood, Progress: { Step: step, Percent: percent } },
    emit: [shifted, dueAt(from + config.WaitPerStep * 1000, { DetailType: 'TrafficShiftDue', Detail: { ...next, Step: step + 1 } })],
  };
}

/** The new group cannot carry the step yet: wait a health-check interval, up to HealthTimeout. */
function hold(ctx: StepContext, state: ServiceState, next: ReturnType<typeof refOf> & { Seq: number }, step: number, percent: number, healthy: number, needed: number): StepOutcome {
  const since = state.Progress?.HeldSince ?? new Date().toISOString();
  const heldSeconds = Math.round((Date.now() - Date.parse(since)) / 100) / 10;
  const timeout = state.Request.Config.HealthTimeout;
  if (heldSeconds >= timeout) {
    throw new DeployFailure(
      `Traffic step ${step} (${percent} %) needs ${needed} healthy targets in ${state.Plan!.AsgName}; only ${healthy} were healthy for ${timeout} s (HealthTimeout)`,
    );
  }
  ctx.log.warn('Holding the traffic step: the new group is short of healthy targets', { step, percent, healthy, needed, heldSeconds });
  return {
    phase: 'Shifting',
    set: { Progress: { Step: state.Progress?.Step ?? 0, Percent: state.Progress?.Percent ?? 0, HeldSince: since } },
    emit: [
      { DetailType: 'TrafficShiftHeld', Detail: { ...next, Step: step, Percent: percent, Healthy: healthy, Needed: needed, HeldSeconds: heldSeconds } },
      dueAt(Date.now() + ctx.cfg.healthCheckIntervalSeconds * 1000, { DetailType: 'TrafficShiftDue', Detail: { ...next, Step: step } }),
    ],
  };
}

/**
 * ELBv2 reads are eventually consistent (AWS documents it): a rule read right after ModifyRule may
 * still show its old weights. So the read-back is repeated, with backoff, until every rule shows
 * what was just set; only a difference that lasts (someone else changed the rule) is reported.
 */
const READ_BACK_BACKOFF_MS = [100, 200, 400, 800, 1600, 3200];

async function readBack(w: WorkloadClients, state: ServiceState, percent: number) {
  const plan = state.Plan!;
  const expected = new Map(plan.Rules.map((r) => [r.ruleArn, r.productionTargetGroupArn && percent < 100 ? weightsAtPercent(percent).next : 100]));
  for (let attempt = 0; ; attempt++) {
    const weights = await readRuleWeights(w.elb, plan.Rules.map((r) => r.ruleArn), plan.TargetGroups.map((t) => t.Arn));
    const settled = weights.length === expected.size && weights.every((x) => x.NewPercent === expected.get(x.RuleArn));
    if (settled || attempt >= READ_BACK_BACKOFF_MS.length) {
      return { RuleWeights: weights, ActualPercent: weights.length ? Math.min(...weights.map((x) => x.NewPercent)) : 0 };
    }
    await new Promise((r) => setTimeout(r, READ_BACK_BACKOFF_MS[attempt]));
  }
}
