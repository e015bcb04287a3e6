import { z } from 'zod';
import { catalog, CLIENT_SOURCE, isDetailType, LIFECYCLE_SOURCE, type DetailInput, type DetailType } from './catalog';
import { handlers, resourceNames } from './topology';

/**
 * The event reference, generated from the zod schemas of the catalog and the topology:
 * one JSON Schema (draft 2020-12) per event in `docs/events/<DetailType>.json`, and
 * `docs/events.md`. `npm run schemas` (events/generate-schemas.ts) writes the files;
 * test/unit/events/schemas.test.ts fails when the committed files drift from this generator.
 *
 * Everything here is deterministic: catalog order, topology order, fixed key order, 2-space JSON.
 */

/**
 * - `client-command`: published by deployers (source `deployomat.client`).
 * - `lifecycle`: published by Deployomat; subscribers may build on them.
 * - `timer`: published by Deployomat to itself, late (timer queue or Scheduler).
 * - `queue`: published by Deployomat to itself to wake a request that waited for a rollback.
 */
export type EventKind = 'client-command' | 'lifecycle' | 'timer' | 'queue';

interface EventInfo {
  kind: EventKind;
  /** One sentence: what the event means. */
  description: string;
}

/** Internal events are in the reference (they are on the bus) but carry no compatibility promise. */
const INTERNAL_KINDS: readonly EventKind[] = ['timer', 'queue'];

/** `satisfies Record<DetailType, …>`: a new catalog event does not type-check until it is described here. */
const EVENTS = {
  DeployRequested: { kind: 'client-command', description: 'A deployer asks to deploy an AMI to a service, blue/green.' },
  CancelRequested: {
    kind: 'client-command',
    description: "A deployer asks to cancel the service's running deploy (or to retry a stuck rollback); it is rolled back.",
  },
  UndeployRequested: {
    kind: 'client-command',
    description: "A deployer (or the service's automatic-undeploy schedule) asks to delete the service's production ASG, target groups and listener rules.",
  },
  DeployRejected: { kind: 'lifecycle', description: 'A DeployRequested was invalid or could not start; nothing was changed.' },
  AsgCloned: { kind: 'lifecycle', description: "The deploy's new ASG and target group exist, cloned from the service's templates with the new AMI." },
  InstancesHealthy: { kind: 'lifecycle', description: "Enough of the new ASG's instances are healthy for traffic to move to it." },
  TrafficShifted: { kind: 'lifecycle', description: 'One traffic step is done: every listener rule now sends `Percent` % to the new target group.' },
  BakeElapsed: {
    kind: 'lifecycle',
    description: 'The bake at 100 % is over (delivered late by a timer), so the previous version can be deleted.',
  },
  DeployCompleted: { kind: 'lifecycle', description: 'The new version serves all traffic and the previous ASG and target group are deleted.' },
  DeployFailed: {
    kind: 'lifecycle',
    description: 'The deploy failed and has been rolled back: production is back on the previous version (or, on a first deploy, has nothing left).',
  },
  RollbackStarted: { kind: 'lifecycle', description: "A deploy is being rolled back; its own pending steps and timers are now stale." },
  TrafficRestored: {
    kind: 'lifecycle',
    description: "Every listener rule of the rolled-back deploy is back at 100 % on production (or deleted on a first deploy).",
  },
  DeployCancelled: { kind: 'lifecycle', description: 'The deploy was cancelled (by request, or superseded by a newer deploy) and rolled back.' },
  RollbackFailed: { kind: 'lifecycle', description: 'A rollback step gave up and the service needs attention; publishing CancelRequested retries it.' },
  CancelRejected: { kind: 'lifecycle', description: 'A CancelRequested was invalid, or the service had no deploy to cancel.' },
  QueuedDeployReady: {
    kind: 'queue',
    description: 'A deploy that waited for the rollback it caused (OnConcurrentDeploy: rollback) may start now.',
  },
  QueuedUndeployReady: { kind: 'queue', description: 'An undeploy that waited for the rollback it caused may start now.' },
  UndeployRejected: { kind: 'lifecycle', description: 'An UndeployRequested was invalid or not allowed; nothing was changed.' },
  UndeployCompleted: { kind: 'lifecycle', description: "The service's production ASG, target groups and listener rules are deleted." },
  UndeployFailed: { kind: 'lifecycle', description: 'An undeploy step gave up; publishing UndeployRequested again retries it.' },
  HealthCheckDue: { kind: 'timer', description: "Time to count the new ASG's healthy instances again." },
  TrafficShiftDue: { kind: 'timer', description: 'Time to move traffic to the next step.' },
  DrainElapsed: {
    kind: 'timer',
    description: "The drain period after traffic was restored has passed: the rolled-back deploy's resources can be deleted.",
  },
  DeployDeadlinePassed: {
    kind: 'timer',
    description: "The deploy's deadline (expected duration plus a margin, plus any time it stood paused or held) has passed: it is rolled back if still running.",
  },
  PauseRequested: { kind: 'client-command', description: "A deployer asks to pause the service's running rollout where it is." },
  ResumeRequested: { kind: 'client-command', description: 'A deployer asks a paused rollout to carry on.' },
  PromoteRequested: {
    kind: 'client-command',
    description: 'A deployer asks to skip the remaining traffic steps and the bake: the next step is 100 %, then the deploy finishes.',
  },
  DeployPlanned: { kind: 'lifecycle', description: 'A dry run: everything the deploy would create or change. Nothing was changed.' },
  TrafficShiftHeld: {
    kind: 'lifecycle',
    description: 'A traffic step waits because the new group has too few healthy targets for its share of traffic; it is retried.',
  },
  RolloutPaused: { kind: 'lifecycle', description: "The rollout stands still until ResumeRequested or PromoteRequested, or until its PauseTimeout (else the installation's maximum pause) rolls it back." },
  RolloutResumed: { kind: 'lifecycle', description: 'A paused rollout carries on.' },
  RolloutPromoted: { kind: 'lifecycle', description: 'The remaining steps and the bake are skipped: traffic goes to 100 % and the deploy finishes.' },
  RolloutCommandRejected: {
    kind: 'lifecycle',
    description: 'A PauseRequested, ResumeRequested or PromoteRequested was invalid or did not apply; nothing changed.',
  },
  BakeCheckDue: { kind: 'timer', description: 'During a bake with RollbackAlarms: time to check the alarms again.' },
  PauseTimeoutDue: { kind: 'timer', description: "A paused rollout reached its PauseTimeout (or the installation's maximum pause): it is rolled back if still paused." },
} as const satisfies Record<DetailType, EventInfo>;

