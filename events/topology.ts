import { CLIENT_SOURCE, LIFECYCLE_SOURCE, type DetailType } from './catalog';

/**
 * The one declaration of the choreography: which handler consumes which events, and how its
 * queue behaves. The CDK stack (infra/cdk) and the local runtime (infra/local) are both built
 * from this list, so they cannot drift apart.
 */
export interface HandlerSpec {
  /** Stable name: the Lambda/queue/rule names derive from it. */
  readonly name: string;
  /** Lambda entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Events routed to this handler's queue by an EventBridge rule; absent = fed directly (timers). */
  readonly consumes?: { readonly source: string; readonly detailTypes: readonly DetailType[] };
  readonly queue: {
    /** Longer than the Lambda timeout, so a message is not redelivered while still being handled. */
    readonly visibilityTimeoutSeconds: number;
    /** Receives before a message moves to the handler's dead-letter queue. */
    readonly maxReceiveCount: number;
    readonly batchSize: number;
  };
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

const standardQueue = { visibilityTimeoutSeconds: 90, maxReceiveCount: 5, batchSize: 10 } as const;

export const handlers: readonly HandlerSpec[] = [
  {
    name: 'start-deploy',
    entry: 'handlers/start-deploy.ts',
    consumes: { source: CLIENT_SOURCE, detailTypes: ['DeployRequested'] },
    // One deploy per invocation: starting one makes many AWS calls.
    queue: { ...standardQueue, batchSize: 1 },
    timeoutSeconds: 60,
    memoryMb: 512,
  },
  {
    name: 'check-health',
    entry: 'handlers/check-health.ts',
    consumes: { source: LIFECYCLE_SOURCE, detailTypes: ['AsgCloned', 'HealthCheckDue'] },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
  },
  {
    name: 'shift-traffic',
    entry: 'handlers/shift-traffic.ts',
    consumes: { source: LIFECYCLE_SOURCE, detailTypes: ['InstancesHealthy', 'TrafficShiftDue'] },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
  },
  {
    name: 'finish-deploy',
    entry: 'handlers/finish-deploy.ts',
    consumes: { source: LIFECYCLE_SOURCE, detailTypes: ['BakeElapsed'] },
    queue: standardQueue,
    timeoutSeconds: 60,
    memoryMb: 256,
  },
  {
    // Consumes the timer queue: messages sent with DelaySeconds, published to the bus when due.
    name: 'relay-timer',
    entry: 'handlers/relay-timer.ts',
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
  },
];

/** The handler that consumes delayed timer messages (its queue is the timer queue). */
export const TIMER_HANDLER = 'relay-timer';

/**
 * The EventBridge pattern of a handler's rule. Choreography rules never match archive replays
 * (`replay-name` absent), so replaying history can rebuild projections but never re-runs a deploy.
 */
export function eventPattern(spec: HandlerSpec): Record<string, unknown> | undefined {
  if (!spec.consumes) return undefined;
  return {
    source: [spec.consumes.source],
    'detail-type': [...spec.consumes.detailTypes],
    'replay-name': [{ exists: false }],
  };
}

/** Resource names shared by the stack and the local runtime, from one installation prefix. */
export function resourceNames(prefix = 'deployomat') {
  return {
    bus: prefix,
    archive: `${prefix}-archive`,
    table: `${prefix}-ledger`,
    scheduleGroup: prefix,
    queue: (handler: string) => `${prefix}-${handler}`,
    deadLetterQueue: (handler: string) => `${prefix}-${handler}-dlq`,
    rule: (handler: string) => `${prefix}-${handler}`,
  };
}
export type ResourceNames = ReturnType<typeof resourceNames>;
