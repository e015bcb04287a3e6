import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { echoFields } from '../../domain/steps/echo';
import { catalog } from '../../events/catalog';
import { stripUnprintable } from '../../events/text';
import {
  CancelRequested,
  CLIENT_SOURCE,
  DeployConfig,
  DeployRequested,
  parseCommand,
  parseDeployRequested,
  PauseRequested,
  PromoteRequested,
  ResumeRequested,
  UndeployRequested,
} from '../../events/client';
import { seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { shape, snapshotService } from '../helpers/workload';
import { waitUntilQuiet } from '../helpers/settle';

/**
 * Issue #7 (reliability), fuzzing the client commands: whatever a deployer publishes, Deployomat
 * answers a bad command with exactly one rejection listing its reasons, never crashes on it and
 * never changes anything for it.
 *
 * (a) Properties of the validation (events/client.ts), hundreds of runs each.
 * (b) A seeded sample of invalid commands, and the nastiest hand-picked ones, published as real
 *     events on the emulator while a deploy of the targeted service stands paused mid-shift.
 */

// --- the commands --------------------------------------------------------------------------

const COMMANDS = {
  DeployRequested: { schema: DeployRequested, rejection: 'DeployRejected' },
  CancelRequested: { schema: CancelRequested, rejection: 'CancelRejected' },
  UndeployRequested: { schema: UndeployRequested, rejection: 'UndeployRejected' },
  PauseRequested: { schema: PauseRequested, rejection: 'RolloutCommandRejected' },
  ResumeRequested: { schema: ResumeRequested, rejection: 'RolloutCommandRejected' },
  PromoteRequested: { schema: PromoteRequested, rejection: 'RolloutCommandRejected' },
} as const;
type Command = keyof typeof COMMANDS;
const COMMAND_TYPES = Object.keys(COMMANDS) as Command[];
/** For the properties of (a): ResumeRequested and PromoteRequested share PauseRequested's schema. */
const SCHEMAS: Command[] = ['DeployRequested', 'CancelRequested', 'UndeployRequested', 'PauseRequested'];

/** How the handlers validate: DeployRequested through parseDeployRequested, the others through parseCommand. */
const parse = (command: Command, detail: unknown) =>
  command === 'DeployRequested' ? parseDeployRequested(detail) : parseCommand(COMMANDS[command].schema, detail);

/** What a subscriber of the bus receives: the detail after its trip through JSON (NaN and Infinity become null). */
const overTheBus = (detail: unknown): unknown => JSON.parse(JSON.stringify(detail) ?? 'null');

/**
 * The rejection each handler publishes for an invalid detail (start-deploy, start-rollback, undeploy,
 * control-rollout): only what it can echo, and the reasons.
 */
function rejectionOf(command: Command, detail: unknown, eventId: string, reasons: string[]) {
  const echo = echoFields(detail);
  switch (command) {
    case 'DeployRequested':
      return { ...echo, DeployId: echo.DeployId ?? eventId, Reasons: reasons };
    case 'CancelRequested':
      return { AccountCanonicalSlug: echo.AccountCanonicalSlug, ServiceName: echo.ServiceName, Reasons: reasons };
    case 'UndeployRequested':
      return { UndeployId: eventId, AccountCanonicalSlug: echo.AccountCanonicalSlug, ServiceName: echo.ServiceName, Reasons: reasons };
    default:
      return { Command: command, AccountCanonicalSlug: echo.AccountCanonicalSlug, ServiceName: echo.ServiceName, DeployId: echo.DeployId, Reasons: reasons };
  }
}

// --- arbitraries ---------------------------------------------------------------------------

const ALNUM = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'];
const chars = (extra: string) => fc.constantFrom(...ALNUM, ...extra);

const validName = fc
  .tuple(fc.constantFrom(...ALNUM), fc.string({ unit: chars('._-'), maxLength: 63 }))
  .map(([first, rest]) => first + rest)
  .filter((s) => !s.includes('..'));
const validDeployId = fc.string({ unit: chars('+=,.@_-'), minLength: 2, maxLength: 64 });
const positiveInt = fc.integer({ min: 1, max: 999_999_999 });
const validAmiId = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 8, maxLength: 17 }).map((hex) => `ami-${hex}`),
  fc.string({ unit: chars("()[] ./-'@_"), minLength: 3, maxLength: 128 }).map((prefix) => `$name-prefix:${prefix}`),
  fc
    .oneof(positiveInt.map(String), fc.constantFrom('$Latest', '$Default'), positiveInt.map((k) => `$LatestMinus:${k}`))
    .map((version) => `$launchtemplate:${version}`),
);
/** `storable`: without the (valid) tiny fractions DynamoDB cannot store, see HostileOptions. */
const seconds = (max: number, storable = false) =>
  // Valid times are 0 or at least a millisecond (events/client.ts: DynamoDB cannot store 1e-200).
  fc.oneof(fc.integer({ min: 0, max }), fc.double({ min: 0, max, noNaN: true }).filter((x) => (x === 0 || x >= 0.001) && (!storable || x < max)));
