import { DeleteAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashInjector, type CrashPoint, type MutatingCall, type Watch } from '../../infra/local/crash';
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { controlPlaneClients } from '../../domain/aws/clients';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedAccount, seedService, workloadClients, type SeededAccount } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { assumeReadLag, inBatches, serviceShape, settled, TrafficSampler, type ServiceShape } from './harness';
import type { ConsistencyOptions } from '../../infra/local/emulator';

/**
 * Crash injection (issue #7), shared by crash.test.ts (web blue/green deploy), crash-cancel.test.ts
 * and crash-non-web.test.ts: a handler dies right after an AWS call that changed something, before
 * it could publish or acknowledge — its message comes back (infra/local/crash.ts). For a scenario,
 * a recording run lists every mutating call the handlers make (handler, operation, occurrence);
 * then, for each of them, a run on a fresh service (production v1 deployed first) crashes once
 * right after that call. Every run must converge to the scenario's outcome with nothing
 * duplicated (ASGs, target groups, rules, launch template versions counted), the listener sampled
 * every 200 ms must never forward a share that does not sum to 100 % or to a missing target group,
 * and nothing may be left over (infra/local/leftovers).
 *
 * Runs go at most 13 services at a time (CRASH_BATCH), in as few batches as that allows, the runs
 * spread evenly over them (a run mostly waits on its timers: a batch takes about as long as its
 * slowest run, so fewer batches is less time), each batch in its own workload account (ALB
 * listener); the batch is undeployed and its ledger items removed afterwards, which keeps moto
 * fast (it copies the whole table on every TransactWriteItems). 13 services keep a batch's ASGs
 * (template, production, new: 39) on the first page of DescribeAutoScalingGroups (50), which is
 * all findLeftovers reads. One scenario per test file: each
 * file has its own moto process, and moto, being Python, uses one core. A summary is written to
 * test/reliability/.results/crash-<scenario>.json (git-ignored).
 */
const BATCH = Number(process.env.CRASH_BATCH ?? 13);
/** For working on these files: only the first N crash points. */
const LIMIT = Number(process.env.CRASH_LIMIT ?? Infinity);
const injector = crashInjector();
const ROLLBACK_HANDLERS = ['start-rollback', 'restore-traffic', 'finish-rollback'];
/**
 * The crashing deploy: timers 2 s apart, so a step that runs late on a loaded machine still
 * sends its next timer (with 1 s a late step publishes it at once, and the recorded SendMessage
 * never happens).
 */
const DEPLOY_CONFIG = { ...FAST, WaitPerStep: 2, BakeTime: 2 };
const CANCEL_CONFIG = { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 3 };

interface Scenario {
  name: string;
  web: boolean;
  /** Cancel once the first traffic step is done: the rollback is what crashes. */
  cancel?: boolean;
  /** Which recorded calls become crash points. */
  crashable: (c: MutatingCall) => boolean;
}

export type ScenarioKey = 'web' | 'cancel' | 'nonWeb';

const scenarios: Record<ScenarioKey, Scenario> = {
  web: { name: 'web blue/green deploy', web: true, crashable: () => true },
  cancel: { name: 'cancel mid-shift of a web deploy', web: true, cancel: true, crashable: (c) => ROLLBACK_HANDLERS.includes(c.handler) },
  nonWeb: { name: 'non-web deploy', web: false, crashable: () => true },
};

interface RunResult {
  service: string;
  crashAt?: CrashPoint;
  fired?: MutatingCall;
  outcome?: string;
  calls: MutatingCall[];
  unclassified: string[];
  shape?: ServiceShape;
  problems: string[];
  seconds: number;
  /** Run again because the first run never reached its crash point. */
  rerun?: boolean;
  /** Distinct forwards of the live rule the sampler saw during the run (`tg:weight,…`). */
  forwardsSeen?: string[];
}

let t: TestDeployomat;
let slugPrefix = 'crash-';
let accounts = 0;
const listeners: string[] = [];
const summary: Record<string, unknown> = {};
let samples = 0;

async function freshAccount(): Promise<SeededAccount> {
  const account = accounts++ === 0 ? t.account : await seedAccount({ slug: `${slugPrefix}${accounts - 1}` });
  if (!listeners.includes(account.listenerArn)) listeners.push(account.listenerArn);
  return account;
}

/**
 * One service: seed, deploy v1 (no crash), then the scenario's deploy (and cancel) of v2 with the
 * crash point armed; wait until its calls settle; check what it owns.
 */
