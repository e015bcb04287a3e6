import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DomainEvent } from '../events/catalog';
import { DeployConfig } from '../events/client';
import type { LiveRule } from './aws/listener-rules';

/**
 * The ledger: one DynamoDB item per service (who holds it, what is deploying, what serves
 * production) and one per deployment (its history). Every change is a conditional write on
 * `ActiveDeployId = me AND Seq = expected`, so a superseded deploy or a stale event can never
 * move the service, and a transition happens at most once.
 */

export const Phase = z.enum([
  // a deploy in progress
  'Starting',
  'WaitingHealthy',
  'Shifting',
  'Baking',
  // a rollout standing still until resumed or promoted (or cancelled)
  'Paused',
  // a deploy being undone (cancel, failure, superseded, deadline)
  'RollingBack',
  // an undeploy in progress
  'Undeploying',
  // at rest
  'Completed',
  'Cancelled',
  'RolledBack',
  'Undeployed',
]);
export type Phase = z.output<typeof Phase>;

/** A deploy in these phases can be cancelled (and is what a concurrent deploy would roll back). */
export const ACTIVE_DEPLOY_PHASES: readonly Phase[] = ['Starting', 'WaitingHealthy', 'Shifting', 'Baking', 'Paused'];

/** A new deploy or undeploy may take the service only from these phases (and with no deploying ASG left). */
export const FINISHED_PHASES: readonly Phase[] = ['Completed', 'Cancelled', 'RolledBack', 'Undeployed'];

export const isActiveDeploy = (phase: Phase) => ACTIVE_DEPLOY_PHASES.includes(phase);
export const isFinished = (phase: Phase) => FINISHED_PHASES.includes(phase);


/** What the deploy was asked to do: written when it takes the service. */
/**
 * What a service's production consists of, as Deployomat recorded it when it created it: the only
 * target groups and rules a finish or an undeploy ever deletes (whatever is attached now).
 */
export const ProductionRecord = z.object({
  AsgName: z.string(),
  TargetGroupArns: z.array(z.string()),
  RuleArns: z.array(z.string()),
});
export type ProductionRecord = z.output<typeof ProductionRecord>;

export const DeployRequest = z.object({
  DeployId: z.string(),
  AmiId: z.string(),
  Config: DeployConfig,
  StartedAt: z.string(),
  /** Suffix of every resource name this deploy creates (see domain/naming). */
  Timestamp: z.string(),
  /** The workload account as resolved before taking the service: a rollback needs no lookups. */
  RoleArn: z.string(),
  Org: z.string(),
  ListenerArns: z.array(z.string()),
  RequestedBy: z.string().optional(),
  /** Production as the ledger recorded it when this deploy took the service (absent: none, or not known). */
  Production: ProductionRecord.optional(),
});
export type DeployRequest = z.output<typeof DeployRequest>;

/** Everything later steps need, written once the new ASG exists. */
export const DeployPlan = z.object({
  RoleArn: z.string(),
  Org: z.string(),
  AllowUndeploy: z.boolean(),
  ResolvedAmiId: z.string(),
  LaunchTemplateId: z.string(),
  LaunchTemplateVersion: z.number().int(),
  AsgName: z.string(),
  /** Each of the template's target groups and this deploy's clone of it (empty for a non-web service). */
  TargetGroups: z.array(
    z.object({
      Template: z.string(),
      Arn: z.string(),
      /** The production group the live rules forwarded to (absent on a first deploy). */
      Production: z.string().optional(),
    }),
  ),
  /** The new group's starting size: production's desired capacity, at least `<org>:min_size`, at most max. */
  MinSize: z.number().int(),
  MaxSize: z.number().int(),
  /** Min size the new group keeps once it is production: the service's (serviceSizes: the template's tag, else its min size). */
  SteadyMinSize: z.number().int(),
  ProductionAsgName: z.string().optional(),
  /** Production's target groups as the ledger recorded them: deleted with it once this deploy is production. */
  ProductionTargetGroupArns: z.array(z.string()),
  Rollout: z.enum(['web', 'first-web', 'non-web']),
  Rules: z.array(z.custom<LiveRule>((v) => typeof v === 'object' && v !== null && 'ruleArn' in v)),
  HealthDeadline: z.string(),
  Steps: z.number().int(),
});
export type DeployPlan = z.output<typeof DeployPlan>;

