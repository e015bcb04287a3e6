import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** The account and region every test stack is synthesized for. */
export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const env = { account: ACCOUNT, region: REGION };

/** Cloud assemblies of the test file importing this module, removed after it. */
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A CDK app writing to its own temporary directory. Without `bundle`, asset bundling is skipped
 * (CDK's own `aws:cdk:bundling-stacks` context, what `cdk synth --exclusively` uses): the template
 * is the same, only the code asset is not built (deployomat.test.ts builds them). Without
 * `validate`, CDK's built-in CloudFormation schema validation (about 3 s per stack) is off: cfn-lint
 * checks the same templates in compliance.test.ts, and `npm run synth` runs it.
 */
export function newApp(opts: { bundle?: boolean; validate?: boolean } = {}): App {
  const outdir = mkdtempSync(join(tmpdir(), 'deployomat-cdk-'));
  outdirs.push(outdir);
  return new App({
    outdir,
    context: opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: opts.validate ?? false,
  });
}

export function newStack(app: App, id = 'Test'): Stack {
  return new Stack(app, id, { env });
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

/** Resources of one type, with their logical ids. */
export function resourcesOf(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export function props(resource: CfnResource): Record<string, unknown> {
  return resource.Properties ?? {};
}

/** The logical id a `{Ref}` or `{Fn::GetAtt}` points at. */
export function refId(value: unknown): string | undefined {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return v?.Ref ?? v?.['Fn::GetAtt']?.[0];
}

/**
 * Resolves the intrinsic functions of a synthesized template to the strings AWS would see, as far
 * as policies need: pseudo parameters, `Ref`/`Fn::GetAtt` of the resources Deployomat creates,
 * `Fn::Join`. Anything else throws, so a test never evaluates a policy it misread.
 */
export function resolve(value: unknown, template: CfnTemplate): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, template));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if ('Ref' in o) return ref(o.Ref as string, 'Ref', template);
  if ('Fn::GetAtt' in o) {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    return ref(id, attr, template);
  }
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(resolve(p, template))).join(sep);
  }
  if (Object.keys(o).some((k) => k.startsWith('Fn::'))) throw new Error(`unsupported intrinsic ${JSON.stringify(o)}`);
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, template)]));
}