/** Field descriptions for a field of this name at the top level of any event (unless the event has its own). */
const COMMON_FIELDS: Record<string, string> = {
  DeployId: 'The deploy: the id chosen in DeployRequested, or else the EventBridge id of that event.',
  AccountCanonicalSlug: "The account's slug in the SSM account registry (`/omat/account_registry/<slug>`).",
  ServiceName: 'The service; its template ASG is `<ServiceName>-template`.',
  Seq: "The deploy's position in its ledger; a handler acts only if the ledger is exactly there.",
  UndeployId: 'The undeploy (the EventBridge id of its UndeployRequested).',
  Reasons: 'Every problem found, as sentences a deployer can act on.',
  Errors: 'What went wrong, as sentences.',
  DueAt: 'When the timer was due (ISO 8601); the next timer is counted from it.',
  DurationSeconds: 'Seconds since the request started (0.1 s precision).',
  Request: 'The request that waited, as received.',
};

/** Field descriptions for one event; `Parent.Child` addresses a nested field. Keys must exist in the schema. */
const EVENT_FIELDS: Partial<Record<DetailType, Record<string, string>>> = {
  DeployRequested: {
    AmiId:
      'An AMI id (`ami-…`) or a command: `$name-prefix:<prefix>` (newest available AMI named `<prefix>*`), `$launchtemplate:<N>`, `$launchtemplate:$Latest`, `$launchtemplate:$Default` or `$launchtemplate:$LatestMinus:<k>`.',
    DeployConfig: "The original's deploy options; every unset option takes its default, unknown options are rejected.",
    'DeployConfig.BakeTime': 'Seconds at 100 % before the previous version is deleted.',
    'DeployConfig.TrafficShiftPerStep': 'Whole percent of traffic moved per step; the last step is exactly 100.',
    'DeployConfig.WaitPerStep': 'Seconds between traffic steps.',
    'DeployConfig.HealthTimeout': "Seconds for the new group's instances to become healthy, else the deploy fails.",
    'DeployConfig.OnConcurrentDeploy': 'When another deploy of the service runs: `fail` this one, or `rollback` the running one first.',
    'DeployConfig.AllowUndeploy': "Whether the service may then be undeployed; unset = true unless the account's environment is `production`.",
    'DeployConfig.AutomaticUndeployMinutes': 'Undeploy automatically this long after the deploy completes.',
    'DeployConfig.SkipNotifications': 'Asks notification subscribers (Slack) to stay quiet about this deploy.',
    'DeployConfig.RollbackAlarms':
      'CloudWatch alarm names in the workload account, checked before every traffic step and through the bake; any in ALARM rolls the deploy back.',
    'DeployConfig.AlarmGracePeriod': 'Seconds an alarm must have been in ALARM before it counts (default 0).',
    'DeployConfig.PauseAtPercent': 'Percentages at which the rollout pauses for ResumeRequested (after the first step reaching each).',
    'DeployConfig.PauseTimeout':
      "Seconds a paused rollout waits before it rolls back; unset = the installation's maximum pause (DEPLOYOMAT_MAX_PAUSE_SECONDS, default 86400). A longer one is rejected.",
    'DeployConfig.DryRun': 'Validate and resolve everything, publish DeployPlanned, change nothing.',
    DeployId: 'Optional id chosen by the caller (publishing the same request twice then starts one deploy); default: the EventBridge event id.',
    RequestedBy:
      'Who or what asked, kept in the history (the CLI fills it); printable text only. A label the publisher chooses: who published is recorded by CloudTrail (`auditTrail`, docs/SECURITY.md).',
  },
  CancelRequested: { Reason: 'Why; it ends up in DeployCancelled.' },
  UndeployRequested: {
    UndeployConfig: 'Undeploy options.',
    'UndeployConfig.OnConcurrentDeploy': 'When a deploy is in progress: `fail` this undeploy, or `rollback` the deploy first.',
  },
  DeployRejected: {
    DeployId: 'The deploy id, if it could be read from the request.',
    AmiId: "The request's AmiId, if it could be read.",
    DryRun: 'Set when the rejected request was a dry run.',
    RetryAt: 'Set when a dry run was rejected because another one of the service was planned moments ago: when one may be planned again (ISO 8601).',
  },
  AsgCloned: {
    AmiId: 'The AMI the new ASG runs (commands resolved).',
    AsgName: 'The new ASG, `<service>-<UTC timestamp>`.',
    TargetGroupArns: 'The new target groups, one per target group of the template ASG; empty for a non-web service.',
    LaunchTemplate: 'The launch template version the new ASG uses.',
    MinSize: "The new ASG's min size (and desired capacity).",
    MaxSize: "The new ASG's max size.",
    ProductionAsgName: 'The ASG that serves production now; absent on a first deploy.',
    Rollout: '`web` shifts traffic on listener rules step by step; `first-web` and `non-web` go straight to bake.',
    RuleArns: 'The listener rules whose traffic moves.',
  },
  InstancesHealthy: {
    Healthy: 'Healthy instances in the new ASG.',
    Wanted: 'Healthy instances needed.',
    WaitedSeconds: 'Seconds waited for them.',
  },
  TrafficShifted: {
    Step: 'This step, from 1.',
    Steps: 'Steps in all.',
    Percent: 'Share of traffic on the new target groups after this step, as configured on every rule.',
    ActualPercent: 'The share the load balancer reports after the change (read back; the lowest over the rules).',
    RuleWeights: "Each live rule's share on the new target groups, as read back.",
    Healthy: "The new group's healthy targets before the step.",
    Needed: "Healthy targets this step's share of production capacity needs.",
  },
  TrafficShiftHeld: {
    Step: 'The step that waits.',
    Percent: 'Its share of traffic.',
    Healthy: "The new group's healthy targets.",
    Needed: 'Healthy targets the step needs.',
    HeldSeconds: 'Seconds the step has waited so far.',
  },
  RolloutPaused: {
    Step: 'The last traffic step applied (0: none yet).',
    Percent: 'Share of traffic on the new version while paused.',
    By: '`request` (PauseRequested) or `PauseAtPercent`.',
    Reason: 'Why it paused.',
    RollbackAt: "When it rolls back unless resumed or promoted (PauseTimeout, else the installation's maximum pause); absent only on events before 0.2.",
  },
  RolloutResumed: { PausedSeconds: 'How long it stood paused.', Reason: 'The reason given with ResumeRequested.' },
  RolloutPromoted: { FromPhase: 'The phase it was promoted from.', FromPercent: 'Share of traffic on the new version before.', Reason: 'The reason given.' },
  RolloutCommandRejected: { Command: 'The command that did not apply.' },
  PauseRequested: { DeployId: 'Optional: act only if this deploy is the one running.', Reason: 'Why; shown in RolloutPaused.' },
  ResumeRequested: { DeployId: 'Optional: act only if this deploy is the one running.', Reason: 'Why; shown in RolloutResumed.' },
  PromoteRequested: { DeployId: 'Optional: act only if this deploy is the one running.', Reason: 'Why; shown in RolloutPromoted.' },
  BakeCheckDue: { BakeEndsAt: 'When the bake ends (ISO 8601).' },
  PauseTimeoutDue: {
    PauseTimeout: 'The limit, in seconds.',
    Limit: "Which limit: the deploy's `PauseTimeout` (also when absent), or `MaxPause`, the installation's maximum pause.",
  },
  BakeElapsed: { BakeTime: 'The bake time, in seconds.', DueAt: 'When the bake was due to end (ISO 8601).' },
  DeployCompleted: {
    AmiId: 'The AMI now in production.',
    AsgName: 'The ASG now in production.',
    PreviousAsgName: 'The ASG it replaced (deleted); absent on a first deploy.',
  },
  DeployFailed: { Phase: 'The phase the deploy failed in.' },
  RollbackStarted: {
    Cause: 'Why the rollback runs.',
    Reason: 'The reason, as a sentence.',
    FromPhase: 'The phase the deploy was in.',
  },
  TrafficRestored: {
    RestoredRuleArns: 'Rules set back to 100 % on production.',
    DeletedRuleArns: 'Rules deleted (a first deploy has no production to go back to).',
    DrainSeconds: "Seconds before the deploy's resources are deleted (DrainElapsed).",
  },
  DeployCancelled: { Reason: 'Why it was cancelled.', FromPhase: 'The phase the deploy was in.' },
  UndeployCompleted: {
    AsgName: 'The production ASG that was deleted.',
    DeletedTargetGroupArns: 'Target groups deleted.',
    DeletedRuleArns: 'Listener rules deleted.',
  },
  HealthCheckDue: {
    Attempt: 'The count about to be made, from 1.',
    Healthy: 'Healthy instances at the last count.',
    Wanted: 'Healthy instances needed.',
  },
  TrafficShiftDue: { Step: 'The step to make.' },
  DeployDeadlinePassed: { DeadlineSeconds: 'The deadline, in seconds after the clone.' },
};

