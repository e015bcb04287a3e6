import { catalog, CLIENT_SOURCE, LIFECYCLE_SOURCE, type DetailType } from './catalog';
import { PROGRESS_DETAIL_TYPE, PROGRESS_SOURCE, type ProgressDetailType } from './progress';

/**
 * The one declaration of the choreography: which handler consumes which events, and how its
 * queue behaves. The CDK stack (infra/cdk) and the local runtime (infra/local) are both built
 * from this list, so they cannot drift apart.
 */
/** Events of one source routed to a handler's queue by one EventBridge rule. */
export interface Subscription {
  readonly source: string;
  /** Catalog events, or (for the Slack notifier) the progress updates others publish (events/progress.ts). */
  readonly detailTypes: readonly (DetailType | ProgressDetailType)[];
  /**
   * Also match archive replays. Only for projections (e.g. the audit history), which rebuild
   * state from events and never act on AWS; choreography rules never match replays.
   */
  readonly replays?: 'include';
}

/**
 * What feeds a handler:
 * - `events`: its own queue, fed by one EventBridge rule per subscription;
 * - `timers`: its own queue, which *is* the timer queue (steps send delayed messages to it);
 * - `dead-letters`: no queue of its own; it consumes every other handler's dead-letter queue.
 */
export type Trigger =
  | { readonly kind: 'events'; readonly subscriptions: readonly Subscription[] }
  | { readonly kind: 'timers' }
  | { readonly kind: 'dead-letters' };

export interface HandlerSpec {
  /** Stable name: the Lambda/queue/rule names derive from it. */
  readonly name: string;
  /** Lambda entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly trigger: Trigger;
  /** Settings of the handler's own queue (for `dead-letters`: of how it reads the DLQs). */
  readonly queue: {
    /** Longer than the Lambda timeout, so a message is not redelivered while still being handled. */
    readonly visibilityTimeoutSeconds: number;
    /** Receives before a message moves to the handler's dead-letter queue. */
    readonly maxReceiveCount: number;
    readonly batchSize: number;
  };
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /**
   * How many invocations may run at once. `max`: the queue's event source never runs more (SQS
   * maximum concurrency, 2-1000), so a flood of one command cannot take the account's whole Lambda
   * concurrency. `reserved`: concurrency set aside for this function (and its cap) — the rollback
   * path keeps capacity while the rest of the account is flooded.
   */
  readonly concurrency: { readonly max: number; readonly reserved?: number };
  /**
   * An optional feature this handler belongs to. Core installations leave feature handlers out
   * (the `Deployomat` construct, and the local runtime unless the feature is switched on); each
   * feature has its own way in: `slack` is built by the `SlackNotifier` CDK construct, and run
   * locally when `DEPLOYOMAT_SLACK_CHANNEL` is set. Absent = core: always installed.
   */
  readonly feature?: Feature;
  /**
   * A projection (it only records events, never acts on AWS): its dead letters wait for an
   * operator and are never read by the dead-letters handler, so a request the projection cannot
   * store can never roll a deploy back.
   */
  readonly projection?: true;
}

/** Optional features of the topology (see `HandlerSpec.feature`). */
export type Feature = 'slack';

const standardQueue = { visibilityTimeoutSeconds: 90, maxReceiveCount: 5, batchSize: 10 } as const;

/** The rollback path runs on capacity of its own: a flood of deploys must not delay a rollback. */
const ROLLBACK_PATH = { max: 5, reserved: 5 } as const;

const ofSource = (source: string) => (Object.keys(catalog) as DetailType[]).filter((t) => catalog[t].source === source);