async function runService(account: SeededAccount, service: string, priority: number, scenario: Scenario, crashAt?: CrashPoint): Promise<RunResult> {
  const t0 = Date.now();
  const problems: string[] = [];
  const key = `${account.slug}/${service}`;
  const seeded = await seedService(account, { service, web: scenario.web, priority, amis: [`${service}-v1`, `${service}-v2`] });
  const v1 = `${service}-1`;
  const v2 = `${service}-2`;
  const request = (id: string, ami: string, config: object) =>
    t.send('DeployRequested', { AccountCanonicalSlug: account.slug, ServiceName: service, AmiId: seeded.amis[ami], DeployId: id, DeployConfig: config });

  await request(v1, `${service}-v1`, FAST);
  const first = await t.observer.outcome(v1, 90_000);
  if (first.detailType !== 'DeployCompleted') problems.push(`v1 deploy ended ${first.detailType}`);
  const before = await serviceShape(service, account.listenerArn, priority, seeded.launchTemplateId);

  let watch: Watch;
  let outcome: string | undefined;
  if (!scenario.cancel) {
    watch = injector.watch(key, { deployIds: [v2], crashAt });
    await request(v2, `${service}-v2`, DEPLOY_CONFIG);
    outcome = (await t.observer.outcome(v2, 90_000).catch((e: Error) => (problems.push(e.message), undefined)))?.detailType;
  } else {
    await request(v2, `${service}-v2`, CANCEL_CONFIG);
    await t.observer.waitFor((e) => e.detail.DeployId === v2 && e.detailType === 'TrafficShifted', 60_000);
    // Counting starts at the cancel: the rollback's calls are what the crash points name.
    watch = injector.watch(key, { deployIds: [v2], crashAt });
    await t.send('CancelRequested', { AccountCanonicalSlug: account.slug, ServiceName: service });
    outcome = (await t.observer.outcome(v2, 90_000).catch((e: Error) => (problems.push(e.message), undefined)))?.detailType;
  }
  // Stragglers (the audit history of the last events, a crashed call's redelivery) settle first.
  await settled(() => watch.calls.length + (watch.fired ? 1 : 0));
  injector.unwatch(key);

  const expected = scenario.cancel ? 'DeployCancelled' : 'DeployCompleted';
  if (outcome !== expected) problems.push(`outcome ${outcome ?? 'none'}, expected ${expected}`);
  if (crashAt && !watch.fired) problems.push(`the crash point was never reached`);
  const shape = await serviceShape(service, account.listenerArn, priority, seeded.launchTemplateId);
  const check = (what: string, actual: unknown, wanted: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) problems.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
  };
  const newAsg = (outcome === 'DeployCompleted' && (t.observer.of(v2).find((e) => e.detailType === 'DeployCompleted')?.detail.AsgName as string)) || undefined;
  if (scenario.cancel) {
    check('ASGs', shape.asgs, before.asgs);
    check('target groups', shape.targetGroups, before.targetGroups);
    check('live rules', shape.liveRules, [{ priority: String(priority), forwards: [`${before.targetGroups[0]}:100`] }]);
    check('launch template', shape.launchTemplate, { latest: 3, default: 2, versions: 3 });
    // DOMAIN BUG (reported): a restore-traffic retried after it had already moved the rules finds
    // nothing to restore and skips the drain (DrainSeconds 0).
    const drains = t.observer.of(v2).filter((e) => e.detailType === 'TrafficRestored').map((e) => e.detail.DrainSeconds);
    if (!drains.length || drains.some((d) => d !== 1)) problems.push(`TrafficRestored drain seconds ${JSON.stringify(drains)}, expected the drain period (1 s) every time`);
    // DOMAIN BUG (reported): a CancelRequested redelivered once the rollback has moved on is taken
    // for a new cancel and restarts the rollback (see cancel-redelivery.test.ts).
    const rollbacks = new Set(t.observer.of(v2).filter((e) => e.detailType === 'RollbackStarted').map((e) => e.detail.Seq));
    if (rollbacks.size !== 1) problems.push(`the rollback started ${rollbacks.size} times (RollbackStarted at Seq ${[...rollbacks].join(', ')})`);
  } else {
    check('ASGs', shape.asgs.map((g) => g.name), [newAsg]);
    check('launch template', shape.launchTemplate, { latest: 3, default: 3, versions: 3 });
    if (scenario.web) {
      check('target groups', shape.targetGroups.length, 1);
      check('the ASG\'s target groups', shape.asgs[0]?.targetGroups, shape.targetGroups);
      check('live rules', shape.liveRules, [{ priority: String(priority), forwards: [`${shape.targetGroups[0]}:100`] }]);
    } else {
      check('target groups', shape.targetGroups, []);
    }
  }
  if (scenario.web) check('exemplar rules', shape.exemplarRules, 1);
  return { service, crashAt, fired: watch.fired, outcome, calls: watch.calls, unclassified: watch.unclassified, shape, problems, seconds: Math.round((Date.now() - t0) / 100) / 10 };
}

