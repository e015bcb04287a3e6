import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { Stack, type App } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedHandlers, resourceNames, rules, type Subscription } from '../../events/topology';
import { PROGRESS_SOURCE } from '../../events/progress';
import { CiParameters, CLIENT_COMMANDS, DeployAccessRole, DeployerRole, Deployomat, MetaAccessRole, SlackBotToken, SlackNotifier } from '../../infra/cdk';
import { assertPrefix } from '../../infra/cdk/common';
import { startEmulator, type Emulator } from '../../infra/local/emulator';
import {
  checkArchivePattern,
  checkNames,
  checkQueueTimings,
  checkRulePatterns,
  FOREIGN_SOURCE,
  loadNameChecks,
  loadQueueDefaults,
  sampleEvent,
  type NameCheck,
  type PatternMatcher,
  type QueueDefaults,
} from './deployable';
import { env, newApp, props, resourcesOf, type CfnTemplate } from './helpers';

/**
 * The stack deploys (issue #13, part 5): beyond cfn-lint and cdk-nag, what CloudFormation and the
 * services would only refuse at deploy time, on the templates of every construct and option —
 * physical names (and descriptions) against the AWS API models at the longest inputs the
 * constructs accept, handler timeouts against their queues, and every rule's pattern against
 * sample events of the catalog with EventBridge's TestEventPattern (on the emulator). Each check
 * is shown to catch a seeded mistake.
 */

/** The longest prefix `assertPrefix` accepts (32), with every kind of character it allows. */
const LONGEST_PREFIX = 'Deployomat_Prod-0123456789abcdef';
/** The longest path segment `assertSegment` accepts (64): organization, environment, account and service names. */
const LONGEST_SEGMENT = 'Acme_Org-1.'.repeat(6).slice(0, 64);

/**
 * Every construct with every option that sets a name, one stack per account as in the sample app
 * (infra/cdk/sample-app.ts): `prefix` and the segments as given.
 */
function buildEveryOption(app: App, prefix: string, segment: string): void {
  const naming = { organizationPrefix: segment, serviceName: segment, deployomatPrefix: prefix };
  const workload = new Stack(app, 'Workload', { env });
  new DeployAccessRole(workload, 'DeployAccessRole', { ...naming, ciCdAccountIds: [env.account], environment: segment, organizationId: 'o-abcdefghij' });
  const meta = new Stack(app, 'Meta', { env });
  new MetaAccessRole(meta, 'MetaAccessRole', { ...naming, ciCdAccountIds: [env.account], organizationId: 'o-abcdefghij' });

  const cicd = new Stack(app, 'CiCd', { env });
  const deployomat = new Deployomat(cicd, 'Deployomat', {
    prefix,
    environment: segment,
    organizationPrefix: segment,
    serviceName: segment,
    metaRoleArn: 'arn:aws:iam::333333333333:role/DeployomatParameterAccess',
    organizationId: 'o-abcdefghij',
    auditTrail: true,
  });
  const deployer = new DeployerRole(cicd, 'DeployerRole', { deployomat, userAccountIds: [env.account] });
  new CiParameters(cicd, 'CiParameters', { deployomat, accountName: segment, deployerRole: deployer });
  const secret = new secretsmanager.Secret(cicd, 'SlackToken', { description: 'Slack bot token' });
  new SlackNotifier(cicd, 'Slack', { deployomat, token: SlackBotToken.fromSecret(secret), channel: '#deploys' });
}

function synthesize(prefix: string, segment: string): Map<string, CfnTemplate> {
  const app = newApp();
  buildEveryOption(app, prefix, segment);
  app.synth();
  return new Map(
    readdirSync(app.outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => [f, JSON.parse(readFileSync(join(app.outdir, f), 'utf8')) as CfnTemplate]),
  );
}

let longest: Map<string, CfnTemplate>;
let shortest: Map<string, CfnTemplate>;
let nameChecks: Map<string, NameCheck>;
let defaults: QueueDefaults;

/** Lets the worker answer vitest between long synchronous steps (a synth takes seconds on a busy machine). */
const breathe = () => new Promise((resolve) => setImmediate(resolve));

beforeAll(async () => {
  const models = Promise.all([loadNameChecks(), loadQueueDefaults()]);
  longest = synthesize(LONGEST_PREFIX, LONGEST_SEGMENT);
  await breathe();
  shortest = synthesize('d', 'o');
  await breathe();
  [{ checks: nameChecks }, defaults] = await models;
}, 120_000);