const validDeployConfig = (storable = false) => fc.record(
  {
    BakeTime: seconds(604800, storable),
    TrafficShiftPerStep: fc.integer({ min: 1, max: 100 }),
    WaitPerStep: seconds(604800, storable),
    HealthTimeout: seconds(86400, storable),
    OnConcurrentDeploy: fc.constantFrom('fail', 'rollback'),
    AllowUndeploy: fc.boolean(),
    AutomaticUndeployMinutes: fc.integer({ min: 1, max: 525600 }),
    SkipNotifications: fc.boolean(),
    RollbackAlarms: fc.array(fc.string({ minLength: 1, maxLength: 255 }), { maxLength: 5 }),
    AlarmGracePeriod: seconds(3600, storable),
    PauseAtPercent: fc.array(fc.integer({ min: 1, max: 99 }), { maxLength: 20 }),
    PauseTimeout: seconds(604800, storable),
    DryRun: fc.boolean(),
  },
  { requiredKeys: [] },
);
const reason = fc.string({ maxLength: 500 });

/** A valid detail of each command; `target` (a real service), when given, is used half of the time. */
function validDetail(command: Command, target?: { AccountCanonicalSlug: string; ServiceName: string }, storable = false): fc.Arbitrary<Record<string, unknown>> {
  const names = target
    ? fc.oneof(fc.constant(target), fc.record({ AccountCanonicalSlug: validName, ServiceName: validName }))
    : fc.record({ AccountCanonicalSlug: validName, ServiceName: validName });
  const rest: fc.Arbitrary<Record<string, unknown>> = (() => {
    switch (command) {
      case 'DeployRequested':
        return fc.record(
          { AmiId: validAmiId, DeployConfig: validDeployConfig(storable), DeployId: validDeployId, RequestedBy: fc.string({ minLength: 1, maxLength: 200 }) },
          { requiredKeys: ['AmiId'] },
        );
      case 'CancelRequested':
        return fc.record({ Reason: reason }, { requiredKeys: [] });
      case 'UndeployRequested':
        return fc.record({ UndeployConfig: fc.record({ OnConcurrentDeploy: fc.constantFrom('fail', 'rollback') }, { requiredKeys: [] }) }, { requiredKeys: [] });
      default:
        return fc.record({ DeployId: validDeployId, Reason: reason }, { requiredKeys: [] });
    }
  })();
  return fc.tuple(names, rest).map(([n, r]) => ({ ...n, ...r }));
}

/** Fields of each command's detail (and of its nested config), for mutations. */
const FIELDS: Record<Command, string[][]> = {
  DeployRequested: [
    ['AccountCanonicalSlug'],
    ['ServiceName'],
    ['AmiId'],
    ['DeployId'],
    ['RequestedBy'],
    ['DeployConfig'],
    ...Object.keys(DeployConfig.shape).map((k) => ['DeployConfig', k]),
  ],
  CancelRequested: [['AccountCanonicalSlug'], ['ServiceName'], ['Reason']],
  UndeployRequested: [['AccountCanonicalSlug'], ['ServiceName'], ['UndeployConfig'], ['UndeployConfig', 'OnConcurrentDeploy']],
  PauseRequested: [['AccountCanonicalSlug'], ['ServiceName'], ['DeployId'], ['Reason']],
  ResumeRequested: [['AccountCanonicalSlug'], ['ServiceName'], ['DeployId'], ['Reason']],
  PromoteRequested: [['AccountCanonicalSlug'], ['ServiceName'], ['DeployId'], ['Reason']],
};