export const Waiting = z.object({
  Kind: z.enum(['deploy', 'undeploy']),
  Id: z.string(),
  Request: z.record(z.string(), z.unknown()),
});
export type Waiting = z.output<typeof Waiting>;

/**
 * The waiting request a finished rollback let go (QueuedDeployReady / QueuedUndeployReady): that
 * event runs only if it names this id and carries this very request, so a forged or altered
 * "queued" request never runs.
 */
export const Released = z.object({
  Kind: Waiting.shape.Kind,
  Id: z.string(),
  /** sha256 of the request in canonical JSON (keys sorted): see {@link requestHash}. */
  RequestHash: z.string(),
});
export type Released = z.output<typeof Released>;

/** sha256 of a request as canonical JSON: keys sorted at every level, undefined members left out (as JSON and DynamoDB do). */
export function requestHash(request: Record<string, unknown>): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(request))).digest('hex');
}

/** What a rollback that lets `waiting` go records, so only that request can start from it. */
export const releaseOf = (waiting: Waiting): Released => ({ Kind: waiting.Kind, Id: waiting.Id, RequestHash: requestHash(waiting.Request) });

/** How many released requests the service item remembers: more than can be released before the first of them runs. */
const RELEASED_KEPT = 10;

/** The service's released requests with `waiting` added (the oldest forgotten). */
export const withRelease = (state: ServiceState, waiting: Waiting): Released[] => [...(state.Released ?? []), releaseOf(waiting)].slice(-RELEASED_KEPT);

/** Whether the ledger released exactly this request (kind, id, and the request itself). */
export function wasReleased(state: ServiceState | undefined, kind: Waiting['Kind'], id: string, request: unknown): boolean {
  if (request === null || typeof request !== 'object') return false;
  const hash = requestHash(request as Record<string, unknown>);
  return (state?.Released ?? []).some((r) => r.Kind === kind && r.Id === id && r.RequestHash === hash);
}

/**
 * The service's production as recorded: by the deploy that made it (its plan, while it is the
 * last one), or by the deploy that took the service after it (its request). Undefined when there
 * is no production or the ledger does not know (a rollback before 0.2 replaced the plan).
 */
export function recordedProduction(state: ServiceState | undefined): ProductionRecord | undefined {
  if (!state?.ProductionAsgName) return undefined;
  const plan = state.Plan;
  if (plan?.AsgName === state.ProductionAsgName) {
    return { AsgName: plan.AsgName, TargetGroupArns: plan.TargetGroups.map((t) => t.Arn), RuleArns: plan.Rules.map((r) => r.ruleArn) };
  }
  return state.Request.Production?.AsgName === state.ProductionAsgName ? state.Request.Production : undefined;
}

/**
 * A service's dry-run window (item `DRYRUN`, see domain/dry-run.ts): the dry run that opened it is
 * planned; until it closes, no other dry run of the service is.
 */
export const DryRunWindow = z.object({
  DeployId: z.string(),
  /** The EventBridge id of the dry run that opened it: a redelivery of that event is still planned. */
  EventId: z.string(),
  /** {@link requestHash} of its request, DeployId included: an identical repeat is told from another request. */
  RequestHash: z.string(),
  OpenedAt: z.string(),
  /** When the window closes (epoch ms). */
  Until: z.number(),
});
export type DryRunWindow = z.output<typeof DryRunWindow>;

export const ProductionHold = z.object({ AsgName: z.string(), MinSizeBefore: z.number().int() });
export type ProductionHold = z.output<typeof ProductionHold>;