/** One example detail per client command: in the schema's `examples` and the put-events example. */
const EXAMPLES: { [T in DetailType]?: DetailInput<T> } = {
  DeployRequested: {
    AccountCanonicalSlug: 'acme-workload-dev',
    ServiceName: 'storefront',
    AmiId: 'ami-0123456789abcdef0',
    DeployConfig: { TrafficShiftPerStep: 20, WaitPerStep: 30 },
  },
  CancelRequested: { AccountCanonicalSlug: 'acme-workload-dev', ServiceName: 'storefront', Reason: 'bad metrics' },
  UndeployRequested: { AccountCanonicalSlug: 'acme-workload-dev', ServiceName: 'storefront' },
  PauseRequested: { AccountCanonicalSlug: 'acme-workload-dev', ServiceName: 'storefront', Reason: 'checking p99 latency' },
  ResumeRequested: { AccountCanonicalSlug: 'acme-workload-dev', ServiceName: 'storefront' },
  PromoteRequested: { AccountCanonicalSlug: 'acme-workload-dev', ServiceName: 'storefront', Reason: 'hotfix: metrics verified' },
};

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export type JsonSchema = { [key: string]: unknown };

export interface EventMeta {
  detailType: DetailType;
  source: string;
  kind: EventKind;
  internal: boolean;
  description: string;
  /** Handlers whose EventBridge rules match the event (topology order). */
  consumedBy: string[];
  /** `input` for client commands (what a publisher sends), `output` for the rest (what is on the bus). */
  io: 'input' | 'output';
}

