import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeftovers } from '../../infra/local/leftovers';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../infra/local/runtime';
import { seedAccount, seedService, type SeededAccount, type SeededService } from '../../infra/local/seed';
import type { ObservedEvent } from '../../infra/local/observer';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { serviceShape, TrafficSampler } from './harness';

/**
 * Standard SQS queues promise neither order nor single delivery. Here every handler gets its
 * records shuffled, each after a random delay (and concurrently, up to 4 invocations per
 * handler), once also with every record delivered twice (runtime `reorder` / `deliverTwice`
 * shims). Deploys, a cancel and undeploys must end exactly as with orderly delivery: the right
 * group at 100 %, nothing left over. The listener is sampled all along: weights always sum to
 * 100 and never point at a missing target group.
 *
 * The seeds are fixed (override with DEPLOYOMAT_REORDER_SEED) so an order that fails can be
 * replayed; concurrency still makes each run's interleaving a little different.
 */
const SEED = Number(process.env.DEPLOYOMAT_REORDER_SEED ?? 20261126);
const MAX_DELAY_MS = 1500;

// Short long polls: each variant's runtime is stopped on a live emulator, which waits them out.
const POLL = { waitTimeSeconds: 1 };
const variants: { name: string; runtime: RuntimeOptions }[] = [
  { name: `reordered and delayed (seed ${SEED}, ≤ ${MAX_DELAY_MS} ms)`, runtime: { ...POLL, reorder: { maxDelayMs: MAX_DELAY_MS, seed: SEED } } },
  {
    name: `reordered, delayed and delivered twice (seed ${SEED + 1}, ≤ ${MAX_DELAY_MS} ms)`,
    runtime: { ...POLL, reorder: { maxDelayMs: MAX_DELAY_MS, seed: SEED + 1 }, deliverTwice: true },
  },
];

// One emulator for the file (the handlers' SDK clients are created once per process and keep its
// endpoint); each variant gets its own runtime and its own workload account.
let t: TestDeployomat;
let runtime: Runtime;
const listeners: string[] = [];

beforeAll(async () => {
  t = await startTestDeployomat({ slug: 'acme-order-0', runtime: variants[0]!.runtime });
  runtime = t.local.runtime;
});
afterAll(async () => {
  await runtime?.stop();
  await t?.stop();
});