export const ServiceState = z.object({
  AccountCanonicalSlug: z.string(),
  ServiceName: z.string(),
  ActiveDeployId: z.string(),
  Phase,
  Seq: z.number().int(),
  DeployAsgName: z.string(),
  ProductionAsgName: z.string(),
  UndeployState: z.enum(['allow', 'undeploying', '']),
  Request: DeployRequest,
  Plan: DeployPlan.optional(),
  /** Set while (and after) the deploy is rolled back: why, and which event ends it. */
  Rollback: z
    .object({
      Cause: z.enum(['cancel', 'failure', 'superseded', 'deadline']),
      Reason: z.string(),
      FromPhase: Phase,
      StartedAt: z.string(),
    })
    .optional(),
  /** How far the traffic has moved: the last step applied and its share on the new version. */
  Progress: z
    .object({
      Step: z.number().int(),
      Percent: z.number(),
      /** When the bake ends (set once traffic is at 100 %, or for a rollout without steps). */
      BakeEndsAt: z.string().optional(),
      /** Set while a step is held for capacity: since when. */
      HeldSince: z.string().optional(),
    })
    .optional(),
  /** Set while the rollout is paused: what resuming continues with. */
  Paused: z
    .object({
      Since: z.string(),
      FromPhase: z.enum(['Shifting', 'Baking']),
      /** Shifting: the step to make on resume. Baking: how much of the bake was left. */
      NextStep: z.number().int().optional(),
      BakeRemainingMs: z.number().optional(),
      By: z.enum(['request', 'PauseAtPercent']),
      Reason: z.string(),
      /** When it rolls back unless resumed (as RolloutPaused announced); absent on pauses before 0.2. */
      RollbackAt: z.string().optional(),
    })
    .optional(),
  /**
   * Production's min size before this deploy held it (written before the hold is applied, once):
   * what a rollback restores when production has no `<org>:min_size` tag (domain/sizes.ts).
   */
  ProductionHold: ProductionHold.optional(),
  /** Seconds the rollout stood still (paused, or a step held for capacity): the deadline is extended by them. */
  PausedSeconds: z.number().optional(),
  /**
   * Ids of the last 20 client commands applied to the service (cancel, pause, resume, promote),
   * kept across deploys: a late duplicate is never applied again, not even to the next deploy.
   */
  Commands: z.array(z.string()).optional(),
  /** PromoteRequested was accepted: the next step is 100 % and the bake is skipped. */
  Promoted: z.boolean().optional(),
  /** A deploy or undeploy waiting for this rollback to finish (OnConcurrentDeploy: rollback). */
  Waiting: Waiting.optional(),
  /**
   * The last waiting requests rollbacks let go: the only ones QueuedDeployReady/QueuedUndeployReady
   * may start (several: another rollback may release one before the last released has run).
   */
  Released: z.array(Released).optional(),
  /** The last unexpected error a step hit (reported if its message is dead-lettered). */
  LastError: z.string().optional(),
  /** Events the last transition must publish; re-published if its cause is redelivered. */
  Outbox: z.array(z.custom<DomainEvent>()),
  OutboxCause: z.string(),
  UpdatedAt: z.string(),
});
export type ServiceState = z.output<typeof ServiceState>;

export interface ServiceKey {
  AccountCanonicalSlug: string;
  ServiceName: string;
}

const pk = (k: ServiceKey) => `${k.AccountCanonicalSlug}#${k.ServiceName}`;
const SERVICE_SK = 'SERVICE';
const DRY_RUN_SK = 'DRYRUN';
const deploySk = (deployId: string) => `DEPLOY#${deployId}`;
const undeploySk = (undeployId: string) => `UNDEPLOY#${undeployId}`;

