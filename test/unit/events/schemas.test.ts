import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalog, CLIENT_SOURCE, type DetailType } from '../../../events/catalog';
import { detailTypes, eventJsonSchema, generateEventDocs, type JsonSchema } from '../../../events/json-schema';
import { handlers } from '../../../events/topology';

const DOCS = fileURLToPath(new URL('../../../docs', import.meta.url));
const REGENERATE = 'run `npm run schemas` and commit the result';

const committedSchemaFiles = (): string[] =>
  existsSync(join(DOCS, 'events')) ? readdirSync(join(DOCS, 'events')).filter((name) => name.endsWith('.json')) : [];

const INTERNAL: DetailType[] = [
  'HealthCheckDue',
  'TrafficShiftDue',
  'DrainElapsed',
  'DeployDeadlinePassed',
  'BakeCheckDue',
  'PauseTimeoutDue',
  'QueuedDeployReady',
  'QueuedUndeployReady',
];

/**
 * The subset of JSON Schema 2020-12 the generated schemas use (no ajv here): returns the
 * instance paths that violate `schema`.
 */
function violations(schema: JsonSchema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const type = schema.type;
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const typeOk =
    type === undefined ||
    (type === 'object' && isObject) ||
    (type === 'array' && Array.isArray(value)) ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'boolean' && typeof value === 'boolean') ||
    (type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
    (type === 'integer' && Number.isInteger(value));
  if (!typeOk) return [`${path}: not ${String(type)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${path}: not in enum`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: < minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${path}: > maximum`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) errors.push(`${path}: <= exclusiveMinimum`);
  }
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${path}: pattern`);
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) errors.push(`${path}: > maxLength`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${path}: < minItems`);
    const items = schema.items as JsonSchema | undefined;
    if (items) value.forEach((item, i) => errors.push(...violations(items, item, `${path}[${i}]`)));
  }
  if (isObject) {
    const record = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in record)) errors.push(`${path}.${key}: required`);
    for (const [key, item] of Object.entries(record)) {
      const property = properties[key];
      if (property) errors.push(...violations(property, item, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${key}: additional property`);
    }
  }
  return errors;
}

const propertiesOf = (schema: JsonSchema) => schema.properties as Record<string, JsonSchema>;

describe('Event reference: docs/events is generated', () => {
  const generated = generateEventDocs();

  it('matches the generator: docs/events/*.json and docs/events.md are up to date', () => {
    // Act
    const stale = [...generated].filter(([path, content]) => {
      const file = join(DOCS, path);
      return !existsSync(file) || readFileSync(file, 'utf8') !== content;
    });

    // Assess
    expect(
      stale.map(([path]) => `docs/${path}`),
      `the event reference is out of date with the zod schemas / topology: ${REGENERATE}`,
    ).toStrictEqual([]);
  });

  it('has a JSON Schema file for every event of the catalog', () => {
    // Act
    const missing = detailTypes().filter((t) => !committedSchemaFiles().includes(`${t}.json`));

    // Assess
    expect(missing, `events without docs/events/<DetailType>.json: ${REGENERATE}`).toStrictEqual([]);
  });

  it('has no JSON Schema file for an event that is no longer in the catalog', () => {
    // Act
    const orphans = committedSchemaFiles().filter((name) => !Object.hasOwn(catalog, name.replace(/\.json$/, '')));

    // Assess
    expect(orphans, `docs/events/ has files for events no longer in events/catalog.ts: ${REGENERATE}`).toStrictEqual([]);
  });

  it('generates the same bytes twice (deterministic, 2-space JSON with a trailing newline)', () => {
    // Act
    const again = generateEventDocs();

    // Assess
    expect([...again]).toStrictEqual([...generated]);
    for (const [path, content] of generated) {
      if (path.endsWith('.json')) expect(content).toBe(`${JSON.stringify(JSON.parse(content), null, 2)}\n`);
    }
  });
});

describe('Event reference: metadata of every schema', () => {
  it.each(detailTypes())('%s names its dialect, id, source and consumers', (detailType) => {
    // Act
    const schema = eventJsonSchema(detailType);

    // Assess
    const consumers = handlers
      .filter(
        (h) =>
          h.trigger.kind === 'events' &&
          h.trigger.subscriptions.some((s) => s.source === catalog[detailType].source && s.detailTypes.includes(detailType)),
      )
      .map((h) => h.name);
    expect(Object.keys(schema).slice(0, 5)).toStrictEqual(['$schema', '$id', 'title', 'description', 'x-deployomat']);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(detailType);
    expect(schema.title).toBe(detailType);
    expect(schema.description).toMatch(/^[A-Z].*\.$/);
    expect(schema['x-deployomat']).toMatchObject({
      source: catalog[detailType].source,
      consumedBy: consumers,
      internal: INTERNAL.includes(detailType),
    });
  });

  it('marks exactly the timer and queued-request events internal', () => {
    // Act
    const internal = detailTypes().filter((t) => (eventJsonSchema(t)['x-deployomat'] as { internal: boolean }).internal);

    // Assess
    expect(internal.sort()).toStrictEqual([...INTERNAL].sort());
  });

  it('describes client commands as sent (input) and the rest as on the bus (output)', () => {
    // Act
    const shapes = detailTypes().map((t) => [t, (eventJsonSchema(t)['x-deployomat'] as { shape: string }).shape]);

    // Assess
    for (const [detailType, shape] of shapes) {
      expect(shape, detailType).toBe(catalog[detailType as DetailType].source === CLIENT_SOURCE ? 'input' : 'output');
    }
  });
});