describe.each(variants.map((v, i) => ({ ...v, i })))('Delivery $name (emulator)', ({ runtime: options, i }) => {
  let account: SeededAccount;
  let web: SeededService;
  let worker: SeededService;
  let sampler: TrafficSampler;
  const slug = `acme-order-${i}`;
  const WEB_PRIORITY = 10;
  // Service names are unique across variants: both accounts are the same emulated workload account.
  const WEB = `web${i}`;
  const WORKER = `worker${i}`;

  beforeAll(async () => {
    if (i === 0) account = t.account;
    else {
      await runtime.stop();
      runtime = await startRuntime(t.local.install, options);
      account = await seedAccount({ slug });
    }
    listeners.push(account.listenerArn);
    web = await seedService(account, { service: WEB, web: true, priority: WEB_PRIORITY, amis: ['web-v1', 'web-v2', 'web-v3'] });
    worker = await seedService(account, { service: WORKER, web: false, amis: ['worker-v1', 'worker-v2'] });
    sampler = new TrafficSampler(account.listenerArn, [WEB], (p) => (p % 40000 === WEB_PRIORITY ? WEB : undefined)).start();
  });
  afterAll(async () => {
    await sampler?.stop();
  });

  const deploy = async (service: string, deployId: string, amiId: string, config: Record<string, unknown> = FAST) => {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: amiId, DeployId: deployId, DeployConfig: config });
  };
  const webShape = () => serviceShape(WEB, account.listenerArn, WEB_PRIORITY, web.launchTemplateId);
  const leftovers = () => findLeftovers(t.local.install, listeners);

  let workerDeploys: Promise<ObservedEvent>;

  it('completes a first and a blue/green deploy of a web service, ending at 100 % on the new group', async () => {
    // The non-web service deploys meanwhile (checked in the next test): more records in flight, more overtaking.
    workerDeploys = (async () => {
      await deploy(WORKER, `${slug}-worker-1`, worker.amis['worker-v1']!);
      expect((await t.observer.outcome(`${slug}-worker-1`, 90_000)).detailType).toBe('DeployCompleted');
      await deploy(WORKER, `${slug}-worker-2`, worker.amis['worker-v2']!);
      return t.observer.outcome(`${slug}-worker-2`, 90_000);
    })();
    workerDeploys.catch(() => {}); // awaited (and reported) below and in the next test
    await deploy(WEB, `${slug}-web-1`, web.amis['web-v1']!);
    expect((await t.observer.outcome(`${slug}-web-1`, 90_000)).detailType).toBe('DeployCompleted');
    await deploy(WEB, `${slug}-web-2`, web.amis['web-v2']!);
    const outcome = await t.observer.outcome(`${slug}-web-2`, 90_000);

    expect(outcome.detailType).toBe('DeployCompleted');
    const s = await webShape();
    expect(s.asgs.map((g) => g.name)).toEqual([outcome.detail.AsgName]);
    expect(s.targetGroups).toHaveLength(1);
    expect(s.asgs[0]!.targetGroups).toEqual(s.targetGroups);
    expect(s.liveRules).toEqual([{ priority: String(WEB_PRIORITY), forwards: [`${s.targetGroups[0]}:100`] }]);
    expect(s.launchTemplate).toEqual({ latest: 3, default: 3, versions: 3 });
    const percents = t.observer.of(`${slug}-web-2`).filter((e) => e.detailType === 'TrafficShifted').map((e) => e.detail.Percent);
    expect([...new Set(percents as number[])].sort((a, b) => a - b)).toEqual([50, 100]);
    await workerDeploys;
    expect(await leftovers()).toEqual([]);
  });

  it('completes a first and a blue/green deploy of a non-web service (alongside the web one)', async () => {
    const outcome = await workerDeploys;

    expect(outcome.detailType).toBe('DeployCompleted');
    const s = await serviceShape(WORKER, account.listenerArn, 0, worker.launchTemplateId);
    expect(s.asgs.map((g) => g.name)).toEqual([outcome.detail.AsgName]);
    expect(s.targetGroups).toEqual([]);
    expect(s.launchTemplate).toEqual({ latest: 3, default: 3, versions: 3 });
    expect(await leftovers()).toEqual([]);
  });

  it('cancels mid-shift: production back at 100 %, the new group gone', async () => {
    const before = await webShape();
    await deploy(WEB, `${slug}-web-3`, web.amis['web-v3']!, { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 3 });
    await t.observer.waitFor((e) => e.detail.DeployId === `${slug}-web-3` && e.detailType === 'TrafficShifted', 60_000);
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: WEB });
    const outcome = await t.observer.outcome(`${slug}-web-3`, 90_000);

    expect(outcome.detailType).toBe('DeployCancelled');
    const s = await webShape();
    expect(s.asgs).toEqual(before.asgs);
    expect(s.targetGroups).toEqual(before.targetGroups);
    expect(s.liveRules).toEqual([{ priority: String(WEB_PRIORITY), forwards: [`${before.targetGroups[0]}:100`] }]);
    // The cancelled deploy's launch template version stays, but is not the default.
    expect(s.launchTemplate).toMatchObject({ default: 3, versions: 4 });
    expect(t.observer.events.filter((e) => e.detailType === 'CancelRejected')).toEqual([]);
    expect(await leftovers()).toEqual([]);
  });

  it('undeploys both services', async () => {
    const ids = [
      await t.send('UndeployRequested', { AccountCanonicalSlug: slug, ServiceName: WORKER }),
      await t.send('UndeployRequested', { AccountCanonicalSlug: slug, ServiceName: WEB }),
    ];
    for (const id of ids) expect((await t.observer.undeployOutcome(id, 90_000)).detailType).toBe('UndeployCompleted');

    const s = await webShape();
    expect({ asgs: s.asgs, targetGroups: s.targetGroups, liveRules: s.liveRules, exemplarRules: s.exemplarRules }).toEqual({
      asgs: [],
      targetGroups: [],
      liveRules: [],
      exemplarRules: 1,
    });
    expect((await serviceShape(WORKER, account.listenerArn, 0, worker.launchTemplateId)).asgs).toEqual([]);
    expect(await leftovers()).toEqual([]);
  });

  it('really reordered, and never let the listener forward a wrong share or to a missing target group', async () => {
    // The shim did change the order: records were handed over while earlier ones still waited.
    expect(runtime.overtaken).toBeGreaterThan(0);
    console.log(`[delivery ${slug}] seed ${runtime.reorderSeed}: ${runtime.overtaken} records overtook earlier ones; ${sampler.samples} listener samples`);
    await sampler.stop();
    expect(sampler.samples).toBeGreaterThan(20);
    expect(sampler.violations).toEqual([]);
  });
});
