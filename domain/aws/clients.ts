import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import { OWNER_TAG, ownerOf } from './tags';

type ServiceRef = { AccountCanonicalSlug: string; ServiceName: string };

/**
 * SDK clients. Endpoint and region come from the standard environment (`AWS_ENDPOINT_URL`,
 * `AWS_REGION`), so the same code talks to AWS or to the local emulator. Read when the clients
 * are made: a call whose connection hangs fails after `DEPLOYOMAT_AWS_REQUEST_TIMEOUT_SECONDS`
 * (default 20) of silence and the SDK retries it, instead of holding the step until the Lambda
 * times out.
 */
export function sdkOptions() {
  const seconds = Number(process.env.DEPLOYOMAT_AWS_REQUEST_TIMEOUT_SECONDS ?? 20);
  const requestTimeout = (Number.isFinite(seconds) && seconds > 0 ? seconds : 20) * 1000;
  return { maxAttempts: 6, requestHandler: { connectionTimeout: 5_000, requestTimeout, throwOnRequestTimeout: true } };
}

export interface ControlPlane {
  events: EventBridgeClient;
  sqs: SQSClient;
  scheduler: SchedulerClient;
  dynamo: DynamoDBDocumentClient;
  sts: STSClient;
  ssm: SSMClient;
}

let controlPlane: ControlPlane | undefined;

/** Clients for Deployomat's own account (bus, queues, ledger), created once per Lambda container. */
export function controlPlaneClients(): ControlPlane {
  if (controlPlane) return controlPlane;
  const common = sdkOptions();
  controlPlane = {
    events: new EventBridgeClient(common),
    sqs: new SQSClient(common),
    scheduler: new SchedulerClient(common),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient(common), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    sts: new STSClient(common),
    ssm: new SSMClient(common),
  };
  return controlPlane;
}

export interface WorkloadClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  elb: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
}

export function workloadClients(credentials: AwsCredentialIdentity): WorkloadClients {
  const common = sdkOptions();
  return {
    ec2: new EC2Client({ ...common, credentials }),
    autoscaling: new AutoScalingClient({ ...common, credentials }),
    elb: new ElasticLoadBalancingV2Client({ ...common, credentials }),
    cloudwatch: new CloudWatchClient({ ...common, credentials }),
  };
}

export function ssmClient(credentials?: AwsCredentialIdentity): SSMClient {
  return credentials ? new SSMClient({ ...sdkOptions(), credentials }) : controlPlaneClients().ssm;
}

const credentialCache = new Map<string, AwsCredentialIdentity>();
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Assumes a role, reusing credentials while they have more than 5 minutes left: a warm Lambda
 * handling the next step of the same deploy skips the STS call.
 */
export async function assumeRole(args: {
  roleArn: string;
  sessionName: string;
  externalId?: string;
  /** Session tags, all transitive (they follow into roles assumed from this session). */
  tags?: Record<string, string>;
}): Promise<AwsCredentialIdentity> {
  const tags = Object.entries(args.tags ?? {});
  const key = `${args.roleArn}|${args.sessionName}|${args.externalId ?? ''}|${JSON.stringify(tags)}`;
  const cached = credentialCache.get(key);
  if (cached?.expiration && cached.expiration.getTime() - Date.now() > REFRESH_MARGIN_MS) return cached;
  const out = await controlPlaneClients().sts.send(
    new AssumeRoleCommand({
      RoleArn: args.roleArn,
      RoleSessionName: args.sessionName,
      ExternalId: args.externalId,
      DurationSeconds: 3600,
      Tags: tags.length ? tags.map(([Key, Value]) => ({ Key, Value })) : undefined,
      TransitiveTagKeys: tags.length ? tags.map(([k]) => k) : undefined,
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`STS returned no credentials for ${args.roleArn}`);
  const creds: AwsCredentialIdentity = {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
  credentialCache.set(key, creds);
  return creds;
}

/**
 * Credentials in a workload account through Deployomat's role there: session = deploy id, and the
 * `DeployomatService` session tag names the service, so the role touches only that service's
 * resources. `externalId`: the installation's (Config.roleExternalId), if the role requires one.
 */
export async function workloadCredentials(roleArn: string, sessionName: string, key: ServiceRef, externalId: string | undefined): Promise<AwsCredentialIdentity> {
  return assumeRole({ roleArn, sessionName, externalId, tags: { [OWNER_TAG]: ownerOf(key) } });
}

/** Clients acting in a workload account for one service (see workloadCredentials). */
export async function workloadAs(roleArn: string, sessionName: string, key: ServiceRef, externalId: string | undefined): Promise<WorkloadClients> {
  return workloadClients(await workloadCredentials(roleArn, sessionName, key, externalId));
}
