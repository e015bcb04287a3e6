import type { DomainEvent } from '../events/catalog';
import type { StepContext } from './advance';
import type { ServiceState } from './ledger';
import { stepCount } from './weights';

/**
 * The watchdog: a deploy that has not finished by its expected duration plus a margin is rolled
 * back, so nothing can stay "in progress" forever (a lost event, a stuck step).
 */
export function deadlineTimer(ctx: Pick<StepContext, 'cfg'>, state: ServiceState): DomainEvent {
  const c = state.Request.Config;
  const expected = c.HealthTimeout + stepCount(c.TrafficShiftPerStep) * c.WaitPerStep + c.BakeTime;
  const deadline = Math.ceil(expected + ctx.cfg.deadlineMarginSeconds);
  return {
    DetailType: 'DeployDeadlinePassed',
    Detail: { AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName, DeployId: state.ActiveDeployId, Seq: 1, DeadlineSeconds: deadline },
    DelaySeconds: deadline,
  };
}

