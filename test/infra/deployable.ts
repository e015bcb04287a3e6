import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { catalog, CLIENT_SOURCE, LIFECYCLE_SOURCE, type DetailType } from '../../events/catalog';
import { EventEnvelope } from '../../events/envelope';
import { eventJsonSchema, type JsonSchema } from '../../events/json-schema';
import { DeployomatUpdate, PROGRESS_DETAIL_TYPE, PROGRESS_SOURCE, type ProgressDetailType } from '../../events/progress';
import type { Subscription } from '../../events/topology';
import { ACCOUNT, props, refId, REGION, resolve, type CfnResource, type CfnTemplate } from './helpers';

/**
 * What CloudFormation and the services check only at deploy time, checked on synthesized
 * templates: physical names against the AWS API models (botocore's, read at test time), each
 * handler's timeout against its queue, and rule patterns against sample events of the catalog.
 * Each checker returns the violations it finds, so a test can feed it a template with a seeded
 * mistake.
 */

// ---------------------------------------------------------------------------------------------
// AWS API models (botocore)

/** Where an AWS API model describes a value: an operation's input member, or a shape by name. */
export type ModelRef =
  | { readonly service: string; readonly operation: string; readonly member: string }
  | { readonly service: string; readonly shape: string };

/** A member's constraints as the model states them; `documentation` as plain text. */
export interface ModelShape {
  readonly shape: string;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly documentation: string;
}

/** The interpreter infra/local/emulator.ts runs moto with (botocore comes with moto). */
const PYTHON = 'python3';

const READ_SHAPES = String.raw`
import html, json, re, sys
try:
    import botocore, botocore.session
except ImportError as err:
    print(json.dumps({"error": str(err)}))
    sys.exit(0)
session = botocore.session.get_session()
shapes = []
for ref in json.loads(sys.stdin.read()):
    model = session.get_service_model(ref["service"])
    if "shape" in ref:
        shape = model.shape_for(ref["shape"])
    else:
        shape = model.operation_model(ref["operation"]).input_shape.members[ref["member"]]
    doc = re.sub(r"</?(p|li|ul|ol|br|note|important|div)\b[^>]*>", " ", shape.documentation or "")
    doc = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", doc))).strip()
    meta = shape.metadata
    shapes.append({"shape": shape.name, "min": meta.get("min"), "max": meta.get("max"), "pattern": meta.get("pattern"), "documentation": doc})
print(json.dumps({"botocore": botocore.__version__, "shapes": shapes}))
`;

/** Runs `python3 -c script` with `input` on stdin (asynchronously: a test worker must keep answering vitest meanwhile). */
function python(script: string, input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err) => reject(new Error(`cannot run ${PYTHON} to read the AWS API models (${err.message})`, { cause: err })));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

/**
 * Reads `refs` from the service models botocore ships (one python3 process for all of them), in
 * the order given. Fails with what to install when botocore is missing.
 */