function ref(id: string, attr: string, template: CfnTemplate): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (pseudo[id]) return pseudo[id];
  const r = template.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  const p = props(r);
  const name = (key: string) => String(resolve(p[key], template) ?? id);
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  const key = `${r.Type}.${attr}`;
  switch (key) {
    case 'AWS::IAM::Role.Ref':
      return name('RoleName');
    case 'AWS::IAM::Role.Arn':
      return `arn:aws:iam::${ACCOUNT}:role${(p.Path as string | undefined) ?? '/'}${name('RoleName')}`;
    case 'AWS::Events::EventBus.Ref':
    case 'AWS::Events::EventBus.Name':
      return name('Name');
    case 'AWS::Events::EventBus.Arn':
      return arn('events', `event-bus/${name('Name')}`);
    case 'AWS::Events::Rule.Arn': {
      const bus = p.EventBusName === undefined ? 'default' : String(resolve(p.EventBusName, template));
      return arn('events', `rule/${bus === 'default' ? '' : `${bus}/`}${name('Name')}`);
    }
    case 'AWS::DynamoDB::Table.Ref':
      return name('TableName');
    case 'AWS::DynamoDB::Table.Arn':
      return arn('dynamodb', `table/${name('TableName')}`);
    case 'AWS::SQS::Queue.Ref':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name('QueueName')}`;
    case 'AWS::SQS::Queue.Arn':
      return arn('sqs', name('QueueName'));
    case 'AWS::SQS::Queue.QueueName':
      return name('QueueName');
    case 'AWS::Logs::LogGroup.Ref':
      return name('LogGroupName');
    case 'AWS::Logs::LogGroup.Arn':
      return arn('logs', `log-group:${name('LogGroupName')}:*`);
    case 'AWS::Scheduler::ScheduleGroup.Ref':
      return name('Name');
    case 'AWS::Scheduler::ScheduleGroup.Arn':
      return arn('scheduler', `schedule-group/${name('Name')}`);
    case 'AWS::SecretsManager::Secret.Ref':
      return arn('secretsmanager', `secret:${name('Name')}-AbCdEf`);
    case 'AWS::S3::Bucket.Ref':
      return name('BucketName');
    case 'AWS::S3::Bucket.Arn':
      return `arn:aws:s3:::${name('BucketName')}`;
    case 'AWS::KMS::Key.Arn':
      return arn('kms', `key/${id}`);
    default:
      throw new Error(`cannot resolve ${key} of ${id}`);
  }
}

export interface PolicyDocument {
  Version?: string;
  Statement: Record<string, unknown>[];
}

/**
 * The identity policies of a role, resolved: its inline policies and every AWS::IAM::Policy and
 * AWS::IAM::ManagedPolicy attached to it (CDK moves statements into managed "overflow" policies
 * when a role's inline policy grows too large).
 */
export function identityPolicies(template: CfnTemplate, roleId: string): PolicyDocument[] {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role`);
  if (props(role).ManagedPolicyArns) throw new Error(`${roleId} has managed policies the tests do not evaluate`);
  const inline = ((props(role).Policies ?? []) as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument);
  const attached = [...resourcesOf(template, 'AWS::IAM::Policy'), ...resourcesOf(template, 'AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => ((props(p).Roles ?? []) as unknown[]).some((r) => refId(r) === roleId))
    .map(([, p]) => props(p).PolicyDocument);
  return [...inline, ...attached].map((doc) => resolve(doc, template) as PolicyDocument);
}

export function trustPolicy(template: CfnTemplate, roleId: string): PolicyDocument {
  return resolve(props(template.Resources[roleId]!).AssumeRolePolicyDocument, template) as PolicyDocument;
}

/** The one role of a template whose logical id starts with `prefix` (CDK appends a hash). */
export function roleId(template: CfnTemplate, prefix: string): string {
  const ids = resourcesOf(template, 'AWS::IAM::Role')
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one role ${prefix}*, found ${JSON.stringify(ids)}`);
  return ids[0]!;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Request {
  /** The calling principal (for a role session: the role ARN). */
  principal: string;
  action: string;
  resource: string;
  /** Account owning the resource. @default ACCOUNT */
  resourceAccount?: string;
  context?: Record<string, string | string[]>;
  identity?: PolicyDocument[];
  resourcePolicy?: PolicyDocument;
}

/** Evaluates a request against policies with the IAM policy simulator (offline). */
export async function simulate(req: Request): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: (req.identity ?? []).map((policy, i) => ({ name: `policy${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: req.resourcePolicy,
      request: {
        principal: req.principal,
        action: req.action,
        resource: { resource: req.resource, accountId: req.resourceAccount ?? ACCOUNT },
        contextVariables: req.context ?? {},
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation rejected: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

/** Every statement of every policy in a template (identity, trust, resource policies), unresolved. */
export function allStatements(template: CfnTemplate): { resource: string; statement: Record<string, unknown> }[] {
  const out: { resource: string; statement: Record<string, unknown> }[] = [];
  const add = (resource: string, doc: unknown) => {
    for (const statement of ((doc as PolicyDocument | undefined)?.Statement ?? [])) out.push({ resource, statement });
  };
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = props(r);
    add(id, p.PolicyDocument);
    add(id, p.AssumeRolePolicyDocument);
    for (const inline of (p.Policies ?? []) as { PolicyDocument: unknown }[]) add(id, inline.PolicyDocument);
    if (r.Type === 'AWS::Events::EventBusPolicy') add(id, { Statement: [p.Statement] });
  }
  return out;
}

export const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The bus policy: one statement per AWS::Events::EventBusPolicy resource, as EventBridge joins them. */
export function busPolicy(template: CfnTemplate): PolicyDocument {
  const statements = resourcesOf(template, 'AWS::Events::EventBusPolicy').map(([, p]) => resolve(props(p).Statement, template) as Record<string, unknown>);
  if (!statements.length) throw new Error('the template has no bus policy');
  return { Version: '2012-10-17', Statement: statements };
}

/** The resolved policy of the queue named `name` (its one AWS::SQS::QueuePolicy). */
export function queuePolicy(template: CfnTemplate, name: string): PolicyDocument {
  const [queueId] = resourcesOf(template, 'AWS::SQS::Queue').find(([, q]) => props(q).QueueName === name) ?? [];
  if (!queueId) throw new Error(`no queue ${name}`);
  const policies = resourcesOf(template, 'AWS::SQS::QueuePolicy').filter(([, p]) => (props(p).Queues as { Ref: string }[]).some((q) => q.Ref === queueId));
  if (policies.length !== 1) throw new Error(`queue ${name} has ${policies.length} queue policies, expected one`);
  return resolve(props(policies[0]![1]).PolicyDocument, template) as PolicyDocument;
}