/** Runs `points` (or one recording run when empty), at most BATCH services at a time, each batch in a fresh account with a listener sampler. */
async function runAll(scenario: Scenario, prefix: string, points: (CrashPoint | undefined)[]): Promise<RunResult[]> {
  // E.g. 37 runs at most 13 at a time: 3 batches of 13, 13 and 11.
  const size = Math.ceil(points.length / Math.ceil(points.length / BATCH));
  return inBatches(points, size, async (batch, b) => {
    const account = await freshAccount();
    const services = batch.map((_, i) => `${prefix}${b}x${i}`);
    const priorityOf = new Map(services.map((s, i) => [10 + i * 2, s]));
    const sampler = new TrafficSampler(account.listenerArn, services, (p) => priorityOf.get(p % 40000)).start();
    const results = await Promise.all(
      batch.map((point, i) =>
        runService(account, services[i]!, 10 + i * 2, scenario, point).catch(
          (err: Error): RunResult => ({ service: services[i]!, crashAt: point, calls: [], unclassified: [], problems: [`run failed: ${err.message}`], seconds: 0 }),
        ),
      ),
    );
    await sampler.stop();
    samples += sampler.samples;
    for (const r of results) {
      r.forwardsSeen = [...(sampler.weightsSeen.get(r.service) ?? [])];
      for (const v of sampler.violations.filter((x) => x.service === r.service || x.service === '?')) r.problems.push(`listener: rule ${v.priority} ${v.problem}`);
      if ((sampler.maxAsgs.get(r.service) ?? 0) > 2) r.problems.push(`${sampler.maxAsgs.get(r.service)} deploy ASGs at once`);
      if ((sampler.maxTargetGroups.get(r.service) ?? 0) > (scenario.web ? 2 : 0)) r.problems.push(`${sampler.maxTargetGroups.get(r.service)} target groups at once`);
    }
    const leftovers = await findLeftovers(t.local.install, listeners);
    if (leftovers.length) for (const r of results) r.problems.push(`leftovers after batch ${b}: ${leftovers.join('; ')}`);
    await cleanUp(account, services);
    return results;
  });
}

/**
 * Undeploys the batch's services (Deployomat's own way, unwatched) and deletes their template ASGs,
 * keeping the emulator small: it answers DescribeAutoScalingGroups 50 groups a page, and
 * findLeftovers reads only the first page.
 */
async function cleanUp(account: SeededAccount, services: string[]) {
  const ids = await Promise.all(services.map((s) => t.send('UndeployRequested', { AccountCanonicalSlug: account.slug, ServiceName: s })));
  await Promise.all(ids.map((id) => t.observer.undeployOutcome(id, 60_000)));
  const { autoscaling } = await workloadClients();
  for (const s of services) await autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: `${s}-template`, ForceDelete: true }));
  // And their ledger and history items: moto copies the whole table on every TransactWriteItems.
  await new Promise((r) => setTimeout(r, 1000));
  const { dynamo } = controlPlaneClients();
  const table = t.local.install.tableName;
  for (const s of services) {
    const items = (await dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${account.slug}#${s}` } }))).Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      const RequestItems = { [table]: items.slice(i, i + 25).map((it) => ({ DeleteRequest: { Key: { pk: it.pk, sk: it.sk } } })) };
      await dynamo.send(new BatchWriteCommand({ RequestItems }));
    }
  }
}

const label = (p: CrashPoint) => `${p.handler} ${p.operation} #${p.occurrence}`;

/** `handler operation` → how many calls, e.g. `start-deploy CreateAutoScalingGroup: 1`. */
function tally(calls: MutatingCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[`${c.handler} ${c.operation}`] = (out[`${c.handler} ${c.operation}`] ?? 0) + 1;
  return out;
}