export const handlers: readonly HandlerSpec[] = [
  {
    name: 'start-deploy',
    entry: 'handlers/start-deploy.ts',
    trigger: {
      kind: 'events',
      subscriptions: [
        { source: CLIENT_SOURCE, detailTypes: ['DeployRequested'] },
        // A deploy that waited for the rollback of the one it replaced.
        { source: LIFECYCLE_SOURCE, detailTypes: ['QueuedDeployReady'] },
      ],
    },
    // One deploy per invocation: starting one makes many AWS calls.
    queue: { ...standardQueue, batchSize: 1 },
    timeoutSeconds: 60,
    memoryMb: 512,
    concurrency: { max: 5 },
  },
  {
    name: 'check-health',
    entry: 'handlers/check-health.ts',
    trigger: { kind: 'events', subscriptions: [{ source: LIFECYCLE_SOURCE, detailTypes: ['AsgCloned', 'HealthCheckDue'] }] },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: { max: 10 },
  },
  {
    name: 'shift-traffic',
    entry: 'handlers/shift-traffic.ts',
    trigger: { kind: 'events', subscriptions: [{ source: LIFECYCLE_SOURCE, detailTypes: ['InstancesHealthy', 'TrafficShiftDue'] }] },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: { max: 10 },
  },
  {
    name: 'finish-deploy',
    entry: 'handlers/finish-deploy.ts',
    trigger: { kind: 'events', subscriptions: [{ source: LIFECYCLE_SOURCE, detailTypes: ['BakeElapsed'] }] },
    queue: standardQueue,
    timeoutSeconds: 60,
    memoryMb: 256,
    concurrency: { max: 5 },
  },
  {
    // The alarm checks of a bake with RollbackAlarms.
    name: 'watch-bake',
    entry: 'handlers/watch-bake.ts',
    trigger: { kind: 'events', subscriptions: [{ source: LIFECYCLE_SOURCE, detailTypes: ['BakeCheckDue'] }] },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: { max: 5 },
  },
  {
    // Pause, resume and promote a running rollout.
    name: 'control-rollout',
    entry: 'handlers/control-rollout.ts',
    trigger: { kind: 'events', subscriptions: [{ source: CLIENT_SOURCE, detailTypes: ['PauseRequested', 'ResumeRequested', 'PromoteRequested'] }] },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: { max: 5 },
  },
  {
    name: 'start-rollback',
    entry: 'handlers/start-rollback.ts',
    trigger: {
      kind: 'events',
      subscriptions: [
        { source: CLIENT_SOURCE, detailTypes: ['CancelRequested'] },
        { source: LIFECYCLE_SOURCE, detailTypes: ['DeployDeadlinePassed', 'PauseTimeoutDue'] },
      ],
    },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: ROLLBACK_PATH,
  },
  {
    name: 'restore-traffic',
    entry: 'handlers/restore-traffic.ts',
    trigger: { kind: 'events', subscriptions: [{ source: LIFECYCLE_SOURCE, detailTypes: ['RollbackStarted'] }] },
    queue: standardQueue,
    timeoutSeconds: 60,
    memoryMb: 256,
    concurrency: ROLLBACK_PATH,
  },
  {
    name: 'finish-rollback',
    entry: 'handlers/finish-rollback.ts',
    trigger: { kind: 'events', subscriptions: [{ source: LIFECYCLE_SOURCE, detailTypes: ['DrainElapsed'] }] },
    queue: standardQueue,
    timeoutSeconds: 60,
    memoryMb: 256,
    concurrency: ROLLBACK_PATH,
  },
  {
    name: 'undeploy',
    entry: 'handlers/undeploy.ts',
    trigger: {
      kind: 'events',
      subscriptions: [
        { source: CLIENT_SOURCE, detailTypes: ['UndeployRequested'] },
        { source: LIFECYCLE_SOURCE, detailTypes: ['QueuedUndeployReady'] },
      ],
    },
    queue: { ...standardQueue, batchSize: 1 },
    timeoutSeconds: 60,
    memoryMb: 256,
    concurrency: { max: 5 },
  },
  {
    // Reads every other handler's DLQ: a message that exhausted its retries rolls its deploy back.
    name: 'dead-letter',
    entry: 'handlers/dead-letter.ts',
    trigger: { kind: 'dead-letters' },
    queue: { ...standardQueue, batchSize: 1 },
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: { max: 2, reserved: 4 },
  },
  {
    // The audit history: a projection of every event, replays included (they rebuild it).
    name: 'record-history',
    entry: 'handlers/record-history.ts',
    projection: true,
    trigger: {
      kind: 'events',
      subscriptions: [
        { source: CLIENT_SOURCE, detailTypes: ofSource(CLIENT_SOURCE), replays: 'include' },
        { source: LIFECYCLE_SOURCE, detailTypes: ofSource(LIFECYCLE_SOURCE), replays: 'include' },
      ],
    },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: { max: 10 },
  },
  {
    // Feature `slack`: one Slack message per deploy/undeploy, updated in place, with a thread of
    // its steps (domain/notify). A subscriber only: it never acts on AWS, and replays never post.
    name: 'notify-slack',
    entry: 'handlers/notify-slack.ts',
    feature: 'slack',
    trigger: {
      kind: 'events',
      subscriptions: [
        // Requests open the message ("started"); invalid ones are left to their *Rejected event.
        { source: CLIENT_SOURCE, detailTypes: ['DeployRequested', 'UndeployRequested'] },
        {
          source: LIFECYCLE_SOURCE,
          detailTypes: [
            'AsgCloned',
            'InstancesHealthy',
            'TrafficShifted',
            'TrafficShiftHeld',
            'RolloutPaused',
            'RolloutResumed',
            'RolloutPromoted',
            'RollbackStarted',
            'TrafficRestored',
            'DeployCompleted',
            'DeployFailed',
            'DeployCancelled',
            'DeployRejected',
            'DeployPlanned',
            'RollbackFailed',
            'CancelRejected',
            'RolloutCommandRejected',
            'UndeployCompleted',
            'UndeployRejected',
            'UndeployFailed',
          ],
        },
        // Lines someone else adds to a deploy's thread (the original's custom update events).
        { source: PROGRESS_SOURCE, detailTypes: [PROGRESS_DETAIL_TYPE] },
      ],
    },
    // One event per invocation: the events of one deploy are then seldom handled concurrently
    // (and with few concurrent deliveries of one deploy, few retries).
    queue: { ...standardQueue, batchSize: 1 },
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: { max: 2 },
  },
  {
    // Consumes the timer queue: messages sent with DelaySeconds, published to the bus when due.
    name: 'relay-timer',
    entry: 'handlers/relay-timer.ts',
    trigger: { kind: 'timers' },
    queue: standardQueue,
    timeoutSeconds: 30,
    memoryMb: 256,
    concurrency: { max: 10 },
  },
];