export async function readModels(refs: readonly ModelRef[]): Promise<{ botocore: string; shapes: ModelShape[] }> {
  const run = await python(READ_SHAPES, JSON.stringify(refs));
  if (run.status !== 0) throw new Error(`reading the AWS API models failed:\n${run.stderr.trim()}`);
  const out = JSON.parse(run.stdout) as { error?: string; botocore: string; shapes: (ModelShape & { min: number | null; max: number | null; pattern: string | null })[] };
  if (out.error) {
    throw new Error(`the AWS API models come from botocore, which ${PYTHON} cannot import (${out.error}): install it with "${PYTHON} -m pip install 'moto[server]>=5.2,<6'" (the emulator's requirement, which brings botocore)`);
  }
  return {
    botocore: out.botocore,
    shapes: out.shapes.map((s) => ({
      shape: s.shape,
      documentation: s.documentation,
      ...(s.min !== null ? { min: s.min } : {}),
      ...(s.max !== null ? { max: s.max } : {}),
      ...(s.pattern !== null ? { pattern: s.pattern } : {}),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Physical names

/**
 * A rule a model states only in its documentation (e.g. "A queue name can have up to 80
 * characters"): the phrase must still be there — otherwise the rule is stale and the checker says
 * so — and each name must pass `check` (which gets the phrase's match: the numbers it states).
 */
export interface DocumentedRule {
  readonly says: RegExp;
  readonly check: (name: string, said: RegExpMatchArray) => string | undefined;
}

export interface NameRule {
  readonly model: ModelRef;
  readonly documented?: readonly DocumentedRule[];
}

const atMost = (says: RegExp): DocumentedRule => ({
  says,
  check: (name, [, max]) => (name.length > Number(max) ? `${name.length} characters, more than the documented ${max}` : undefined),
});
const between = (says: RegExp): DocumentedRule => ({
  says,
  check: (name, [, min, max]) =>
    name.length < Number(min) || name.length > Number(max) ? `${name.length} characters, not the documented ${min}-${max}` : undefined,
});
const must = (says: RegExp, holds: (name: string) => boolean): DocumentedRule => ({
  says,
  check: (name, [phrase]) => (holds(name) ? undefined : `breaks the documented rule "${phrase}"`),
});

const ssmArn = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter`;

/**
 * Every property by which a template names something (or describes it: descriptions have limits
 * too), as `<resource type>.<property>`, and where the AWS API model states its limits: the
 * service's own create call (CloudFormation calls it with the value as given).
 */
export const NAME_RULES: Readonly<Record<string, NameRule>> = {
  'AWS::CloudTrail::Trail.TrailName': {
    model: { service: 'cloudtrail', operation: 'CreateTrail', member: 'Name' },
    documented: [
      between(/Be between (\d+) and (\d+) characters/),
      must(/Contain only ASCII letters \(a-z, A-Z\), numbers \(0-9\), periods \(\.\), underscores \(_\), or dashes \(-\)/, (n) => /^[A-Za-z0-9._-]+$/.test(n)),
      must(/Start with a letter or number, and end with a letter or number/, (n) => /^[A-Za-z0-9](?:.*[A-Za-z0-9])?$/.test(n)),
      must(/Have no adjacent periods, underscores or dashes/, (n) => !/[._-]{2}/.test(n)),
      must(/Not be in IP address format/, (n) => !/^\d+\.\d+\.\d+\.\d+$/.test(n)),
    ],
  },
  'AWS::CloudWatch::Alarm.AlarmDescription': { model: { service: 'cloudwatch', operation: 'PutMetricAlarm', member: 'AlarmDescription' } },
  'AWS::CloudWatch::Alarm.AlarmName': { model: { service: 'cloudwatch', operation: 'PutMetricAlarm', member: 'AlarmName' } },
  'AWS::CloudWatch::Alarm.MetricName': { model: { service: 'cloudwatch', operation: 'PutMetricAlarm', member: 'MetricName' } },
  // CreateTable's TableName also takes an ARN (1024): the name itself is the TableName shape.
  'AWS::DynamoDB::Table.TableName': { model: { service: 'dynamodb', shape: 'TableName' } },
  'AWS::Events::Archive.ArchiveName': { model: { service: 'events', operation: 'CreateArchive', member: 'ArchiveName' } },
  'AWS::Events::Archive.Description': { model: { service: 'events', operation: 'CreateArchive', member: 'Description' } },
  'AWS::Events::EventBus.Name': {
    model: { service: 'events', operation: 'CreateEventBus', member: 'Name' },
    documented: [{ says: /You can't use the name (\w+) for a custom event bus/, check: (n, [, reserved]) => (n === reserved ? `"${reserved}" is the account's default bus` : undefined) }],
  },
  'AWS::Events::EventBusPolicy.StatementId': { model: { service: 'events', operation: 'PutPermission', member: 'StatementId' } },
  'AWS::Events::Rule.Description': { model: { service: 'events', operation: 'PutRule', member: 'Description' } },
  'AWS::Events::Rule.Name': { model: { service: 'events', operation: 'PutRule', member: 'Name' } },
  'AWS::IAM::ManagedPolicy.Description': { model: { service: 'iam', operation: 'CreatePolicy', member: 'Description' } },
  'AWS::IAM::ManagedPolicy.ManagedPolicyName': { model: { service: 'iam', operation: 'CreatePolicy', member: 'PolicyName' } },
  'AWS::IAM::ManagedPolicy.Path': { model: { service: 'iam', operation: 'CreatePolicy', member: 'Path' } },
  'AWS::IAM::Policy.PolicyName': { model: { service: 'iam', operation: 'PutRolePolicy', member: 'PolicyName' } },
  'AWS::IAM::Role.Description': { model: { service: 'iam', operation: 'CreateRole', member: 'Description' } },
  'AWS::IAM::Role.Path': { model: { service: 'iam', operation: 'CreateRole', member: 'Path' } },
  'AWS::IAM::Role.RoleName': { model: { service: 'iam', operation: 'CreateRole', member: 'RoleName' } },
  'AWS::KMS::Alias.AliasName': {
    model: { service: 'kms', operation: 'CreateAlias', member: 'AliasName' },
    documented: [
      { says: /This value must begin with (alias\/)/, check: (n, [, start]) => (n.startsWith(start!) ? undefined : `does not begin with ${start}`) },
      { says: /The alias name cannot begin with (alias\/aws\/)/, check: (n, [, reserved]) => (n.startsWith(reserved!) ? `begins with the reserved ${reserved}` : undefined) },
    ],
  },
  'AWS::KMS::Key.Description': { model: { service: 'kms', operation: 'CreateKey', member: 'Description' } },
  // FunctionName's model limit (140) is for ARNs; the documentation gives the name's own.
  'AWS::Lambda::Function.FunctionName': {
    model: { service: 'lambda', operation: 'CreateFunction', member: 'FunctionName' },
    documented: [atMost(/If you specify only the function name, it is limited to (\d+) characters/)],
  },
  'AWS::Lambda::Function.Description': { model: { service: 'lambda', operation: 'CreateFunction', member: 'Description' } },
  'AWS::Logs::LogGroup.LogGroupName': { model: { service: 'logs', operation: 'CreateLogGroup', member: 'logGroupName' } },
  'AWS::Scheduler::ScheduleGroup.Name': { model: { service: 'scheduler', operation: 'CreateScheduleGroup', member: 'Name' } },
  'AWS::SecretsManager::Secret.Description': { model: { service: 'secretsmanager', operation: 'CreateSecret', member: 'Description' } },
  'AWS::SecretsManager::Secret.Name': { model: { service: 'secretsmanager', operation: 'CreateSecret', member: 'Name' } },
  // The model gives no limits for queue names, only its documentation.
  'AWS::SQS::Queue.QueueName': {
    model: { service: 'sqs', operation: 'CreateQueue', member: 'QueueName' },
    documented: [
      atMost(/A queue name can have up to (\d+) characters/),
      must(/Valid values: alphanumeric characters, hyphens \(-\), and underscores \(_\)/, (n) => /^[A-Za-z0-9_-]+$/.test(n)),
    ],
  },
  // 2048 in the model includes SSM's own reserve; the documentation gives the name's limit, counted with its ARN.
  'AWS::SSM::Parameter.Name': {
    model: { service: 'ssm', operation: 'PutParameter', member: 'Name' },
    documented: [
      {
        says: /The maximum length for a parameter name that you specify is (\d+) characters\. This count of \d+ characters includes the characters in the ARN that precede the name/,
        check: (n, [, max]) => {
          const arn = `${ssmArn}${n.startsWith('/') ? '' : '/'}${n}`;
          return arn.length > Number(max) ? `${arn.length} characters with its ARN, more than the documented ${max}` : undefined;
        },
      },
      must(/Parameter names can include only the following symbols and letters: a-zA-Z0-9_\.-/, (n) => /^[A-Za-z0-9_./-]+$/.test(n)),
      must(/A parameter name can't be prefixed with "aws" or "ssm" \(case-insensitive\)/, (n) => !/^\/?(aws|ssm)/i.test(n)),
      must(/Parameter hierarchies are limited to a maximum depth of fifteen levels/, (n) => n.split('/').filter(Boolean).length <= 15),
    ],
  },
  'AWS::SSM::Parameter.Description': { model: { service: 'ssm', operation: 'PutParameter', member: 'Description' } },
};

/** A property that names or describes something (and so needs a rule in {@link NAME_RULES}). */
const NAMING_PROPERTY = /(Name|Description|Path|StatementId)$/;

/** The checks of one named property, from its model shape (length, pattern) and documented rules. */
export interface NameCheck {
  readonly model: string;
  readonly check: (name: string) => string[];
}

/** The model's `pattern` (Java syntax, matched against the whole value) as a JS RegExp. */
function wholePattern(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return new RegExp(`^(?:${pattern})$`);
  }
}

/** The checks of every rule of `rules`, read from the AWS API models in one go. */
export async function loadNameChecks(rules: Readonly<Record<string, NameRule>> = NAME_RULES): Promise<{ botocore: string; checks: Map<string, NameCheck> }> {
  const keys = Object.keys(rules);
  const { botocore, shapes } = await readModels(keys.map((k) => rules[k]!.model));
  const checks = new Map<string, NameCheck>();
  keys.forEach((key, i) => {
    const shape = shapes[i]!;
    const rule = rules[key]!;
    const ref = rule.model;
    const model = 'shape' in ref ? `${ref.service} ${ref.shape}` : `${ref.service} ${ref.operation}.${ref.member}`;
    const pattern = shape.pattern === undefined ? undefined : wholePattern(shape.pattern);
    const documented = (rule.documented ?? []).map((d) => ({ d, said: shape.documentation.match(d.says) }));
    checks.set(key, {
      model,
      check: (name) => {
        const problems: string[] = [];
        if (shape.min !== undefined && name.length < shape.min) problems.push(`${name.length} characters, fewer than ${shape.min} (${model})`);
        if (shape.max !== undefined && name.length > shape.max) problems.push(`${name.length} characters, more than ${shape.max} (${model})`);
        if (pattern && !pattern.test(name)) problems.push(`does not match ${shape.pattern} (${model})`);
        for (const { d, said } of documented) {
          if (!said) {
            problems.push(`the documentation of ${model} no longer says ${d.says}: review its rule in NAME_RULES`);
            continue;
          }
          const problem = d.check(name, said);
          if (problem) problems.push(`${problem} (${model})`);
        }
        return problems;
      },
    });
  });
  return { botocore, checks };
}

const isReference = (value: unknown): boolean => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && ['Ref', 'Fn::GetAtt', 'Fn::ImportValue'].includes(keys[0]!);
};

/**
 * Every name (and description) the templates set, checked: `<file> <logical id> <type>.<property>
 * "<value>": <problem>` per violation, and a violation for each naming property no rule covers. A
 * bare `Ref`/`Fn::GetAtt` names something set elsewhere in the template, where it is checked.
 */
export function checkNames(templates: ReadonlyMap<string, CfnTemplate>, checks: ReadonlyMap<string, NameCheck>): { checked: number; violations: string[] } {
  const violations: string[] = [];
  let checked = 0;
  for (const [file, template] of templates) {
    for (const [id, resource] of Object.entries(template.Resources)) {
      for (const [property, value] of Object.entries(props(resource))) {
        if (!NAMING_PROPERTY.test(property) || isReference(value)) continue;
        const key = `${resource.Type}.${property}`;
        const check = checks.get(key);
        if (!check) {
          violations.push(`${file} ${id} ${key}: no rule says where its limits are (add one to NAME_RULES)`);
          continue;
        }
        const name = resolve(value, template);
        if (typeof name !== 'string') {
          violations.push(`${file} ${id} ${key}: not a string (${JSON.stringify(name)})`);
          continue;
        }
        checked++;
        for (const problem of check.check(name)) violations.push(`${file} ${id} ${key} "${name}": ${problem}`);
      }
    }
  }
  return { checked, violations };
}

// ---------------------------------------------------------------------------------------------
// Timeouts and retention

/** The AWS defaults a template relies on when it leaves a setting out, as the API models document them. */
export interface QueueDefaults {
  readonly lambdaTimeout: number;
  readonly visibilityTimeout: number;
  readonly messageRetentionPeriod: number;
}

const number = (text: string) => Number(text.replace(/,/g, ''));

/** Lambda's and SQS's defaults, read from the documentation of CreateFunction.Timeout and CreateQueue.Attributes. */
export async function loadQueueDefaults(): Promise<QueueDefaults> {
  const [timeout, attributes] = (await readModels([
    { service: 'lambda', operation: 'CreateFunction', member: 'Timeout' },
    { service: 'sqs', operation: 'CreateQueue', member: 'Attributes' },
  ])).shapes.map((s) => s.documentation);
  const said = (text: string | undefined, re: RegExp, what: string) => {
    const m = text?.match(re);
    if (!m) throw new Error(`the AWS API model no longer documents ${what} as ${re}: review loadQueueDefaults`);
    return number(m[1]!);
  };
  return {
    lambdaTimeout: said(timeout, /The default is (\d+) seconds/, "Lambda's default timeout"),
    visibilityTimeout: said(attributes, /VisibilityTimeout – [^–]*?Default: ([\d,]+)/, "SQS's default visibility timeout"),
    messageRetentionPeriod: said(attributes, /MessageRetentionPeriod – [^–]*?Default: ([\d,]+)/, "SQS's default retention"),
  };
}

const queueName = (template: CfnTemplate, id: string) => String(resolve(props(template.Resources[id]!).QueueName, template) ?? id);

/**
 * Per SQS event source of every function: the function's timeout is below the queue's visibility
 * timeout (else a message still being handled is delivered again, and Lambda refuses the mapping
 * when it is above), and the queue has a dead-letter queue whose retention is longer than its own
 * (SQS keeps a dead-lettered message's first enqueue time: with a retention no longer than the
 * queue's, it expires in the dead-letter queue at once, or soon). A queue without a dead-letter
 * queue is allowed only if it is itself another queue's dead-letter queue.
 */
export function checkQueueTimings(template: CfnTemplate, defaults: QueueDefaults): { checked: number; violations: string[] } {
  const violations: string[] = [];
  let checked = 0;
  const resource = (id: string | undefined, type: string): CfnResource | undefined => {
    const r = id === undefined ? undefined : template.Resources[id];
    return r?.Type === type ? r : undefined;
  };
  const redrive = (queue: CfnResource) => props(queue).RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
  const deadLetterTargets = new Set(
    Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::SQS::Queue')
      .map((q) => refId(redrive(q)?.deadLetterTargetArn))
      .filter((id): id is string => id !== undefined),
  );
  for (const [id, mapping] of Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')) {
    const fnId = refId(props(mapping).FunctionName);
    const fn = resource(fnId, 'AWS::Lambda::Function');
    const queueId = refId(props(mapping).EventSourceArn);
    const queue = resource(queueId, 'AWS::SQS::Queue');
    if (!fn || !queue) {
      violations.push(`${id}: not a function of this template fed by a queue of this template`);
      continue;
    }
    checked++;
    const fnName = String(resolve(props(fn).FunctionName, template) ?? fnId);
    const name = queueName(template, queueId!);
    const timeout = Number(props(fn).Timeout ?? defaults.lambdaTimeout);
    const visibility = Number(props(queue).VisibilityTimeout ?? defaults.visibilityTimeout);
    if (!(timeout < visibility)) violations.push(`${fnName}: timeout ${timeout} s is not below the visibility timeout of ${name} (${visibility} s)`);
    const dlqId = refId(redrive(queue)?.deadLetterTargetArn);
    if (dlqId === undefined) {
      if (!deadLetterTargets.has(queueId!)) violations.push(`${name} (feeding ${fnName}): no dead-letter queue`);
      continue;
    }
    const dlq = resource(dlqId, 'AWS::SQS::Queue');
    if (!dlq) {
      violations.push(`${name}: its dead-letter queue ${dlqId} is not a queue of this template`);
      continue;
    }
    const retention = Number(props(queue).MessageRetentionPeriod ?? defaults.messageRetentionPeriod);
    const dlqRetention = Number(props(dlq).MessageRetentionPeriod ?? defaults.messageRetentionPeriod);
    if (!(dlqRetention > retention)) {
      violations.push(`${queueName(template, dlqId)}: retention ${dlqRetention} s is not longer than that of ${name} (${retention} s), whose dead letters it keeps`);
    }
  }
  return { checked, violations };
}

// ---------------------------------------------------------------------------------------------
// Sample events and rule patterns

const ELB = 'arn:aws:elasticloadbalancing:us-east-1:222222222222';
/** What a field of a sample detail holds, by its name (the last one that names it wins). */
const SAMPLE_FIELDS: [RegExp, string][] = [
  [/Id$/, 'd-20260504T120000Z-storefront'],
  [/^AccountCanonicalSlug$/, 'acme-workload-dev'],
  [/AmiId$/, 'ami-0123456789abcdef0'],
  [/^LaunchTemplateId$/, 'lt-0123456789abcdef0'],
  [/AsgName$/, 'storefront-20260504T120000Z'],
  [/At$/, '2026-05-04T12:05:00.000Z'],
  [/^Environment$/, 'development'],
  [/^(Reasons?|Errors|Warnings)$/, 'the new instances failed their health checks'],
  [/TargetGroupArns?$/, `${ELB}:targetgroup/storefront-20260504T120000Z/0123456789abcdef`],
  [/RuleArns?$/, `${ELB}:listener-rule/app/web/0123456789abcdef/0123456789abcdef/0123456789abcdef`],
  [/^ListenerArn$/, `${ELB}:listener/app/web/0123456789abcdef/0123456789abcdef`],
];
/** Strings any other field may use, tried in order against its pattern. */
const SAMPLE_STRINGS = ['storefront', 'acme-workload-dev', 'd-20260504T120000Z-storefront'];

const sampleString = (path: string, pattern: RegExp | undefined): string | undefined => {
  const field = path.replace(/\[\d+\]$/, '').split('.').pop()!;
  const named = SAMPLE_FIELDS.filter(([name]) => name.test(field)).map(([, value]) => value).reverse();
  return [...named, ...SAMPLE_STRINGS].find((s) => !pattern || pattern.test(s));
};

/** A value `schema` accepts, built from the schema alone (its example, when it has one). */
function sampleOf(schema: JsonSchema, path: string): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length) return sampleOf(options[0] as JsonSchema, path);
  }
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, sampleOf(v, `${path}.${k}`)]));
    }
    case 'array':
      return schema.items ? [sampleOf(schema.items as JsonSchema, `${path}[0]`)] : [];
    case 'string': {
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined;
      const value = sampleString(path, pattern);
      if (value === undefined) throw new Error(`no sample string for ${path} matches ${String(schema.pattern)}`);
      return value;
    }
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 1;
      return typeof schema.maximum === 'number' ? Math.min(min, schema.maximum) : min;
    }
    case 'boolean':
      return false;
    default:
      throw new Error(`cannot build a sample for ${path} (${JSON.stringify(schema)})`);
  }
}