const NAMES = ['AccountCanonicalSlug', 'ServiceName'];
const TRAVERSALS = [
  '../',
  '..',
  '../../roles/deployomat',
  '..%2f..%2froles',
  '%2e%2e/',
  '%2e%2e%2f',
  '%2E%2E%2F',
  '..\\..\\',
  '/',
  '/omat/account_registry/x',
  'shop/../admin',
  'shop/..',
  '.',
  '.shop',
  'shop..',
  '%00',
  'shop\u0000',
  'shop\n',
  ' shop',
  'shop ',
  '*',
  '\u202eshop', // right-to-left override
  'sh\u200bop', // zero-width space
  'ｓｈｏｐ', // fullwidth
  'shöp',
  '🚀',
  '${jndi:ldap://x}',
  "'; DROP TABLE x; --",
  '<script>',
];
const AMI_COMMANDS = [
  '$',
  '$$',
  '$newest',
  '$latest',
  '$NAME-PREFIX:shop',
  '$name-prefix',
  '$name-prefix:',
  '$name-prefix:ab',
  `$name-prefix:${'a'.repeat(129)}`,
  '$name-prefix:shop*',
  '$launchtemplate',
  '$launchtemplate:',
  '$launchtemplate:0',
  '$launchtemplate:-1',
  '$launchtemplate:1.5',
  '$launchtemplate:1e3',
  '$launchtemplate:01',
  '$launchtemplate:9999999999',
  '$launchtemplate:$latest',
  '$launchtemplate:$LatestMinus',
  '$launchtemplate:$LatestMinus:',
  '$launchtemplate:$LatestMinus:-1',
  '$launchtemplate:$LatestMinus:00',
  'resolve:ssm:',
  'resolve:ssm:/a b',
  'ami-',
  'ami-1234567',
  'ami-XYZ12345',
  'AMI-12345678',
  ' ami-12345678',
  'ami-12345678\n',
  'ami-123456789012345678',
];

interface HostileOptions {
  /** Longest hostile string (the bus carries at most 256 KB per event). */
  maxString: number;
  /**
   * Only values the audit projection can store. It cannot record (and so dead-letters) an event
   * whose detail has a number DynamoDB or its marshaller refuses (beyond ±2^53, or under 1e-130),
   * a key named `constructor` or `__proto__`, or an account and service name longer than a
   * partition key: a bug reported with issue #7. Such inputs stay in layer (a) until it is fixed.
   */
  storable: boolean;
  /**
   * Whole details that are not objects. None on the emulator: AWS takes only objects, while moto
   * answers PutEvents with HTTP 500 for `null`, a string or a number, and delivers an array
   * mangled (each element turned into a Python repr string).
   */
  nonObjects: unknown[];
}

/** The longest hostile name when `storable`: two of them stay well under DynamoDB's 2048-byte partition key. */
const STORABLE_NAME = 300;

/** Keys for extra fields, and for objects in hostile values. */
const safeKey = fc.oneof(
  fc.constantFrom('prototype', 'toString', 'hasOwnProperty', 'bakeTime', 'BakeTme', 'Serviceame', ' ', '$where', 'DeployConfig ', 'Force'),
  // Nor an empty key: moto mangles a map with a key "" (the item then reads back as garbage).
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((k) => k !== '__proto__' && k !== 'constructor'),
);
const hostileKey = (opts: HostileOptions) => (opts.storable ? safeKey : fc.oneof(fc.constantFrom('__proto__', 'constructor', ''), safeKey));