export function eventMeta(detailType: DetailType): EventMeta {
  const { source } = catalog[detailType];
  const info: EventInfo = EVENTS[detailType];
  return {
    detailType,
    source,
    kind: info.kind,
    internal: INTERNAL_KINDS.includes(info.kind),
    description: info.description,
    consumedBy: consumersOf(detailType, source),
    io: info.kind === 'client-command' ? 'input' : 'output',
  };
}

function consumersOf(detailType: DetailType, source: string): string[] {
  return handlers
    .filter(
      (h) => h.trigger.kind === 'events' && h.trigger.subscriptions.some((s) => s.source === source && s.detailTypes.includes(detailType)),
    )
    .map((h) => h.name);
}

export const detailTypes = (): DetailType[] => Object.keys(catalog).filter(isDetailType);

/** The JSON Schema of one event's detail, with the reference's metadata. */
export function eventJsonSchema(detailType: DetailType): JsonSchema {
  const meta = eventMeta(detailType);
  const generated = z.toJSONSchema(catalog[detailType].schema, {
    target: 'draft-2020-12',
    io: meta.io,
    unrepresentable: 'throw',
    cycles: 'throw',
    reused: 'inline',
    override: ({ zodSchema, jsonSchema }) => {
      // zod closes plain (stripping) objects in output mode. Lifecycle events may gain fields:
      // subscribers must ignore unknown ones, so only `.strict()` objects stay closed.
      const def = zodSchema._zod.def;
      if (meta.io === 'output' && def.type === 'object' && !def.catchall) delete jsonSchema.additionalProperties;
    },
  }) as JsonSchema;
  const { $schema: _dialect, ...body } = generated;
  dropSafeIntegerBounds(body);
  describeFields(detailType, body);
  const example = EXAMPLES[detailType];
  if (example !== undefined) catalog[detailType].schema.parse(example); // a wrong example fails generation
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: detailType,
    title: detailType,
    description: meta.description,
    'x-deployomat': {
      source: meta.source,
      consumedBy: meta.consumedBy,
      kind: meta.kind,
      internal: meta.internal,
      shape: meta.io,
    },
    ...body,
    ...(example !== undefined ? { examples: [example] } : {}),
  };
}