const cicd = (): CfnTemplate => structuredClone(longest.get('CiCd.template.json')!);
/** The logical id of the first resource of `type` whose properties satisfy `where`. */
const first = (t: CfnTemplate, type: string, where: (p: Record<string, unknown>) => boolean = () => true): string => {
  const found = resourcesOf(t, type).find(([, r]) => where(props(r)));
  if (!found) throw new Error(`no ${type} in the template`);
  return found[0];
};
const set = (t: CfnTemplate, id: string, values: Record<string, unknown>) => Object.assign(t.Resources[id]!.Properties!, values);

describe('Physical names against the AWS API models', () => {
  it('stay within the limits at the longest prefix and segments, with every option', () => {
    const { checked, violations } = checkNames(longest, nameChecks);
    expect(violations).toEqual([]);
    // Functions, queues, rules, roles, log groups, the table, bus, archive, trail, alias, parameters and descriptions.
    expect(checked).toBeGreaterThan(150);
  });

  it('stay within the limits at the shortest prefix and segments (the minimum lengths)', () => {
    expect(checkNames(shortest, nameChecks).violations).toEqual([]);
  });

  it.each<[string, (t: CfnTemplate) => void, string]>([
    ['a 65-character function name', (t) => set(t, first(t, 'AWS::Lambda::Function'), { FunctionName: 'f'.repeat(65) }), '65 characters, more than the documented 64 (lambda CreateFunction.FunctionName)'],
    ['an 81-character queue name', (t) => set(t, first(t, 'AWS::SQS::Queue'), { QueueName: 'q'.repeat(81) }), '81 characters, more than the documented 80 (sqs CreateQueue.QueueName)'],
    ['a 50-character archive name', (t) => set(t, first(t, 'AWS::Events::Archive'), { ArchiveName: `${LONGEST_PREFIX}-archive-of-events` }), '50 characters, more than 48 (events CreateArchive.ArchiveName)'],
    ['a rule name with a slash', (t) => set(t, first(t, 'AWS::Events::Rule'), { Name: 'deployomat/start-deploy' }), 'does not match [\\.\\-_A-Za-z0-9]+ (events PutRule.Name)'],
    ['a trail name with adjacent dashes (a prefix ending in "-")', (t) => set(t, first(t, 'AWS::CloudTrail::Trail'), { TrailName: 'deployomat--bus-audit' }), 'breaks the documented rule "Have no adjacent periods, underscores or dashes"'],
    ['a trail name starting with a dash', (t) => set(t, first(t, 'AWS::CloudTrail::Trail'), { TrailName: '-deployomat-bus-audit' }), 'breaks the documented rule "Start with a letter or number, and end with a letter or number"'],
    ['a bus named "default"', (t) => set(t, first(t, 'AWS::Events::EventBus'), { Name: 'default' }), `"default" is the account's default bus`],
    ['a role description with a non-Latin-1 character', (t) => set(t, first(t, 'AWS::IAM::Role'), { Description: 'Deploys — and rolls back' }), '(iam CreateRole.Description)'],
    ['a named property no rule covers', (t) => (t.Resources.Topic = { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'alarms' } }), 'Topic AWS::SNS::Topic.TopicName: no rule says where its limits are'],
  ])('catch %s', (_what, seed, expected) => {
    const t = cicd();
    seed(t);
    const { violations } = checkNames(new Map([['seeded', t]]), nameChecks);
    expect(violations).toEqual([expect.stringContaining(expected)]);
  });

  it('catch a documented limit the model no longer states (the rule is reviewed, not trusted)', async () => {
    const { checks } = await loadNameChecks({
      'AWS::SQS::Queue.QueueName': {
        model: { service: 'sqs', operation: 'CreateQueue', member: 'QueueName' },
        documented: [{ says: /A queue name can have up to (\d+) bytes/, check: () => undefined }],
      },
    });
    const t: CfnTemplate = { Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'deployomat-start-deploy' } } } };
    expect(checkNames(new Map([['seeded', t]]), checks).violations).toEqual([
      expect.stringContaining('the documentation of sqs CreateQueue.QueueName no longer says /A queue name can have up to (\\d+) bytes/'),
    ]);
  });

  // The audit trail is `<prefix>-bus-audit` (CloudTrail's rules above) and the bus is `<prefix>`:
  // before, assertPrefix let these through and CloudFormation would have failed the deploy.
  it.each(['-deployomat', '_deployomat', 'deployomat-', 'deployomat_', 'deploy--omat', 'deploy_-omat', 'default', 'd'.repeat(33)])(
    'assertPrefix refuses %j, which breaks a name',
    (prefix) => {
      expect(() => assertPrefix('prefix', prefix)).toThrow(`(got "${prefix}")`);
    },
  );

  it.each([LONGEST_PREFIX, 'd', 'a_b-c', 'Default', 'defaults'])('assertPrefix accepts %j', (prefix) => {
    expect(() => assertPrefix('prefix', prefix)).not.toThrow();
  });
});