function hostileValue(opts: HostileOptions, isName = false): fc.Arbitrary<unknown> {
  const maxString = opts.storable && isName ? STORABLE_NAME : opts.maxString;
  const huge = fc.constantFrom(...new Set([300, 1000, 20_000, maxString].filter((n) => n <= maxString))).map((n) => 'x'.repeat(n));
  const numbers = opts.storable
    ? fc.oneof(
        fc.constantFrom(-1, -0, 0.5, -1e-9, 1e15, -604801, 604801, 86401, 101, 0, 100),
        fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
        fc.double({ min: -1e15, max: 1e15, noNaN: true }).filter((x) => x === 0 || Math.abs(x) > 1e-100),
      )
    : fc.oneof(
        fc.constantFrom(-1, -0, 0.5, 1e21, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, Number.MIN_VALUE, 1e-200, NaN, Infinity, -Infinity),
        fc.integer(),
        fc.double(),
      );
  const strings = fc.oneof(
    fc.constantFrom(...TRAVERSALS),
    fc.constantFrom(...AMI_COMMANDS),
    fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('../', '%2e%2e/', '..%2f', '/'), fc.string({ maxLength: 10 }))
      .map(([a, b, c]) => a + b + c),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 60 }),
    huge,
  );
  const json = opts.storable
    ? fc.letrec((tie) => ({
        value: fc.oneof({ depthSize: 'small' }, strings, numbers, fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(safeKey, tie('value'), { maxKeys: 3 })),
      })).value
    : fc.jsonValue({ maxDepth: 3 });
  return fc.oneof(strings, numbers, fc.constantFrom(null, true, false, [], {}, [null], { $ne: null }, ['shop'], { AmiId: 'ami-12345678' }), json);
}

type Mutation =
  | { kind: 'replace'; path: string[]; value: unknown }
  | { kind: 'delete'; path: string[] }
  | { kind: 'extra'; at: string[]; key: string; value: unknown }
  | { kind: 'whole'; value: unknown };

function mutation(command: Command, opts: HostileOptions): fc.Arbitrary<Mutation> {
  const fields = FIELDS[command];
  const objects = [[], ...fields.filter((p) => p.length === 1 && ['DeployConfig', 'UndeployConfig'].includes(p[0]!))];
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .constantFrom(...fields)
        .chain((path) => hostileValue(opts, NAMES.includes(path.join('.'))).map((value) => ({ kind: 'replace' as const, path, value }))),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...fields) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('extra' as const), at: fc.constantFrom(...objects), key: hostileKey(opts), value: hostileValue(opts) }) },
    ...(opts.nonObjects.length ? [{ weight: 1, arbitrary: fc.record({ kind: fc.constant('whole' as const), value: fc.constantFrom(...opts.nonObjects) }) }] : []),
  );
}

