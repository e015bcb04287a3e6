import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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

export const Phase = z.enum(['Starting', 'WaitingHealthy', 'Shifting', 'Baking', 'Completed', 'Failed']);
export type Phase = z.output<typeof Phase>;

/** A new deploy may take the service only from these phases (and with no deploying ASG left). */
export const FINISHED_PHASES: readonly Phase[] = ['Completed'];


/** What the deploy was asked to do: written when it takes the service. */
export const DeployRequest = z.object({
  DeployId: z.string(),
  AmiId: z.string(),
  Config: DeployConfig,
  StartedAt: z.string(),
  /** Suffix of every resource name this deploy creates (see domain/naming). */
  Timestamp: z.string(),
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
  TargetGroupArn: z.string().optional(),
  MinSize: z.number().int(),
  MaxSize: z.number().int(),
  /** Min size to restore once the deploy is production (the template's `<org>:min_size`). */
  SteadyMinSize: z.number().int(),
  ProductionAsgName: z.string().optional(),
  ProductionTargetGroupArn: z.string().optional(),
  Rollout: z.enum(['web', 'first-web', 'non-web']),
  Rules: z.array(z.custom<LiveRule>((v) => typeof v === 'object' && v !== null && 'ruleArn' in v)),
  HealthDeadline: z.string(),
  Steps: z.number().int(),
});
export type DeployPlan = z.output<typeof DeployPlan>;

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
const deploySk = (deployId: string) => `DEPLOY#${deployId}`;

export interface Transition {
  deployId: string;
  fromSeq: number;
  /** Id of the event that caused the transition: a redelivery of it re-publishes the outbox. */
  cause: string;
  phase: Phase;
  /** Extra top-level service attributes to set (e.g. `Plan`, `DeployAsgName`). */
  set?: Partial<Pick<ServiceState, 'Plan' | 'DeployAsgName' | 'ProductionAsgName' | 'UndeployState'>>;
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
  async take(key: ServiceKey, request: DeployRequest, cause: string): Promise<boolean> {
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
    const finished = FINISHED_PHASES.map((_, i) => `:done${i}`).join(', ');
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: { pk: pk(key), sk: SERVICE_SK },
                // Free: never deployed, or the last deploy finished, left no deploying ASG, and no undeploy runs.
                ConditionExpression: `attribute_not_exists(pk) OR (#phase IN (${finished}) AND #deployAsg = :empty AND #undeploy <> :undeploying)`,
                UpdateExpression:
                  `SET ${update.expression}, #prodAsg = if_not_exists(#prodAsg, :empty), #undeploy = if_not_exists(#undeploy, :empty) ` +
                  'REMOVE #plan',
                ExpressionAttributeNames: {
                  ...update.names,
                  '#phase': 'Phase',
                  '#deployAsg': 'DeployAsgName',
                  '#prodAsg': 'ProductionAsgName',
                  '#undeploy': 'UndeployState',
                  '#plan': 'Plan',
                },
                ExpressionAttributeValues: {
                  ...update.values,
                  ...Object.fromEntries(FINISHED_PHASES.map((p, i) => [`:done${i}`, p])),
                  ':empty': '',
                  ':undeploying': 'undeploying',
                },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: pk(key),
                  sk: deploySk(request.DeployId),
                  ...key,
                  DeployId: request.DeployId,
                  AmiId: request.AmiId,
                  Config: request.Config,
                  StartedAt: request.StartedAt,
                  Phase: 'Starting',
                  UpdatedAt: now,
                },
                ConditionExpression: 'attribute_not_exists(sk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof TransactionCanceledException || err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /** Records a deploy that never got the service (e.g. another deploy was running). */
  async recordUnstarted(key: ServiceKey, request: DeployRequest, phase: Phase, history: Record<string, unknown>) {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: pk(key),
                  sk: deploySk(request.DeployId),
                  ...key,
                  DeployId: request.DeployId,
                  AmiId: request.AmiId,
                  Config: request.Config,
                  StartedAt: request.StartedAt,
                  Phase: phase,
                  UpdatedAt: new Date().toISOString(),
                  ...history,
                },
                ConditionExpression: 'attribute_not_exists(sk)',
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException || err instanceof ConditionalCheckFailedException) return;
      throw err;
    }
  }

  /** Moves the deploy from `fromSeq` to `fromSeq + 1`. False if the ledger was not where expected. */
  async advance(key: ServiceKey, t: Transition): Promise<boolean> {
    const now = new Date().toISOString();
    const service = assignments('s', { ...t.set, Phase: t.phase, Seq: t.fromSeq + 1, Outbox: t.outbox, OutboxCause: t.cause, UpdatedAt: now });
    const history = assignments('h', { ...t.history, Phase: t.phase, UpdatedAt: now });
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: { pk: pk(key), sk: SERVICE_SK },
                ConditionExpression: '#holder = :holder AND #seq = :from',
                UpdateExpression: `SET ${service.expression}`,
                ExpressionAttributeNames: { ...service.names, '#holder': 'ActiveDeployId', '#seq': 'Seq' },
                ExpressionAttributeValues: { ...service.values, ':holder': t.deployId, ':from': t.fromSeq },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: { pk: pk(key), sk: deploySk(t.deployId) },
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
      if (err instanceof TransactionCanceledException || err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
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
