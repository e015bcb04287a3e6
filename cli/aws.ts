import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DomainEvent } from '../events/catalog';
import { publish } from '../events/publish';
import { explainAwsError, type CliError, type Resource } from './errors';

/** The global options: where Deployomat is and how to reach it. */
export interface GlobalOptions {
  endpoint?: string;
  region?: string;
  profile?: string;
  bus: string;
  table: string;
}

/**
 * SDK clients for the CLI, built from the global options (anything not given comes from the
 * standard AWS environment: AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...).
 */
export class Aws {
  private readonly clients = new Map<string, unknown>();

  constructor(readonly options: GlobalOptions) {}

  private get config() {
    const { endpoint, region, profile } = this.options;
    return { maxAttempts: 3, ...(endpoint && { endpoint }), ...(region && { region }), ...(profile && { profile }) };
  }

  private client<T>(key: string, make: () => T): T {
    if (!this.clients.has(key)) this.clients.set(key, make());
    return this.clients.get(key) as T;
  }

  events = () => this.client('events', () => new EventBridgeClient(this.config));
  sqs = () => this.client('sqs', () => new SQSClient(this.config));
  sts = () => this.client('sts', () => new STSClient(this.config));
  ledger = () =>
    this.client('ledger', () => DynamoDBDocumentClient.from(new DynamoDBClient(this.config), { marshallOptions: { removeUndefinedValues: true } }));

  /** Client settings acting through `roleArn` (assumed with the CLI's credentials), or as the CLI itself. */
  async configAs(roleArn: string | undefined, sessionName: string) {
    if (!roleArn) return this.config;
    const out = await this.sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 900 }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`STS returned no credentials for ${roleArn}`);
    return { ...this.config, credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } };
  }

  /** An ELBv2 client in a workload account, through a role there (as the handlers do). */
  async elbAs(roleArn: string): Promise<ElasticLoadBalancingV2Client> {
    return new ElasticLoadBalancingV2Client(await this.configAs(roleArn, 'deployomat-cli-status'));
  }

  /** The region the clients use (for messages); never throws. */
  async region(): Promise<string> {
    try {
      return await this.events().config.region();
    } catch {
      return this.options.region ?? 'the configured region';
    }
  }

  /** An AWS error as a CliError that says what to fix. */
  async explain(err: unknown, resource?: Resource): Promise<CliError> {
    const { bus, table, profile, endpoint } = this.options;
    return explainAwsError(err, { bus, table, profile, endpoint, region: await this.region() }, resource);
  }

  /**
   * Publishes one client command through events/publish.ts (schema-checked, with the catalog's
   * source) and returns its EventBridge event id, captured from the PutEvents response.
   */
  async publishCommand(event: DomainEvent): Promise<string> {
    // A client of its own: the middleware below must see only this call.
    const client = new EventBridgeClient(this.config);
    const ids: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        ids.push(...((result.output as PutEventsCommandOutput).Entries ?? []).map((e) => e.EventId ?? ''));
        return result;
      },
      { step: 'initialize', name: 'deployomatCliEventIds' },
    );
    try {
      await publish(client, this.options.bus, [event]);
    } catch (err) {
      throw await this.explain(err, 'bus');
    } finally {
      client.destroy();
    }
    if (!ids[0]) throw await this.explain(new Error('PutEvents returned no event id'), 'bus');
    return ids[0];
  }
}