describe('Handler timeouts and queue retention', () => {
  it('every handler times out before its queue redelivers, and every dead-letter queue outlives its queue', () => {
    const t = longest.get('CiCd.template.json')!;
    const { checked, violations } = checkQueueTimings(t, defaults);
    expect(violations).toEqual([]);
    // Every event source mapping: the handlers' queues and the dead-letter queues the dead-letters handler reads.
    expect(checked).toBe(resourcesOf(t, 'AWS::Lambda::EventSourceMapping').length);
    expect(checked).toBeGreaterThan(20);
  });

  it('read the defaults a template leaves out from the API models', () => {
    expect(defaults).toEqual({ lambdaTimeout: 3, visibilityTimeout: 30, messageRetentionPeriod: 345_600 });
  });

  const startDeploy = (t: CfnTemplate) => first(t, 'AWS::Lambda::Function', (p) => String(p.FunctionName).endsWith('-start-deploy'));
  const startDeployQueue = (t: CfnTemplate) => first(t, 'AWS::SQS::Queue', (p) => String(p.QueueName).endsWith('-start-deploy'));
  const startDeployDlq = (t: CfnTemplate) => first(t, 'AWS::SQS::Queue', (p) => String(p.QueueName).endsWith('-start-deploy-dlq'));

  const p = LONGEST_PREFIX;
  it.each<[string, (t: CfnTemplate) => void, string[]]>([
    ['a timeout above the visibility timeout', (t) => set(t, startDeploy(t), { Timeout: 120 }), [`${p}-start-deploy: timeout 120 s is not below the visibility timeout of ${p}-start-deploy (90 s)`]],
    ['a timeout equal to the visibility timeout', (t) => set(t, startDeploy(t), { Timeout: 90 }), [`${p}-start-deploy: timeout 90 s is not below the visibility timeout of ${p}-start-deploy (90 s)`]],
    [
      "a dead-letter queue kept no longer than its queue (SQS's default)",
      (t) => delete t.Resources[startDeployDlq(t)]!.Properties!.MessageRetentionPeriod,
      [`${p}-start-deploy-dlq: retention 345600 s is not longer than that of ${p}-start-deploy (345600 s), whose dead letters it keeps`],
    ],
    [
      // The dead-letters handler then reads a queue that is nobody's dead-letter queue, and has none itself.
      'a queue without a dead-letter queue',
      (t) => delete t.Resources[startDeployQueue(t)]!.Properties!.RedrivePolicy,
      [`${p}-start-deploy (feeding ${p}-start-deploy): no dead-letter queue`, `${p}-start-deploy-dlq (feeding ${p}-dead-letter): no dead-letter queue`],
    ],
  ])('catch %s', (_what, seed, expected) => {
    const t = cicd();
    seed(t);
    expect(checkQueueTimings(t, defaults).violations).toEqual(expected);
  });
});