/** `z.int()` is a safe integer; its ±2^53-1 bounds say nothing to a reader. */
function dropSafeIntegerBounds(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(dropSafeIntegerBounds);
  if (!node || typeof node !== 'object') return;
  const schema = node as JsonSchema;
  if (schema.type === 'integer') {
    if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
    if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
  }
  Object.values(schema).forEach(dropSafeIntegerBounds);
}

/** Adds our field descriptions; a description from the zod schema itself (`.describe()` / `.meta()`) wins. */
function describeFields(detailType: DetailType, body: JsonSchema): void {
  const wanted = new Map<string, string>();
  for (const name of Object.keys(propertiesOf(body))) {
    const common = COMMON_FIELDS[name];
    if (common !== undefined) wanted.set(name, common);
  }
  for (const [path, description] of Object.entries(EVENT_FIELDS[detailType] ?? {})) wanted.set(path, description);
  for (const [path, description] of wanted) {
    let field: JsonSchema = body;
    for (const name of path.split('.')) {
      const next = propertiesOf(field)[name];
      if (!next) throw new Error(`events/json-schema.ts describes ${detailType}.${path}, which is not in its schema`);
      field = next;
    }
    if (field.description !== undefined) continue;
    // `description` goes first (after `default`), before the type keywords.
    const { default: dflt, ...rest } = field;
    for (const key of Object.keys(field)) delete field[key];
    Object.assign(field, dflt !== undefined ? { default: dflt } : {}, { description }, rest);
  }
}