export interface Transition {
  deployId: string;
  fromSeq: number;
  /** Id of the event that caused the transition: a redelivery of it re-publishes the outbox. */
  cause: string;
  phase: Phase;
  /** Extra top-level service attributes to set (e.g. `Plan`, `DeployAsgName`). */
  set?: Partial<Pick<ServiceState, 'Plan' | 'DeployAsgName' | 'ProductionAsgName' | 'UndeployState' | 'Rollback' | 'Progress' | 'Paused' | 'PausedSeconds' | 'Promoted' | 'Commands' | 'Released'>>;
  /** Service attributes to remove. */
  remove?: ('Waiting' | 'LastError' | 'Paused')[];
  /**
   * The waiting request the step saw (its Id, or null for none): the transition fails if one
   * was queued meanwhile, so a finishing rollback can never drop a request that just queued.
   */
  expectWaiting?: string | null;
  /** Whose history record to update: a deploy's (default) or an undeploy's. */
  historyOf?: 'deploy' | 'undeploy';
  outbox: DomainEvent[];
  /** Attributes of the deployment's history record to set. */
  history?: Record<string, unknown>;
}

export class Ledger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getService(key: ServiceKey): Promise<ServiceState | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: pk(key), sk: SERVICE_SK }, ConsistentRead: true }),
    );
    return out.Item ? ServiceState.parse(out.Item) : undefined;
  }

  async getDeployment(key: ServiceKey, deployId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: pk(key), sk: deploySk(deployId) }, ConsistentRead: true }),
    );
    return out.Item;
  }

  /**
   * Makes `request` the service's active deploy, if no other deploy is in flight and the service
   * is not being undeployed. Returns false if someone else holds it (or this deploy already ran).
   */
  /**
   * Takes the service for `request` if it is free and its production is still the one the request
   * recorded (`request.Production`, read from `ProductionAsgName`), so what a finish deletes is
   * what production was when the deploy started.
   */
  async take(key: ServiceKey, request: DeployRequest, cause: string, expectProductionAsg: string): Promise<boolean> {
    const now = new Date().toISOString();
    const update = assignments('t', {
      AccountCanonicalSlug: key.AccountCanonicalSlug,
      ServiceName: key.ServiceName,
      ActiveDeployId: request.DeployId,
      Phase: 'Starting',
      Seq: 0,
      DeployAsgName: '',
      Request: request,
      Outbox: [],
      OutboxCause: cause,
      UpdatedAt: now,
    });
    const { finished, finishedValues } = finishedPhases();
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: { pk: pk(key), sk: SERVICE_SK },
                // Free: never deployed, or the last deploy finished, left no deploying ASG, and no undeploy runs.
                ConditionExpression:
                  `attribute_not_exists(pk) OR (#phase IN (${finished}) AND #deployAsg = :empty AND #undeploy <> :undeploying ` +
                  'AND (attribute_not_exists(#prodAsg) OR #prodAsg = :expectProd))',
                UpdateExpression:
                  `SET ${update.expression}, #prodAsg = if_not_exists(#prodAsg, :empty), #undeploy = if_not_exists(#undeploy, :empty) ` +
                  'REMOVE #plan, #rollback, #lastError, #progress, #paused, #pausedSeconds, #promoted, #hold',
                ExpressionAttributeNames: {
                  ...update.names,
                  '#phase': 'Phase',
                  '#deployAsg': 'DeployAsgName',
                  '#prodAsg': 'ProductionAsgName',
                  '#undeploy': 'UndeployState',
                  '#plan': 'Plan',
                  '#rollback': 'Rollback',
                  '#lastError': 'LastError',
                  '#progress': 'Progress',
                  '#paused': 'Paused',
                  '#pausedSeconds': 'PausedSeconds',
                  '#promoted': 'Promoted',
                  '#hold': 'ProductionHold',
                },
                ExpressionAttributeValues: {
                  ...update.values,
                  ...finishedValues,
                  ':empty': '',
                  ':undeploying': 'undeploying',
                  ':expectProd': expectProductionAsg,
                },
              },
            },
            { Put: { TableName: this.table, Item: deploymentRecord(key, request, 'Starting', now), ConditionExpression: 'attribute_not_exists(sk)' } },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * Adopts a service another deployer (the original Deployomat) put in production: its item at
   * rest in `Completed`, with `request.Production` as the production a finish or an undeploy may
   * delete, and a history record of the hand-over. Only where the ledger has no production and
   * nothing runs (or where this very import already wrote it); false when that is not so.
   */
  async adopt(key: ServiceKey, request: DeployRequest & { Production: ProductionRecord }, undeployState: 'allow' | ''): Promise<boolean> {
    const now = new Date().toISOString();
    const item: ServiceState = {
      ...key,
      ActiveDeployId: request.DeployId,
      Phase: 'Completed',
      Seq: 0,
      DeployAsgName: '',
      ProductionAsgName: request.Production.AsgName,
      UndeployState: undeployState,
      Request: request,
      Outbox: [],
      OutboxCause: request.DeployId,
      UpdatedAt: now,
    };
    const { finished, finishedValues } = finishedPhases();
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { pk: pk(key), sk: SERVICE_SK, ...item },
                ConditionExpression:
                  `attribute_not_exists(pk) OR (#phase IN (${finished}) AND #deployAsg = :empty AND #prodAsg = :empty AND #undeploy <> :undeploying) ` +
                  'OR (#active = :me AND #prodAsg = :prod)',
                ExpressionAttributeNames: { '#phase': 'Phase', '#deployAsg': 'DeployAsgName', '#prodAsg': 'ProductionAsgName', '#undeploy': 'UndeployState', '#active': 'ActiveDeployId' },
                ExpressionAttributeValues: { ...finishedValues, ':empty': '', ':undeploying': 'undeploying', ':me': request.DeployId, ':prod': request.Production.AsgName },
              },
            },
            { Put: { TableName: this.table, Item: { ...deploymentRecord(key, request, 'Completed', now), Result: 'Imported', FinishedAt: now } } },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * Opens the service's dry-run window for `window` unless one is open at `now` (epoch ms): one
   * conditional write, so of two dry runs at once only one opens it. When it was open, the dry run
   * that holds it, as DynamoDB returns it with the failed condition (undefined if it did not).
   */
  async openDryRunWindow(key: ServiceKey, window: DryRunWindow, now: number): Promise<{ opened: true } | { opened: false; holder?: DryRunWindow }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          // ExpiresAt only tidies up (TTL deletes within days): the condition reads Until.
          Item: { pk: pk(key), sk: DRY_RUN_SK, ...key, ...window, ExpiresAt: Math.ceil(window.Until / 1000) },
          ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now',
          ExpressionAttributeNames: { '#until': 'Until' },
          ExpressionAttributeValues: { ':now': now },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { opened: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const holder = err.Item ? DryRunWindow.safeParse(unmarshall(err.Item)) : undefined;
      return { opened: false, holder: holder?.success ? holder.data : undefined };
    }
  }

  /**
   * Records production's min size before `ref`'s deploy holds it, while that deploy is still at
   * `ref.Seq`. The first record stays: a redelivered step, which may find production already held,
   * gets the one written before the hold. Undefined if the deploy is no longer there (overtaken).
   */
  async recordProductionHold(ref: ServiceKey & { DeployId: string; Seq: number }, hold: ProductionHold): Promise<ProductionHold | undefined> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pk(ref), sk: SERVICE_SK },
          ConditionExpression: '#holder = :holder AND #seq = :seq AND attribute_not_exists(#hold)',
          UpdateExpression: 'SET #hold = :hold',
          ExpressionAttributeNames: { '#holder': 'ActiveDeployId', '#seq': 'Seq', '#hold': 'ProductionHold' },
          ExpressionAttributeValues: { ':holder': ref.DeployId, ':seq': ref.Seq, ':hold': hold },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return hold;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const now = err.Item ? ServiceState.safeParse(unmarshall(err.Item)) : undefined;
      if (!now?.success || now.data.ActiveDeployId !== ref.DeployId || now.data.Seq !== ref.Seq) return undefined;
      return now.data.ProductionHold?.AsgName === hold.AsgName ? now.data.ProductionHold : undefined;
    }
  }

  /** Records a deploy that never got the service (e.g. another deploy was running). */
  async recordUnstarted(key: ServiceKey, request: DeployRequest, phase: Phase, history: Record<string, unknown>) {
    await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...deploymentRecord(key, request, phase, new Date().toISOString()), ...history },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      ),
    );
  }

  /**
   * Queues a request behind the rollback of `holder` (which must still hold the service and not
   * be at rest). Returns what it replaced (that one will never start), or false if the holder
   * changed meanwhile (the caller should look again).
   */
  async enqueue(key: ServiceKey, holder: string, waiting: Waiting): Promise<{ replaced?: Waiting } | false> {
    const { finished, finishedValues } = finishedPhases();
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pk(key), sk: SERVICE_SK },
          ConditionExpression: `#holder = :holder AND NOT (#phase IN (${finished}))`,
          UpdateExpression: 'SET #waiting = :waiting',
          ExpressionAttributeNames: { '#holder': 'ActiveDeployId', '#phase': 'Phase', '#waiting': 'Waiting' },
          ExpressionAttributeValues: {
            ':holder': holder,
            ':waiting': waiting,
            ...finishedValues,
          },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const old = out.Attributes?.Waiting as Waiting | undefined;
      return { replaced: old && old.Id !== waiting.Id ? old : undefined };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /**
   * Makes an undeploy the holder of a service at rest whose safety is off (`allow`) — or resumes
   * one that was interrupted (`undeploying`). False if the service is not in that state.
   */
  async takeForUndeploy(key: ServiceKey, undeployId: string, cause: string, request: Record<string, unknown>): Promise<boolean> {
    const now = new Date().toISOString();
    const { finished, finishedValues } = finishedPhases();
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: { pk: pk(key), sk: SERVICE_SK },
                ConditionExpression: `#phase IN (${finished}) AND #deployAsg = :empty AND #prodAsg <> :empty AND #undeploy IN (:allow, :undeploying)`,
                UpdateExpression:
                  'SET #holder = :id, #phase = :undeployingPhase, #seq = :zero, #undeploy = :undeploying, #outbox = :outbox, #cause = :cause, #updated = :now',
                ExpressionAttributeNames: {
                  '#phase': 'Phase',
                  '#deployAsg': 'DeployAsgName',
                  '#prodAsg': 'ProductionAsgName',
                  '#undeploy': 'UndeployState',
                  '#holder': 'ActiveDeployId',
                  '#seq': 'Seq',
                  '#outbox': 'Outbox',
                  '#cause': 'OutboxCause',
                  '#updated': 'UpdatedAt',
                },
                ExpressionAttributeValues: {
                  ...finishedValues,
                  ':empty': '',
                  ':allow': 'allow',
                  ':undeploying': 'undeploying',
                  ':undeployingPhase': 'Undeploying',
                  ':id': undeployId,
                  ':zero': 0,
                  ':outbox': [],
                  ':cause': cause,
                  ':now': now,
                },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: pk(key),
                  sk: undeploySk(undeployId),
                  ...key,
                  UndeployId: undeployId,
                  Request: request,
                  StartedAt: now,
                  Phase: 'Undeploying',
                  UpdatedAt: now,
                  ExpiresAt: expiresAt(now),
                },
                ConditionExpression: 'attribute_not_exists(sk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async getUndeploy(key: ServiceKey, undeployId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: pk(key), sk: undeploySk(undeployId) }, ConsistentRead: true }));
    return out.Item;
  }

  /** Best effort: remembers a step's unexpected error, reported if its message is dead-lettered. */
  async noteError(key: ServiceKey, holder: string, message: string): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pk(key), sk: SERVICE_SK },
          ConditionExpression: '#holder = :holder',
          UpdateExpression: 'SET #err = :err',
          ExpressionAttributeNames: { '#holder': 'ActiveDeployId', '#err': 'LastError' },
          ExpressionAttributeValues: { ':holder': holder, ':err': message.slice(0, 1000) },
        }),
      )
      .catch(() => undefined);
  }

  /** Moves the deploy from `fromSeq` to `fromSeq + 1`. False if the ledger was not where expected. */
  async advance(key: ServiceKey, t: Transition): Promise<boolean> {
    const now = new Date().toISOString();
    const service = assignments('s', { ...t.set, Phase: t.phase, Seq: t.fromSeq + 1, Outbox: t.outbox, OutboxCause: t.cause, UpdatedAt: now });
    const history = assignments('h', { ...t.history, Phase: t.phase, UpdatedAt: now });
    const removeNames = Object.fromEntries((t.remove ?? []).map((a, i) => [`#r${i}`, a]));
    const removal = t.remove?.length ? ` REMOVE ${Object.keys(removeNames).join(', ')}` : '';
    let waitingCondition = '';
    const waitingValues: Record<string, unknown> = {};
    if (t.expectWaiting === null) waitingCondition = ' AND attribute_not_exists(#waiting)';
    else if (t.expectWaiting !== undefined) {
      waitingCondition = ' AND #waiting.#waitingId = :waitingId';
      waitingValues[':waitingId'] = t.expectWaiting;
    }
    const waitingNames = waitingCondition ? { '#waiting': 'Waiting', ...(t.expectWaiting ? { '#waitingId': 'Id' } : {}) } : {};
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: { pk: pk(key), sk: SERVICE_SK },
                ConditionExpression: `#holder = :holder AND #seq = :from${waitingCondition}`,
                UpdateExpression: `SET ${service.expression}${removal}`,
                ExpressionAttributeNames: { ...service.names, ...removeNames, ...waitingNames, '#holder': 'ActiveDeployId', '#seq': 'Seq' },
                ExpressionAttributeValues: { ...service.values, ...waitingValues, ':holder': t.deployId, ':from': t.fromSeq },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: { pk: pk(key), sk: t.historyOf === 'undeploy' ? undeploySk(t.deployId) : deploySk(t.deployId) },
                UpdateExpression: `SET ${history.expression}`,
                ExpressionAttributeNames: history.names,
                ExpressionAttributeValues: history.values,
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}