describe('Rule patterns against sample events of the catalog (TestEventPattern on the emulator)', () => {
  let emulator: Emulator;
  let events: EventBridgeClient;
  /** TestEventPattern on the emulator. */
  let testEventPattern: PatternMatcher;
  /** The same, each pattern and event asked once: a seeded mistake changes one rule, the others are known. */
  const answers = new Map<string, Promise<boolean>>();
  const matcher: PatternMatcher = (p, event) => {
    const key = JSON.stringify([p, event]);
    if (!answers.has(key)) answers.set(key, testEventPattern(p, event));
    return answers.get(key)!;
  };
  const replayName = `${LONGEST_PREFIX}-replay`;
  /** Per rule name, the subscription it implements: the topology with every feature. */
  const expected = () => new Map<string, Subscription>(rules(resourceNames(LONGEST_PREFIX), installedHandlers(['slack'])).map((r) => [r.name, r.subscription]));
  const ruleNamed = (t: CfnTemplate, suffix: string) => first(t, 'AWS::Events::Rule', (p) => p.Name === `${LONGEST_PREFIX}-${suffix}`);
  const pattern = (t: CfnTemplate, id: string) => props(t.Resources[id]!).EventPattern as Record<string, unknown>;

  beforeAll(async () => {
    emulator = await startEmulator();
    events = new EventBridgeClient({ endpoint: emulator.endpoint, region: env.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    testEventPattern = async (p, event) =>
      (await events.send(new TestEventPatternCommand({ EventPattern: JSON.stringify(p), Event: JSON.stringify(event) }))).Result === true;
  });
  afterAll(async () => {
    events?.destroy();
    await emulator?.stop();
  });

  it('each rule takes every event it subscribes to and nothing else: no other detail-type, no other source, no replay unless it is a projection', async () => {
    const t = longest.get('CiCd.template.json')!;
    const { checked, violations } = await checkRulePatterns(t, expected(), matcher, { replayName });
    expect(violations).toEqual([]);
    expect(checked).toBe(expected().size);
  });

  it('the archive takes every event of the catalog, and none from another source', async () => {
    expect(await checkArchivePattern(longest.get('CiCd.template.json')!, matcher)).toEqual([]);
  });

  it.each<[string, (t: CfnTemplate) => void, string[]]>([
    ['a pattern that misses its event', (t) => (pattern(t, ruleNamed(t, 'start-deploy'))['detail-type'] = ['DeployRequest']), [`${LONGEST_PREFIX}-start-deploy: misses DeployRequested`]],
    [
      'a choreography rule that takes replays',
      (t) => delete pattern(t, ruleNamed(t, 'finish-deploy'))['replay-name'],
      [`${LONGEST_PREFIX}-finish-deploy: matches BakeElapsed replayed`],
    ],
    [
      'a projection that refuses replays',
      (t) => (pattern(t, ruleNamed(t, 'record-history'))['replay-name'] = [{ exists: false }]),
      // Its first rule takes the client commands.
      CLIENT_COMMANDS.map((command) => `${LONGEST_PREFIX}-record-history: misses ${command} replayed`),
    ],
    [
      'a rule that takes a look-alike source',
      (t) => (pattern(t, ruleNamed(t, 'undeploy')).source = [{ prefix: 'deployomat' }]),
      [`${LONGEST_PREFIX}-undeploy: matches UndeployRequested from deployomat`],
    ],
    [
      'a rule without its source',
      (t) => delete pattern(t, ruleNamed(t, 'watch-bake')).source,
      [
        `${LONGEST_PREFIX}-watch-bake: matches BakeCheckDue from deployomat.client`,
        `${LONGEST_PREFIX}-watch-bake: matches BakeCheckDue from ${PROGRESS_SOURCE}`,
        `${LONGEST_PREFIX}-watch-bake: matches BakeCheckDue from ${FOREIGN_SOURCE}`,
      ],
    ],
    [
      'a rule the topology does not declare',
      (t) => (props(t.Resources[ruleNamed(t, 'notify-slack-2')]!).Name = `${LONGEST_PREFIX}-notify-slack-4`),
      [`${LONGEST_PREFIX}-notify-slack-4: a rule the topology does not declare`, `${LONGEST_PREFIX}-notify-slack-2: declared by the topology, not in the template`],
    ],
  ])('catch %s', async (_what, seed, expectedViolations) => {
    const t = cicd();
    seed(t);
    const { violations } = await checkRulePatterns(t, expected(), matcher, { replayName });
    expect(violations.sort()).toEqual([...expectedViolations].sort());
  });

  it("the emulator's TestEventPattern makes AWS's checks (an invalid pattern or event is an error, not a no-match)", async () => {
    const event = sampleEvent('DeployRequested');
    await expect(testEventPattern({ source: 'deployomat.client' }, event)).rejects.toThrow(/'source' must be an object or an array/);
    await expect(testEventPattern({ source: [{ 'starts-with': 'deployomat' }] }, event)).rejects.toThrow(/Unrecognized match type/);
    const { id: _id, ...anonymous } = event;
    await expect(testEventPattern({ source: ['deployomat.client'] }, anonymous)).rejects.toThrow(/Parameter Event is not valid. Reason: missing id/);
  });
});