/** Applies a mutation to a copy of `detail` (own properties only: `__proto__` stays a plain key). */
function apply(detail: unknown, m: Mutation): unknown {
  if (m.kind === 'whole') return m.value;
  const copy = structuredClone(detail) as Record<string, unknown>;
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) return copy;
  const path = m.kind === 'extra' ? m.at : m.path;
  let parent: Record<string, unknown> = copy;
  for (const key of (m.kind === 'extra' ? path : path.slice(0, -1))) {
    const next = parent[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      if (m.kind === 'delete') return copy;
      Object.defineProperty(parent, key, { value: {}, enumerable: true, writable: true, configurable: true });
    }
    parent = parent[key] as Record<string, unknown>;
  }
  const last = m.kind === 'extra' ? m.key : path.at(-1)!;
  if (m.kind === 'delete') delete parent[last];
  else Object.defineProperty(parent, last, { value: m.value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** An invalid detail of `command`: a valid one with one to three hostile mutations (kept only if now invalid). */
function invalidDetail(command: Command, opts: HostileOptions, target?: { AccountCanonicalSlug: string; ServiceName: string }) {
  return fc
    .tuple(validDetail(command, target, opts.storable), fc.array(mutation(command, opts), { minLength: 1, maxLength: 3 }))
    .map(([detail, mutations]) => overTheBus(mutations.reduce<unknown>(apply, detail)))
    .filter((detail) => !parse(command, detail).ok);
}

const UNIT: HostileOptions = { maxString: 300_000, storable: false, nonObjects: [null, 'DeployRequested', 42, true, [], [1, 2], [{ ServiceName: 'shop' }]] };
const RUNS = 500;

// --- (a) properties of the validation --------------------------------------------------------

describe('Fuzz: client command validation (properties)', () => {
  it.each(SCHEMAS)('%s: any input at all is parsed without throwing, into a value or non-empty reasons', (command) => {
    fc.assert(
      fc.property(fc.oneof(fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withSet: true, withDate: true }), fc.jsonValue()), (detail) => {
        const result = parse(command, detail);
        if (!result.ok) {
          expect(result.reasons.length).toBeGreaterThan(0);
          for (const r of result.reasons) expect(typeof r === 'string' && r.length > 0).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it.each(SCHEMAS)('%s: every valid detail is accepted as given', (command) => {
    fc.assert(
      fc.property(validDetail(command), (detail) => {
        const result = parse(command, detail);
        expect(result.ok, JSON.stringify(result)).toBe(true);
        if (result.ok) expect(result.value).toMatchObject(detail);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(SCHEMAS)('%s: every invalid detail gets reasons, and a rejection its handler can publish', (command) => {
    fc.assert(
      fc.property(invalidDetail(command, UNIT), (detail) => {
        const result = parse(command, detail);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.reasons.length).toBeGreaterThan(0);
        for (const r of result.reasons) expect(typeof r === 'string' && r.length > 0).toBe(true);
        // The rejection event passes its own schema: publish() (which validates) cannot throw on it.
        const rejection = rejectionOf(command, detail, 'event-id', result.reasons);
        expect(catalog[COMMANDS[command].rejection].schema.safeParse(rejection).success).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(SCHEMAS)('%s: a reason names the field that one hostile change broke', (command) => {
    const onlyInvalid = fc
      .tuple(validDetail(command), mutation(command, UNIT))
      .map(([detail, m]) => ({ m, detail: overTheBus(apply(detail, m)) }))
      .filter(({ detail }) => !parse(command, detail).ok);
    fc.assert(
      fc.property(onlyInvalid, ({ m, detail }) => {
        const result = parse(command, detail);
        if (result.ok) return;
        if (m.kind === 'whole') expect(result.reasons).toEqual(['the event detail must be a JSON object']);
        // Named as it can be shown safely: without control or bidi characters (events/text.ts).
        else if (m.kind === 'extra') expect(result.reasons.join('\n')).toContain(`unknown field(s) "${stripUnprintable(m.key.slice(0, 64))}"`);
        else expect(result.reasons.some((r) => r.startsWith(m.path.join('.'))), `${JSON.stringify(m)} → ${JSON.stringify(result.reasons)}`).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts only names that cannot escape an SSM path, a resource name or a URL', () => {
    const candidates = fc.oneof(validName, fc.constantFrom(...TRAVERSALS), fc.string({ unit: 'binary', maxLength: 70 }), fc.string({ unit: chars('./%\\_-'), maxLength: 70 }));
    fc.assert(
      fc.property(candidates, candidates, (slug, service) => {
        const result = parseCommand(CancelRequested, { AccountCanonicalSlug: slug, ServiceName: service });
        if (!result.ok) return;
        for (const name of [slug, service]) {
          expect(name.length).toBeLessThanOrEqual(64);
          expect(encodeURIComponent(name)).toBe(name); // no '/', '%', whitespace, control or non-ASCII characters
          expect(name).not.toContain('..');
          expect(name).not.toMatch(/^[._-]/);
        }
      }),
      { numRuns: RUNS },
    );
  });

  // Raw JSON only here: on the emulator, moto re-serializes 1e309 as `Infinity` (not JSON), and the
  // handler drops the message unanswered (reported with issue #7); AWS is not known to do that.
  it.each([
    ['1e309', 'DeployConfig.BakeTime'],
    ['-1e309', 'DeployConfig.BakeTime'],
    ['1E400', 'DeployConfig.BakeTime'],
    ['123456789012345678901234567890', 'DeployConfig.BakeTime: must be at most 604800 seconds'],
    ['-0.0000001', 'DeployConfig.BakeTime: must not be negative'],
  ])('rejects BakeTime %s written as raw JSON (JSON.parse makes it Infinity or a huge number)', (raw, reasonStart) => {
    const detail = JSON.parse(`{"AccountCanonicalSlug":"acme","ServiceName":"shop","AmiId":"ami-12345678","DeployConfig":{"BakeTime":${raw}}}`);
    const result = parseDeployRequested(detail);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reasons).toEqual([expect.stringMatching(new RegExp(`^${reasonStart.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))]);
  });

  it('takes 1e-400 written as raw JSON for 0 (JSON.parse rounds it), which is a valid BakeTime', () => {
    const detail = JSON.parse('{"AccountCanonicalSlug":"acme","ServiceName":"shop","AmiId":"ami-12345678","DeployConfig":{"BakeTime":1e-400}}');
    expect(parseDeployRequested(detail)).toMatchObject({ ok: true, value: { DeployConfig: { BakeTime: 0 } } });
  });
});

// --- (b) on the emulator ---------------------------------------------------------------------

describe('Fuzz: invalid client commands on the emulator', () => {
  let t: TestDeployomat;
  let shop: SeededService;
  const slug = 'acme-fuzz';
  const target = { AccountCanonicalSlug: slug, ServiceName: 'shop' };
  const EMULATOR: HostileOptions = { maxString: 20_000, storable: true, nonObjects: [] };
  const SEED = 20260701;
  const SAMPLE = 40;
  const REJECTIONS = new Set<string>(Object.values(COMMANDS).map((c) => c.rejection));
  const cp = () => controlPlaneClients();

  /** Everything a command could change: the workload account, the ledger's state (not its audit history), the schedules. */
  const world = async () => {
    const { autoscaling, elb } = await workloadClients();
    const ledger = (await cp().dynamo.send(new ScanCommand({ TableName: t.local.install.tableName }))).Items ?? [];
    return {
      asgs: ((await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? []).map((g) => `${g.AutoScalingGroupName} ${g.MinSize}/${g.MaxSize}`).sort(),
      targetGroups: ((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map((g) => g.TargetGroupName).sort(),
      shop: shape(await snapshotService('shop', t.account.listenerArn, shop.launchTemplateId)),
      ledger: ledger.filter((i) => !String(i.sk).startsWith('EVENT#')).sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`)),
      schedules: ((await cp().scheduler.send(new ListSchedulesCommand({ GroupName: t.local.install.scheduleGroup }))).Schedules ?? []).map((s) => s.Name).sort(),
    };
  };

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    shop = await seedService(t.account, { service: 'shop', web: true, amis: ['shop-v1', 'shop-v2'] });
    await t.send('DeployRequested', { ...target, AmiId: shop.amis['shop-v1'], DeployId: 'fz-1', DeployConfig: FAST });
    expect((await t.observer.outcome('fz-1', 30_000)).detailType).toBe('DeployCompleted');
    // A deploy stands paused at 50 %: an invalid cancel, pause, promote or undeploy taken for valid would show.
    await t.send('DeployRequested', { ...target, AmiId: shop.amis['shop-v2'], DeployId: 'fz-2', DeployConfig: { ...FAST, PauseAtPercent: [50] } });
    await t.observer.waitFor((e) => e.detail.DeployId === 'fz-2' && e.detailType === 'RolloutPaused', 30_000, 'fz-2 to pause');
  });
  afterAll(async () => t?.stop());

  /** The nastiest, by hand: most aim at the real service, with one thing wrong. */
  const nastiest = (): [Command, unknown][] => [
    ['DeployRequested', { ...target, AmiId: shop.amis['shop-v1'], DeployConfig: { BakeTime: -1 } }],
    ['DeployRequested', { ...target, AmiId: shop.amis['shop-v1'], DeployId: '../../fz-2' }],
    ['DeployRequested', { ...target, AmiId: shop.amis['shop-v1'], DeployId: 'fz-2', DeployConfig: { OnConcurrentDeploy: 'rollback', Extra: 1 } }],
    ['DeployRequested', { ...target, ServiceName: '../shop', AmiId: shop.amis['shop-v1'] }],
    ['DeployRequested', { ...target, ServiceName: '%2e%2e%2fshop', AmiId: shop.amis['shop-v1'] }],
    ['DeployRequested', { ...target, AccountCanonicalSlug: '../../omat/account_registry/acme-fuzz', AmiId: shop.amis['shop-v1'] }],
    ['DeployRequested', { ...target, AmiId: '$launchtemplate:$LatestMinus:-1' }],
    ['DeployRequested', { ...target, AmiId: '$newest' }],
    ['DeployRequested', { ...target, AmiId: shop.amis['shop-v1'], ['k'.repeat(20_000)]: 'v' }],
    ['DeployRequested', { AccountCanonicalSlug: 1, ServiceName: ['shop'], AmiId: { id: 'ami-12345678' }, DeployConfig: 'fast', DeployId: null }],
    ['DeployRequested', { ...target, AmiId: shop.amis['shop-v1'], DeployConfig: { DryRun: 'true', PauseAtPercent: [0, 100, 50.5], RollbackAlarms: [''] } }],
    ['CancelRequested', { ...target, Reason: 'r'.repeat(501) }],
    ['CancelRequested', { ...target, ServiceName: 'ｓｈｏｐ' }],
    ['CancelRequested', { ...target, Reason: { $ne: null } }],
    ['CancelRequested', { ...target, DeployId: 'fz-2' }],
    ['UndeployRequested', { ...target, UndeployConfig: { OnConcurrentDeploy: 'rollback', Force: true } }],
    ['UndeployRequested', { ...target, UndeployConfig: { OnConcurrentDeploy: 'ROLLBACK' } }],
    ['UndeployRequested', { ...target, ServiceName: 'shop/' }],
    ['PromoteRequested', { ...target, DeployId: 'fz-2', Reason: 1 }],
    ['PromoteRequested', { ...target, DeployId: 'fz-2', Force: true }],
    ['ResumeRequested', { ...target, DeployId: 'f' }],
    ['ResumeRequested', { ...target, ServiceName: 'shop\u0000' }],
    ['PauseRequested', { ...target, AccountCanonicalSlug: 'acme-fuzz/..' }],
  ];

  it('answers each invalid command with exactly one rejection and its reasons, crashes nowhere and changes nothing', async () => {
    // Prepare: a seeded sample over every command (half aimed at the real service), and the nastiest.
    const sample = fc.sample(
      fc.constantFrom(...COMMAND_TYPES).chain((command) => invalidDetail(command, EMULATOR, target).map((detail) => [command, detail] as [Command, unknown])),
      { seed: SEED, numRuns: SAMPLE },
    );
    const requests = [...sample, ...nastiest()];
    for (const [command, detail] of requests) expect(parse(command, overTheBus(detail)).ok, JSON.stringify(detail).slice(0, 200)).toBe(false);
    const before = await world();
    const deadLetters = t.local.runtime.invocations['dead-letter'];
    const since = Date.now();

    // Act: publish them as a deployer would (PutEvents, 10 entries a call).
    const events = new EventBridgeClient({});
    const ids: string[] = [];
    for (let i = 0; i < requests.length; i += 10) {
      const batch = requests.slice(i, i + 10);
      const out = await events.send(
        new PutEventsCommand({
          Entries: batch.map(([command, detail]) => ({ EventBusName: t.local.install.busName, Source: CLIENT_SOURCE, DetailType: command, Detail: JSON.stringify(detail) })),
        }),
      );
      expect(out.FailedEntryCount ?? 0, JSON.stringify(out.Entries)).toBe(0);
      ids.push(...out.Entries!.map((e) => e.EventId!));
    }
    const rejections = () => t.observer.events.filter((e) => e.receivedAt >= since && REJECTIONS.has(e.detailType));
    const deadline = Date.now() + 15_000;
    while (rejections().length < requests.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // Every handler done: nothing waiting, in flight or retried in any queue, nothing dead-lettered.
    const waiting = await waitUntilQuiet(t.local.install, Math.max(deadline - Date.now(), 0) + 5_000);

    // Assess: exactly the expected rejections, one per request, with the schema's reasons.
    const key = (type: string, d: Record<string, unknown>) => JSON.stringify([type, d.Command, d.DeployId, d.UndeployId, d.AccountCanonicalSlug, d.ServiceName, d.AmiId, d.Reasons]);
    const expected = requests.map(([command, detail], i) => {
      const received = overTheBus(detail);
      const result = parse(command, received);
      return key(COMMANDS[command].rejection, overTheBus(rejectionOf(command, received, ids[i]!, result.ok ? [] : result.reasons)) as Record<string, unknown>);
    });
    expect(rejections().map((e) => key(e.detailType, e.detail)).sort()).toEqual(expected.sort());
    expect(t.observer.events.filter((e) => e.receivedAt >= since && !REJECTIONS.has(e.detailType)).map((e) => e.detailType)).toEqual([]);
    expect(waiting).toEqual({});
    expect(t.local.runtime.invocations['dead-letter']).toBe(deadLetters);
    expect(await world()).toEqual(before);
    // The paused deploy is still where it was.
    expect(t.observer.of('fz-2').filter((e) => !REJECTIONS.has(e.detailType)).at(-1)?.detailType).toBe('RolloutPaused');
  });
});