function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> {
  const properties = schema.properties;
  return properties && typeof properties === 'object' ? (properties as Record<string, JsonSchema>) : {};
}

/** 2-space JSON with a trailing newline. */
export const formatJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The `aws events put-events` command that publishes `detail` as a client command. */
export function putEventsExample(detailType: DetailType, detail: unknown): string {
  const entry = `{"EventBusName":"${resourceNames().bus}","Source":"${catalog[detailType].source}",\n  "DetailType":"${detailType}",\n  "Detail":${JSON.stringify(JSON.stringify(detail))}}`;
  if (entry.includes("'")) throw new Error(`the ${detailType} example cannot contain a single quote (shell quoting)`);
  return `aws events put-events --entries '[${entry}]'`;
}

/** Every generated file, keyed by its path under `docs/`: `events/<DetailType>.json` and `events.md`. */
export function generateEventDocs(): Map<string, string> {
  const files = new Map<string, string>();
  const schemas = detailTypes().map((t) => [t, eventJsonSchema(t)] as const);
  for (const [detailType, schema] of schemas) files.set(`events/${detailType}.json`, formatJson(schema));
  files.set('events.md', renderMarkdown(schemas));
  return files;
}

// ---------------------------------------------------------------------------------------------
// docs/events.md

interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

/** Flattens a schema's properties: nested objects as `Parent.Child`, arrays of objects as `Parent[].Child`. */
export function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(propertiesOf(schema)).flatMap(([name, field]) => {
    const path = `${prefix}${name}`;
    const row: FieldRow = {
      name: path,
      type: typeOf(field),
      required: required.has(name),
      ...(field.default !== undefined ? { default: field.default } : {}),
      ...(typeof field.description === 'string' ? { description: field.description } : {}),
    };
    const items = field.items as JsonSchema | undefined;
    const nested =
      field.type === 'object' && field.properties
        ? fieldRows(field, `${path}.`)
        : field.type === 'array' && items?.type === 'object' && items.properties
          ? fieldRows(items, `${path}[].`)
          : [];
    return [row, ...nested];
  });
}

function typeOf(field: JsonSchema): string {
  const bounds: string[] = [];
  if (typeof field.minimum === 'number') bounds.push(`≥ ${field.minimum}`);
  if (typeof field.exclusiveMinimum === 'number') bounds.push(`> ${field.exclusiveMinimum}`);
  if (typeof field.maximum === 'number') bounds.push(`≤ ${field.maximum}`);
  if (typeof field.exclusiveMaximum === 'number') bounds.push(`< ${field.exclusiveMaximum}`);
  if (typeof field.minLength === 'number') bounds.push(`at least ${field.minLength} characters`);
  if (typeof field.maxLength === 'number') bounds.push(`at most ${field.maxLength} characters`);
  if (typeof field.minItems === 'number') bounds.push(`at least ${field.minItems}`);
  if (typeof field.maxItems === 'number') bounds.push(`at most ${field.maxItems}`);
  if (typeof field.pattern === 'string') bounds.push(`matching ${code(field.pattern)}`);
  let base: string;
  if (Array.isArray(field.enum)) base = field.enum.map((v) => code(String(v))).join(' / ');
  else if (field.type === 'array') base = `${typeOf((field.items as JsonSchema | undefined) ?? {})}[]`;
  else if (field.type === 'object' && !field.properties && field.additionalProperties !== undefined) base = 'object (any keys)';
  else if (typeof field.type === 'string') base = field.type;
  else if (Array.isArray(field.type)) base = field.type.join(' or ');
  else base = 'any';
  return bounds.length ? `${base}, ${bounds.join(', ')}` : base;
}