/** The handler whose queue is the timer queue. */
export function timerHandler(): HandlerSpec {
  const spec = handlers.find((h) => h.trigger.kind === 'timers');
  if (!spec) throw new Error('topology has no timer handler');
  return spec;
}

/** Handlers that have a queue of their own (and so a dead-letter queue), of `specs` (default: all). */
export function queuedHandlers(specs: readonly HandlerSpec[] = handlers): HandlerSpec[] {
  return specs.filter((h) => h.trigger.kind !== 'dead-letters');
}

/**
 * The handlers whose dead letters the dead-letters handler reads (and turns into rollbacks): the
 * core's queued handlers, except projections. A feature's dead letters wait for an operator.
 */
export function rollbackOnDeadLetter(specs: readonly HandlerSpec[] = handlers): HandlerSpec[] {
  return queuedHandlers(specs).filter((h) => !h.feature && !h.projection);
}

/** The handlers every installation has: the topology without its feature handlers. */
export function coreHandlers(specs: readonly HandlerSpec[] = handlers): HandlerSpec[] {
  return specs.filter((h) => !h.feature);
}

/** The handlers of one feature. */
export function featureHandlers(feature: Feature, specs: readonly HandlerSpec[] = handlers): HandlerSpec[] {
  return specs.filter((h) => h.feature === feature);
}

/** The handlers of an installation with the given features switched on: core + those features. */
export function installedHandlers(features: readonly Feature[] = [], specs: readonly HandlerSpec[] = handlers): HandlerSpec[] {
  return specs.filter((h) => !h.feature || features.includes(h.feature));
}

/**
 * The EventBridge pattern of a subscription's rule. Choreography rules never match archive
 * replays (`replay-name` absent), so replaying history can rebuild projections but never re-runs
 * a deploy.
 */
export function eventPattern(subscription: Subscription): Record<string, unknown> {
  return {
    source: [subscription.source],
    'detail-type': [...subscription.detailTypes],
    ...(subscription.replays === 'include' ? {} : { 'replay-name': [{ exists: false }] }),
  };
}

/**
 * Every rule of the choreography: its name and pattern, the subscription it implements and the
 * handler whose queue it feeds — of `specs` (default: every handler of the topology, feature
 * handlers included).
 */
export function rules(
  names: ResourceNames,
  specs: readonly HandlerSpec[] = handlers,
): { name: string; handler: HandlerSpec; subscription: Subscription; pattern: Record<string, unknown> }[] {
  return specs.flatMap((handler) =>
    handler.trigger.kind === 'events'
      ? handler.trigger.subscriptions.map((sub, i) => ({
          name: i === 0 ? names.rule(handler.name) : `${names.rule(handler.name)}-${i + 1}`,
          handler,
          subscription: sub,
          pattern: eventPattern(sub),
        }))
      : [],
  );
}

/** Resource names shared by the stack and the local runtime, from one installation prefix. */
export function resourceNames(prefix = 'deployomat') {
  return {
    bus: prefix,
    archive: `${prefix}-archive`,
    table: `${prefix}-ledger`,
    /** The Slack notifier's own table (its messages and thread replies): it may not write the ledger. */
    slackTable: `${prefix}-slack`,
    scheduleGroup: prefix,
    /** The handlers' IAM role: workload and meta roles trust exactly this name (IAM names are account-wide). */
    handlerRole: `${prefix}-handlers`,
    /** The CloudTrail trail of the bus's PutEvents (the `auditTrail` option); its ARN is in its bucket's and key's policies. */
    auditTrail: `${prefix}-bus-audit`,
    queue: (handler: string) => `${prefix}-${handler}`,
    deadLetterQueue: (handler: string) => `${prefix}-${handler}-dlq`,
    rule: (handler: string) => `${prefix}-${handler}`,
  };
}
export type ResourceNames = ReturnType<typeof resourceNames>;
