import type { ObservedEvent } from './observer';

/** A text bar of traffic on the new version vs the old one. */
export function trafficBar(percent: number, width = 20): string {
  const filled = Math.round((percent / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% new / ${100 - percent}% old`;
}

/** One human line per lifecycle event, for the demo and the local runtime's watch output. */
export function describeEvent(e: ObservedEvent): string {
  const d = e.detail as Record<string, unknown>;
  switch (e.detailType) {
    case 'DeployRejected':
      return `rejected: ${(d.Reasons as string[]).join('; ')}`;
    case 'AsgCloned':
      return `cloned ${d.AsgName} from ${d.AmiId} (min ${d.MinSize}, max ${d.MaxSize}), rollout: ${d.Rollout}`;
    case 'HealthCheckDue':
      return `waiting for healthy instances: ${d.Healthy}/${d.Wanted}`;
    case 'InstancesHealthy':
      return `healthy: ${d.Healthy}/${d.Wanted} after ${d.WaitedSeconds} s`;
    case 'TrafficShifted':
      return `step ${d.Step}/${d.Steps} ${trafficBar(d.Percent as number)}`;
    case 'TrafficShiftDue':
      return `next traffic step (${d.Step}) due`;
    case 'BakeElapsed':
      return `bake of ${d.BakeTime} s done`;
    case 'DeployCompleted':
      return `completed in ${d.DurationSeconds} s${d.PreviousAsgName ? `; removed ${d.PreviousAsgName}` : ''}`;
    case 'DeployFailed':
      return `FAILED in ${d.Phase} (rolled back): ${(d.Errors as string[]).join('; ')}`;
    case 'RollbackStarted':
      return `rolling back (${d.Cause}, was ${d.FromPhase}): ${d.Reason}`;
    case 'TrafficRestored': {
      const restored = (d.RestoredRuleArns as string[]).length;
      const deleted = (d.DeletedRuleArns as string[]).length;
      return `traffic back on production: ${restored} rule(s) at 100 %, ${deleted} rule(s) deleted; draining ${d.DrainSeconds} s`;
    }
    case 'DrainElapsed':
      return 'drained: deleting the deploy\'s ASG and target group';
    case 'DeployCancelled':
      return `cancelled (was ${d.FromPhase}) after ${d.DurationSeconds} s: ${d.Reason}`;
    case 'RollbackFailed':
      return `ROLLBACK STUCK: ${(d.Errors as string[]).join('; ')}`;
    case 'CancelRejected':
      return `cancel refused: ${(d.Reasons as string[]).join('; ')}`;
    case 'QueuedDeployReady':
      return 'the rollback it waited for is over: starting';
    case 'UndeployCompleted':
      return `undeployed ${d.AsgName} in ${d.DurationSeconds} s`;
    case 'UndeployRejected':
      return `undeploy refused: ${(d.Reasons as string[]).join('; ')}`;
    case 'UndeployFailed':
      return `UNDEPLOY FAILED: ${(d.Errors as string[]).join('; ')}`;
    case 'DeployDeadlinePassed':
      return `deadline check (${d.DeadlineSeconds} s; time paused or held does not count)`;
    case 'TrafficShiftHeld':
      return `holding step ${d.Step} (${d.Percent} %): ${d.Healthy}/${d.Needed} healthy targets, ${d.HeldSeconds} s`;
    case 'RolloutPaused':
      return `paused at ${d.Percent} % (${d.By}): ${d.Reason}${d.RollbackAt ? `; rolls back at ${d.RollbackAt}` : ''}`;
    case 'RolloutResumed':
      return `resumed after ${d.PausedSeconds} s paused`;
    case 'RolloutPromoted':
      return `promoted from ${d.FromPercent} %: remaining steps and bake skipped`;
    case 'RolloutCommandRejected':
      return `${d.Command} refused: ${(d.Reasons as string[]).join('; ')}`;
    case 'BakeCheckDue':
      return 'alarm check during the bake';
    case 'DeployPlanned':
      return `dry run planned: ${d.Rollout}, ${d.AsgName}, ${(d.Rules as unknown[]).length} rule(s); nothing changed`;
    default:
      return e.detailType;
  }
}