/** Per detail-type, a sample detail valid for the catalog's schema (built once). */
const details = new Map<DetailType, unknown>();

/** A detail of `detailType` that its catalog schema accepts: its example, or one built from its JSON Schema. */
export function sampleDetail(detailType: DetailType): unknown {
  if (!details.has(detailType)) {
    const detail = sampleOf(eventJsonSchema(detailType), detailType);
    const parsed = catalog[detailType].schema.safeParse(detail);
    if (!parsed.success) {
      throw new Error(`the sample ${detailType} ${JSON.stringify(detail)} is not valid (${parsed.error.message}): give it an example in events/json-schema.ts`);
    }
    details.set(detailType, detail);
  }
  return details.get(detailType);
}

/**
 * An event of `detailType` as EventBridge delivers it (the envelope a target receives), from the
 * catalog's source unless `source` says otherwise; `replayName` makes it an archive replay's.
 */
/** The progress update others publish (events/progress.ts), as a sample event's detail. */
const PROGRESS_SAMPLE: DeployomatUpdate = { AccountCanonicalSlug: 'acme-workload-dev', ServiceName: 'storefront', DeployId: 'storefront-1', Updates: ['smoke tests passed'] };

export function sampleEvent(detailType: DetailType | ProgressDetailType, opts: { source?: string; replayName?: string } = {}): Record<string, unknown> {
  const progress = detailType === PROGRESS_DETAIL_TYPE;
  const source = opts.source ?? (progress ? PROGRESS_SOURCE : catalog[detailType].source);
  // An id as EventBridge's (a UUID), the same for the same event: results can be remembered.
  const hex = createHash('sha256').update(JSON.stringify([detailType, source, opts.replayName])).digest('hex');
  const event = {
    version: '0',
    id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`,
    'detail-type': detailType,
    source,
    account: ACCOUNT,
    time: '2026-05-04T12:00:00Z',
    region: REGION,
    resources: [],
    detail: progress ? DeployomatUpdate.parse(PROGRESS_SAMPLE) : sampleDetail(detailType),
    ...(opts.replayName !== undefined ? { 'replay-name': opts.replayName } : {}),
  };
  EventEnvelope.parse(event);
  return event;
}

/** Decides whether an event pattern matches an event, with EventBridge's semantics (e.g. TestEventPattern). */
export type PatternMatcher = (pattern: unknown, event: Record<string, unknown>) => Promise<boolean>;

/** A source no Deployomat event has: events from it must never reach a handler. */
export const FOREIGN_SOURCE = 'com.example.lookalike';

const SOURCES = [CLIENT_SOURCE, LIFECYCLE_SOURCE, PROGRESS_SOURCE, FOREIGN_SOURCE];

/** One event a pattern is tested with, and whether the pattern must match it. */
interface Probe {
  readonly what: string;
  readonly event: Record<string, unknown>;
  readonly match: boolean;
}

/**
 * What a rule of `subscription` must take and refuse: every subscribed detail-type from its source
 * (and its replay only when the subscription includes replays); every other detail-type of the
 * catalog (and the progress update, events/progress.ts) from its own source, replayed or not; the
 * subscribed detail-types from any other source.
 */
function probesOf(subscription: Subscription, replayName: string): Probe[] {
  const subscribed = new Set<string>(subscription.detailTypes);
  const probes: Probe[] = [];
  const sourceOf = (type: DetailType | ProgressDetailType) => (type === PROGRESS_DETAIL_TYPE ? PROGRESS_SOURCE : catalog[type].source);
  for (const type of [...(Object.keys(catalog) as DetailType[]), PROGRESS_DETAIL_TYPE] as const) {
    const wanted = subscribed.has(type) && sourceOf(type) === subscription.source;
    probes.push({ what: type, event: sampleEvent(type), match: wanted });
    probes.push({ what: `${type} replayed`, event: sampleEvent(type, { replayName }), match: wanted && subscription.replays === 'include' });
    if (!subscribed.has(type)) continue;
    for (const source of SOURCES.filter((s) => s !== subscription.source)) {
      probes.push({ what: `${type} from ${source}`, event: sampleEvent(type, { source }), match: false });
    }
  }
  return probes;
}

/** Runs `probes` through `matcher`, a few at a time: a violation per probe decided wrongly. */
async function misses(label: string, pattern: unknown, probes: readonly Probe[], matcher: PatternMatcher): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < probes.length; i += 8) {
    const batch = probes.slice(i, i + 8);
    const results = await Promise.all(batch.map((p) => matcher(pattern, p.event)));
    batch.forEach((p, j) => {
      if (results[j] !== p.match) out.push(`${label}: ${p.match ? 'misses' : 'matches'} ${p.what}`);
    });
  }
  return out;
}

/**
 * Every EventBridge rule of `template` against the subscription it implements (`expected`, by rule
 * name), with `matcher`: each subscribed event matches, nothing else does (see {@link probesOf}).
 * A rule with no expected subscription, and an expected rule missing from the template, are
 * violations too.
 */
export async function checkRulePatterns(
  template: CfnTemplate,
  expected: ReadonlyMap<string, Subscription>,
  matcher: PatternMatcher,
  opts: { replayName: string },
): Promise<{ checked: number; violations: string[] }> {
  const violations: string[] = [];
  const seen = new Set<string>();
  let checked = 0;
  for (const [id, rule] of Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule')) {
    const name = String(resolve(props(rule).Name, template) ?? id);
    const subscription = expected.get(name);
    if (!subscription) {
      violations.push(`${name}: a rule the topology does not declare`);
      continue;
    }
    seen.add(name);
    const found = await misses(name, props(rule).EventPattern, probesOf(subscription, opts.replayName), matcher);
    checked++;
    violations.push(...found);
  }
  for (const name of expected.keys()) if (!seen.has(name)) violations.push(`${name}: declared by the topology, not in the template`);
  return { checked, violations };
}

/** The archive takes every event of the catalog (replays need it all) and nothing from another source. */
export async function checkArchivePattern(template: CfnTemplate, matcher: PatternMatcher): Promise<string[]> {
  const archives = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Archive');
  if (archives.length !== 1) return [`expected one archive, found ${archives.length}`];
  const [id, archive] = archives[0]!;
  const probes: Probe[] = (Object.keys(catalog) as DetailType[]).flatMap((type) => [
    { what: type, event: sampleEvent(type), match: true },
    { what: `${type} from ${FOREIGN_SOURCE}`, event: sampleEvent(type, { source: FOREIGN_SOURCE }), match: false },
  ]);
  return misses(`archive ${id}`, props(archive).EventPattern, probes, matcher);
}