const code = (text: string): string => `\`${text}\``;
/** GFM table cells: `|` must be escaped, even inside code spans. */
const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function fieldTable(schema: JsonSchema): string {
  const rows = fieldRows(schema);
  if (rows.length === 0) return '_No fields._';
  const withDefault = rows.some((r) => r.default !== undefined);
  const head = withDefault ? ['field', 'type', 'required', 'default', 'description'] : ['field', 'type', 'required', 'description'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cells = [code(r.name), r.type, r.required ? 'yes' : 'no'];
    if (withDefault) cells.push(r.default === undefined ? '' : code(JSON.stringify(r.default)));
    cells.push(r.description ?? '');
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

const consumers = (meta: EventMeta): string => (meta.consumedBy.length ? meta.consumedBy.map(code).join(', ') : '— (subscribers)');

const SECTIONS: { title: string; intro: string; kinds: EventKind[] }[] = [
  {
    title: 'Client commands',
    intro:
      'Published by deployers (or CI) with source `deployomat.client`. The schemas describe what you send: fields with a default may be left out.',
    kinds: ['client-command'],
  },
  {
    title: 'Lifecycle events',
    intro:
      'Published only by Deployomat, with source `deployomat`. The schemas describe what is on the bus (every default applied). Subscribe to them with your own EventBridge rule; ignore fields you do not know, since new optional fields may be added.',
    kinds: ['lifecycle'],
  },
  {
    title: 'Internal events',
    intro:
      'Deployomat publishes these to itself: timers (delivered late through the timer queue, relayed onto the bus by `relay-timer`, or by a one-time Scheduler schedule) and the wake-up of a request that waited for a rollback. They are on the bus and in the archive, so they are documented, but they are not a contract: they may change in any release, and you should neither publish them nor build on them. Their JSON Schemas say `"internal": true` in `x-deployomat`.',
    kinds: ['timer', 'queue'],
  },
];

function renderMarkdown(schemas: readonly (readonly [DetailType, JsonSchema])[]): string {
  const out: string[] = [];
  out.push(
    '# Event reference',
    '',
    '<!-- Generated by `npm run schemas` (events/json-schema.ts) from the zod schemas in events/ and the topology. Do not edit by hand. -->',
    '',
    `Every event travels on the EventBridge bus \`${resourceNames().bus}\`. Client commands have source \`${CLIENT_SOURCE}\`; lifecycle and internal events have source \`${LIFECYCLE_SOURCE}\` and only Deployomat's own roles may publish them. The rules that drive the choreography match \`"replay-name": [{"exists": false}]\`, so replaying the archive never re-runs a deploy.`,
    '',
    'Each event\'s `detail` has a JSON Schema (draft 2020-12) in [`docs/events/<DetailType>.json`](events/). Its `x-deployomat` block gives the `source`, the handlers that consume it (`consumedBy`, from `events/topology.ts`), its `kind` (`client-command`, `lifecycle`, `timer`, `queue`), whether it is `internal`, and which `shape` the schema describes (`input`: what a publisher sends, defaults optional; `output`: what is on the bus).',
    '',
    'Choreography events carry `DeployId` and `Seq`: a handler acts on an event only if the deploy\'s ledger is exactly at that `Seq`, so duplicates, late timers and events of a superseded deploy are dropped.',
    '',
    '## Summary',
    '',
    '| detail-type | source | kind | consumed by | description |',
    '|---|---|---|---|---|',
  );
  const metas = schemas.map(([t]) => eventMeta(t));
  for (const meta of metas) {
    out.push(
      `| [\`${meta.detailType}\`](#${meta.detailType.toLowerCase()}) | \`${meta.source}\` | ${meta.kind}${meta.internal ? ' (internal)' : ''} | ${consumers(meta)} | ${cell(meta.description)} |`,
    );
  }
  for (const section of SECTIONS) {
    out.push('', `## ${section.title}`, '', section.intro);
    for (const [detailType, schema] of schemas) {
      const meta = eventMeta(detailType);
      if (!section.kinds.includes(meta.kind)) continue;
      out.push(
        '',
        `### ${detailType}`,
        '',
        meta.description,
        '',
        `- source: \`${meta.source}\``,
        `- consumed by: ${consumers(meta)}`,
        `- kind: ${meta.kind}${meta.internal ? ' (internal)' : ''}`,
        `- JSON Schema: [\`events/${detailType}.json\`](events/${detailType}.json)`,
        '',
        fieldTable(schema),
      );
      const example = EXAMPLES[detailType];
      if (example !== undefined) {
        out.push('', 'Example:', '', '```sh', putEventsExample(detailType, example), '```');
      }
    }
  }
  return `${out.join('\n')}\n`;
}