/** `:done0, :done1…` and their values, for conditions on "the service is at rest". */
function finishedPhases() {
  return {
    finished: FINISHED_PHASES.map((_, i) => `:done${i}`).join(', '),
    finishedValues: Object.fromEntries(FINISHED_PHASES.map((p, i) => [`:done${i}`, p])),
  };
}

/** History records expire (the table's TTL attribute) after this long. */
export const HISTORY_RETENTION_DAYS = 400;
export const expiresAt = (now: string) => Math.floor(Date.parse(now) / 1000) + HISTORY_RETENTION_DAYS * 86400;

function deploymentRecord(key: ServiceKey, request: DeployRequest, phase: Phase, now: string) {
  return {
    ExpiresAt: expiresAt(now),
    pk: pk(key),
    sk: deploySk(request.DeployId),
    ...key,
    DeployId: request.DeployId,
    AmiId: request.AmiId,
    Config: request.Config,
    StartedAt: request.StartedAt,
    RequestedBy: request.RequestedBy,
    Phase: phase,
    UpdatedAt: now,
  };
}

/** A conditional write that lost: someone else got there first (the caller decides what that means). */
function isConditionFailure(err: unknown): boolean {
  return err instanceof TransactionCanceledException || err instanceof ConditionalCheckFailedException;
}

async function unlessConditionFails(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** `#t0 = :t0, #t1 = :t1…` with placeholders for every name (many of ours are DynamoDB reserved words). */
function assignments(tag: string, attrs: Record<string, unknown>) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const parts = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v], i) => {
      names[`#${tag}${i}`] = k;
      values[`:${tag}${i}`] = v;
      return `#${tag}${i} = :${tag}${i}`;
    });
  return { expression: parts.join(', '), names, values };
}
