import type { z } from 'zod';
import { CancelRequested, CLIENT_SOURCE, DeployRequested, PauseRequested, PromoteRequested, ResumeRequested, UndeployRequested } from './client';
import {
  AsgCloned,
  BakeElapsed,
  CancelRejected,
  DeployCancelled,
  DeployCompleted,
  DeployFailed,
  DeployPlanned,
  DeployRejected,
  InstancesHealthy,
  LIFECYCLE_SOURCE,
  QueuedDeployReady,
  QueuedUndeployReady,
  RollbackFailed,
  RollbackStarted,
  RolloutCommandRejected,
  RolloutPaused,
  RolloutPromoted,
  RolloutResumed,
  TrafficRestored,
  TrafficShifted,
  TrafficShiftHeld,
  UndeployCompleted,
  UndeployFailed,
  UndeployRejected,
} from './lifecycle';
import { BakeCheckDue, DeployDeadlinePassed, DrainElapsed, HealthCheckDue, PauseTimeoutDue, TrafficShiftDue } from './timers';

/**
 * Every event on the bus: its detail-type, who may publish it (source) and its detail schema.
 * `timer: true` marks the events Deployomat delivers late (through the timer queue or a Scheduler
 * schedule): the only ones a timer may carry, so a message dropped on the timer queue can never
 * come out as any other lifecycle event.
 */
export const catalog = {
  DeployRequested: { source: CLIENT_SOURCE, schema: DeployRequested },
  CancelRequested: { source: CLIENT_SOURCE, schema: CancelRequested },
  UndeployRequested: { source: CLIENT_SOURCE, schema: UndeployRequested },
  PauseRequested: { source: CLIENT_SOURCE, schema: PauseRequested },
  ResumeRequested: { source: CLIENT_SOURCE, schema: ResumeRequested },
  PromoteRequested: { source: CLIENT_SOURCE, schema: PromoteRequested },
  DeployRejected: { source: LIFECYCLE_SOURCE, schema: DeployRejected },
  DeployPlanned: { source: LIFECYCLE_SOURCE, schema: DeployPlanned },
  AsgCloned: { source: LIFECYCLE_SOURCE, schema: AsgCloned },
  InstancesHealthy: { source: LIFECYCLE_SOURCE, schema: InstancesHealthy },
  TrafficShifted: { source: LIFECYCLE_SOURCE, schema: TrafficShifted },
  TrafficShiftHeld: { source: LIFECYCLE_SOURCE, schema: TrafficShiftHeld },
  RolloutPaused: { source: LIFECYCLE_SOURCE, schema: RolloutPaused },
  RolloutResumed: { source: LIFECYCLE_SOURCE, schema: RolloutResumed },
  RolloutPromoted: { source: LIFECYCLE_SOURCE, schema: RolloutPromoted },
  RolloutCommandRejected: { source: LIFECYCLE_SOURCE, schema: RolloutCommandRejected },
  BakeElapsed: { source: LIFECYCLE_SOURCE, schema: BakeElapsed, timer: true },
  DeployCompleted: { source: LIFECYCLE_SOURCE, schema: DeployCompleted },
  DeployFailed: { source: LIFECYCLE_SOURCE, schema: DeployFailed },
  RollbackStarted: { source: LIFECYCLE_SOURCE, schema: RollbackStarted },
  TrafficRestored: { source: LIFECYCLE_SOURCE, schema: TrafficRestored },
  DeployCancelled: { source: LIFECYCLE_SOURCE, schema: DeployCancelled },
  RollbackFailed: { source: LIFECYCLE_SOURCE, schema: RollbackFailed },
  CancelRejected: { source: LIFECYCLE_SOURCE, schema: CancelRejected },
  QueuedDeployReady: { source: LIFECYCLE_SOURCE, schema: QueuedDeployReady },
  QueuedUndeployReady: { source: LIFECYCLE_SOURCE, schema: QueuedUndeployReady },
  UndeployRejected: { source: LIFECYCLE_SOURCE, schema: UndeployRejected },
  UndeployCompleted: { source: LIFECYCLE_SOURCE, schema: UndeployCompleted },
  UndeployFailed: { source: LIFECYCLE_SOURCE, schema: UndeployFailed },
  HealthCheckDue: { source: LIFECYCLE_SOURCE, schema: HealthCheckDue, timer: true },
  TrafficShiftDue: { source: LIFECYCLE_SOURCE, schema: TrafficShiftDue, timer: true },
  DrainElapsed: { source: LIFECYCLE_SOURCE, schema: DrainElapsed, timer: true },
  DeployDeadlinePassed: { source: LIFECYCLE_SOURCE, schema: DeployDeadlinePassed, timer: true },
  BakeCheckDue: { source: LIFECYCLE_SOURCE, schema: BakeCheckDue, timer: true },
  PauseTimeoutDue: { source: LIFECYCLE_SOURCE, schema: PauseTimeoutDue, timer: true },
} as const;

export type DetailType = keyof typeof catalog;
/** What a publisher passes (defaults not yet applied). */
export type DetailInput<T extends DetailType> = z.input<(typeof catalog)[T]['schema']>;
/** What a consumer gets after parsing. */
export type Detail<T extends DetailType> = z.output<(typeof catalog)[T]['schema']>;

/** An event to publish. `DelaySeconds` > 0 makes it a timer (see domain/timers). */
export type DomainEvent = {
  [T in DetailType]: { DetailType: T; Detail: DetailInput<T>; DelaySeconds?: number };
}[DetailType];

export function isDetailType(value: string): value is DetailType {
  return Object.hasOwn(catalog, value);
}

/** The detail-types a timer may carry (`timer: true` in the catalog). */
export const TIMER_DETAIL_TYPES: readonly DetailType[] = (Object.keys(catalog) as DetailType[]).filter(
  (type) => (catalog[type] as { timer?: boolean }).timer === true,
);

export function isTimerDetailType(value: string): value is DetailType {
  return (TIMER_DETAIL_TYPES as readonly string[]).includes(value);
}

export { CLIENT_SOURCE, LIFECYCLE_SOURCE };
