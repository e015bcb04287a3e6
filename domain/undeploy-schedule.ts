import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { createHash } from 'node:crypto';
import { CLIENT_SOURCE } from '../events/client';
import type { ControlPlane } from './aws/clients';
import type { Config } from './config';
import { atExpression } from './emit';
import type { ServiceKey } from './ledger';

/**
 * `DeployConfig.AutomaticUndeployMinutes`: one named Scheduler schedule per service that
 * publishes `UndeployRequested` when due. A later deploy replaces or removes it; an undeploy
 * removes it.
 */
export function automaticUndeployName(key: ServiceKey): string {
  const hash = createHash('sha256').update(`${key.AccountCanonicalSlug}#${key.ServiceName}`).digest('hex').slice(0, 12);
  const head = `undeploy-${key.ServiceName}`.replace(/[^0-9A-Za-z_.-]/g, '_').slice(0, 50);
  return `${head}-${hash}`;
}

export async function scheduleAutomaticUndeploy(cp: ControlPlane, cfg: Config, key: ServiceKey, minutes: number): Promise<void> {
  const target = { group: cfg.scheduleGroup, busArn: cfg.busArn, roleArn: cfg.schedulerRoleArn };
  await scheduleAutomaticUndeployAt(cp.scheduler, target, key, new Date(Date.now() + minutes * 60_000));
}

/** Where a schedule publishes, as whom: the installation's group, bus and scheduler role. */
export interface UndeployScheduleTarget {
  group: string;
  busArn: string;
  roleArn: string;
}

/** Creates (or moves) the service's automatic undeploy to `at`. */
export async function scheduleAutomaticUndeployAt(scheduler: SchedulerClient, target: UndeployScheduleTarget, key: ServiceKey, at: Date): Promise<void> {
  const input: CreateScheduleCommandInput = {
    Name: automaticUndeployName(key),
    GroupName: target.group,
    ScheduleExpression: atExpression(at),
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Description: `Automatic undeploy of ${key.ServiceName} in ${key.AccountCanonicalSlug}`,
    Target: {
      Arn: target.busArn,
      RoleArn: target.roleArn,
      EventBridgeParameters: { DetailType: 'UndeployRequested', Source: CLIENT_SOURCE },
      Input: JSON.stringify({ ...key, UndeployConfig: { OnConcurrentDeploy: 'fail' } }),
    },
  };
  try {
    await scheduler.send(new CreateScheduleCommand(input));
  } catch (err) {
    if (!(err instanceof ConflictException)) throw err;
    await scheduler.send(new UpdateScheduleCommand(input)); // an earlier deploy's: move it
  }
}

export async function clearAutomaticUndeploy(cp: ControlPlane, cfg: Config, key: ServiceKey): Promise<void> {
  try {
    await cp.scheduler.send(new DeleteScheduleCommand({ Name: automaticUndeployName(key), GroupName: cfg.scheduleGroup }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
}
