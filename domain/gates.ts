import type { DeployConfig } from '../events/client';
import { describeAlarmStates, describeTripped, trippedAlarms } from './aws/alarms';
import { describeAsg, healthyInServiceCount } from './aws/auto-scaling';
import type { WorkloadClients } from './aws/clients';
import { countHealthyTargets } from './aws/target-groups';
import { DeployFailure } from './errors';
import type { DeployPlan } from './ledger';

/**
 * The checks that decide whether a rollout may go on: its CloudWatch alarms, and whether the new
 * group can carry the share of traffic a step sends it.
 */

/** Alarm gate: any of `RollbackAlarms` in ALARM (for at least AlarmGracePeriod) fails the deploy, naming it. */
export async function assertNoAlarms(w: WorkloadClients, config: DeployConfig, when: string): Promise<void> {
  const names = config.RollbackAlarms ?? [];
  if (!names.length) return;
  const { alarms, missing } = await describeAlarmStates(w.cloudwatch, names);
  if (missing.length) {
    // Fail safe: a gate that cannot be read is not a green light.
    throw new DeployFailure(`${when}: RollbackAlarms ${missing.map((m) => `"${m}"`).join(', ')} no longer exist in the workload account`);
  }
  const tripped = trippedAlarms(alarms, { graceSeconds: config.AlarmGracePeriod ?? 0, now: new Date() });
  if (tripped.length) throw new DeployFailure(`${when}: ${describeTripped(tripped)}`);
}

/**
 * Healthy instances of the new group: healthy targets (an instance counts once healthy in every
 * target group it serves, HTTP and gRPC alike), or InService + Healthy for a non-web service.
 */
export async function countHealthy(w: WorkloadClients, plan: Pick<DeployPlan, 'TargetGroups' | 'AsgName'>): Promise<number> {
  if (!plan.TargetGroups.length) return healthyInServiceCount(await describeAsg(w.autoscaling, plan.AsgName));
  const counts = await Promise.all(plan.TargetGroups.map((t) => countHealthyTargets(w.elb, t.Arn)));
  return Math.min(...counts);
}

/**
 * Healthy targets the new group needs before it may take `percent` of the traffic: that share of
 * the capacity it was sized for (production's desired capacity, within the template's min/max).
 */
export function neededHealthy(percent: number, capacity: number): number {
  if (!(percent >= 0 && percent <= 100) || !(capacity >= 0)) throw new RangeError(`bad percent ${percent} or capacity ${capacity}`);
  return Math.ceil((percent * capacity) / 100);
}

/** The PauseAtPercent entry a step from `previous` % to `percent` % reaches (each pauses once), if any. */
export function pauseReached(pauseAtPercent: readonly number[] | undefined, previous: number, percent: number): number | undefined {
  return [...(pauseAtPercent ?? [])].sort((a, b) => a - b).find((p) => p > previous && p <= percent);
}