describe('JSON Schema: DeployRequested', () => {
  const schema = eventJsonSchema('DeployRequested');
  const config = propertiesOf(propertiesOf(schema).DeployConfig!);
  const valid = { AccountCanonicalSlug: 'acme-prod', ServiceName: 'web', AmiId: 'ami-0123456789abcdef0' };

  it('requires exactly AccountCanonicalSlug, ServiceName and AmiId (defaulted DeployConfig is optional)', () => {
    // Assess
    expect(schema.required).toStrictEqual(['AccountCanonicalSlug', 'ServiceName', 'AmiId']);
    expect(propertiesOf(schema).DeployConfig!.required).toBeUndefined();
  });

  it('rejects unknown fields, at the top and in DeployConfig', () => {
    // Assess
    expect(schema.additionalProperties).toBe(false);
    expect(propertiesOf(schema).DeployConfig!.additionalProperties).toBe(false);
  });

  it('bounds TrafficShiftPerStep to a whole 1-100 with default 5', () => {
    // Assess
    expect(config.TrafficShiftPerStep).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 5 });
    expect(config.OnConcurrentDeploy).toMatchObject({ enum: ['fail', 'rollback'], default: 'rollback' });
    expect(config.HealthTimeout).toMatchObject({ minimum: 0, maximum: 86400, default: 300 });
  });

  it.each([
    ['the minimal request', valid],
    ['a request with options and a DeployId', { ...valid, DeployId: 'ci-1234', DeployConfig: { BakeTime: 0, TrafficShiftPerStep: 100 } }],
    ['its own example', (schema.examples as unknown[])[0]],
  ])('accepts %s, as zod does', (_label, detail) => {
    // Assess
    expect(violations(schema, detail)).toStrictEqual([]);
    expect(catalog.DeployRequested.schema.safeParse(detail).success).toBe(true);
  });

  it.each([
    ['a missing AmiId', { AccountCanonicalSlug: 'acme-prod', ServiceName: 'web' }],
    ['an unknown field', { ...valid, Amild: 'ami-0123456789abcdef0' }],
    ['a DeployConfig typo', { ...valid, DeployConfig: { BakeTme: 5 } }],
    ['TrafficShiftPerStep 0', { ...valid, DeployConfig: { TrafficShiftPerStep: 0 } }],
    ['TrafficShiftPerStep 2.5', { ...valid, DeployConfig: { TrafficShiftPerStep: 2.5 } }],
    ['a negative WaitPerStep', { ...valid, DeployConfig: { WaitPerStep: -1 } }],
    ['an unknown OnConcurrentDeploy', { ...valid, DeployConfig: { OnConcurrentDeploy: 'queue' } }],
    ['a service name with a slash', { ...valid, ServiceName: 'a/b' }],
    ['a too short DeployId', { ...valid, DeployId: 'x' }],
  ])('rejects %s, as zod does', (_label, detail) => {
    // Assess
    expect(violations(schema, detail)).not.toStrictEqual([]);
    expect(catalog.DeployRequested.schema.safeParse(detail).success).toBe(false);
  });
});

describe('JSON Schema: other events', () => {
  it('UndeployRequested: UndeployConfig is optional and defaults to OnConcurrentDeploy fail', () => {
    // Act
    const schema = eventJsonSchema('UndeployRequested');

    // Assess
    expect(schema.required).toStrictEqual(['AccountCanonicalSlug', 'ServiceName']);
    expect(propertiesOf(schema).UndeployConfig).toMatchObject({ default: { OnConcurrentDeploy: 'fail' }, additionalProperties: false });
  });

  it('lifecycle events are open to new fields and carry the deploy ref', () => {
    // Act
    const schema = eventJsonSchema('TrafficShifted');

    // Assess
    expect(schema).not.toHaveProperty('additionalProperties');
    expect(schema.required).toStrictEqual(['DeployId', 'AccountCanonicalSlug', 'ServiceName', 'Seq', 'Step', 'Steps', 'Percent', 'ActualPercent', 'RuleWeights']);
    expect(propertiesOf(schema).Percent).toMatchObject({ type: 'integer', minimum: 0, maximum: 100 });
    expect(violations(schema, { DeployId: 'd-1', AccountCanonicalSlug: 'a', ServiceName: 's', Seq: 3, Step: 1, Steps: 20, Percent: 5, ActualPercent: 5, RuleWeights: [], Later: 1 })).toStrictEqual([]);
  });

  it('leaves out the meaningless safe-integer bounds of z.int()', () => {
    // Act
    const json = JSON.stringify(detailTypes().map(eventJsonSchema));

    // Assess
    expect(json).not.toContain(String(Number.MAX_SAFE_INTEGER));
  });
});

describe('docs/events.md', () => {
  const markdown = generateEventDocs().get('events.md')!;

  it('has a section for every event of the catalog', () => {
    // Assess
    for (const detailType of detailTypes()) expect(markdown).toContain(`\n### ${detailType}\n`);
  });

  it.each(['DeployRequested', 'CancelRequested', 'UndeployRequested'] as const)(
    'gives a put-events example for %s that publishes a valid detail on the deployomat bus',
    (detailType) => {
      // Arrange
      const section = markdown.slice(markdown.indexOf(`\n### ${detailType}\n`)).split('\n### ')[1]!;
      const command = /```sh\naws events put-events --entries '(.*?)'\n```/s.exec(section)?.[1];

      // Act
      const [entry] = JSON.parse(command ?? 'null') as [{ EventBusName: string; Source: string; DetailType: string; Detail: string }];

      // Assess
      expect(entry).toMatchObject({ EventBusName: 'deployomat', Source: CLIENT_SOURCE, DetailType: detailType });
      expect(catalog[detailType].schema.safeParse(JSON.parse(entry.Detail)).success).toBe(true);
    },
  );
});