function report(name: string, recording: RunResult, runs: RunResult[], seconds: number) {
  const failed = runs.filter((r) => r.problems.length);
  summary[name] = {
    mutatingCalls: recording.calls.length,
    byHandlerAndOperation: tally(recording.calls),
    recordedCalls: recording.calls.map((c) => `${label(c)}${c.detailType ? ` (${c.detailType})` : ''}${c.error ? ` [${c.error}]` : ''}`),
    crashRuns: runs.length,
    crashesFired: runs.filter((r) => r.fired).length,
    rerunBecauseUnreached: runs.filter((r) => r.rerun).map((r) => label(r.crashAt!)),
    failedRuns: failed.map((r) => ({ crashAt: r.crashAt && label(r.crashAt), service: r.service, problems: r.problems })),
    runSeconds: runs.map((r) => r.seconds),
    seconds,
  };
  console.log(
    `[crash] ${name}: ${recording.calls.length} mutating calls recorded, ${runs.length} crash runs (${runs.filter((r) => r.fired).length} crashes fired), ` +
      `${failed.length} failed, ${seconds} s\n  ${Object.entries(tally(recording.calls)).map(([k, v]) => `${k}: ${v}`).join('\n  ')}`,
  );
}

/** Crash points of a recording: every call the scenario lets crash. */
const pointsOf = (scenario: Scenario, recording: RunResult): CrashPoint[] =>
  recording.calls.filter(scenario.crashable).map((c) => ({ handler: c.handler, operation: c.operation, occurrence: c.occurrence }));

/** Defines the suite of one scenario (one per test file: each gets its own emulator). */
/**
 * `consistency`: the emulator's reads lag behind writes (moto_server.py "p."). `every`: crash
 * after every `every`-th call point only (the suite's time budget); 1 = all.
 */
export function crashSuite(key: ScenarioKey, prefix: string, opts: { consistency?: ConsistencyOptions; every?: number } = {}): void {
  const scenario = scenarios[key];
  if (opts.consistency) assumeReadLag(opts.consistency.maxLagMs);
  let recording: RunResult;
  const started = Date.now();

  beforeAll(async () => {
    t = await startTestDeployomat({
      slug: `crash-${prefix}0`,
      // One invocation per record, in the injector's context; 4 instances per handler, as concurrent Lambdas.
      runtime: { crashes: injector, concurrency: 4 },
      env: { DEPLOYOMAT_RETRY_BASE_SECONDS: '1' },
      consistency: opts.consistency,
    });
    slugPrefix = `crash-${prefix}`;
    listeners.push(t.account.listenerArn);
  });
  afterAll(async () => {
    await t?.stop();
    summary.totalSeconds = Math.round((Date.now() - started) / 1000);
    summary.listenerSamples = samples;
    mkdirSync(new URL('./.results/', import.meta.url), { recursive: true });
    writeFileSync(new URL(`./.results/crash-${key}${opts.consistency ? '-lag' : ''}.json`, import.meta.url), `${JSON.stringify(summary, null, 2)}\n`);
  });

  describe(`Crash after every mutating call: ${scenario.name}${opts.consistency ? ', reads lagging' : ''} (emulator)`, () => {
    it(`records the mutating calls of a ${scenario.name}`, async () => {
      recording = (await runAll(scenario, `${prefix}r`, [undefined]))[0]!;
      expect(recording.problems).toEqual([]);
      expect(recording.unclassified).toEqual([]);
      expect(pointsOf(scenario, recording).length).toBeGreaterThan(scenario.cancel ? 5 : 10);
      // The sampler does see the rollout's intermediate states (a rule split over two groups).
      if (scenario.web) expect(recording.forwardsSeen?.some((f) => f.includes(',')), JSON.stringify(recording.forwardsSeen)).toBe(true);
    }, 120_000);

    it(`converges after a crash right after each of them (${scenario.name})`, async () => {
      expect(recording, 'the recording run failed').toBeDefined();
      const t0 = Date.now();
      const every = Math.max(1, opts.every ?? 1);
      const points = pointsOf(scenario, recording).filter((_, i) => i % every === 0).slice(0, LIMIT);
      const runs = await runAll(scenario, prefix, points);
      // A run whose crash point was never reached took another path for timing reasons (a timer
      // published at once because its step ran late): run those once more.
      const unreached = runs.map((r, i) => [r, i] as const).filter(([r]) => r.crashAt && !r.fired);
      const again = await runAll(scenario, `${prefix}a`, unreached.map(([r]) => r.crashAt));
      unreached.forEach(([, i], j) => (runs[i] = { ...again[j]!, problems: [...again[j]!.problems], rerun: true }));
      report(scenario.name, recording, runs, Math.round((Date.now() - t0) / 1000));

      expect(runs.filter((r) => r.fired).length, 'every crash point was reached').toBe(points.length);
      expect(runs.flatMap((r) => r.unclassified)).toEqual([]);
      expect(Object.fromEntries(runs.filter((r) => r.problems.length).map((r) => [label(r.crashAt!), r.problems]))).toEqual({});
    }, 600_000);
  });
}
