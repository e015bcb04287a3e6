/**
 * `npm run bench`: timing of the choreography on the local runtime (emulator), printed as a
 * Markdown table for docs/BENCHMARKS.md.
 *  - step lateness: for each traffic step after the first, when its TrafficShifted event was
 *    observed minus when the step was due (TrafficShiftDue.DueAt). Includes the observer's own
 *    delivery latency, so it is an upper bound.
 *  - wall time ÷ lower bound per configuration, lower bound = health time + (steps − 1) ×
 *    WaitPerStep + BakeTime (health time is 0 here: the emulator reports targets healthy at once).
 * Usage: npm run bench -- [--runs N]
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { CLIENT_SOURCE } from '../events/client';
import { startEmulator } from '../infra/local/emulator';
import { startLocal } from '../infra/local/local-env';
import { Observer } from '../infra/local/observer';
import { META_ROLE_ARN, seedAccount, seedService } from '../infra/local/seed';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const median = (xs: number[]) => percentile(xs, 50);

const emulator = await startEmulator();
const local = await startLocal({ endpoint: emulator.endpoint, env: { DEPLOYOMAT_META_ROLE_ARN: META_ROLE_ARN, DEPLOYOMAT_HEALTH_CHECK_INTERVAL: '1' } });
const observer = await Observer.start(local.install.busName);
const events = new EventBridgeClient({});
try {
  const account = await seedAccount({ slug: 'bench' });
  const web = await seedService(account, { service: 'web', web: true, amis: ['web-a', 'web-b'] });
  const worker = await seedService(account, { service: 'worker', web: false, amis: ['worker-a', 'worker-b'] });
  let n = 0;
  const deploy = async (service: string, amiId: string, config: Record<string, number | undefined>) => {
    const id = `bench-${++n}`;
    const t0 = Date.now();
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: local.install.busName,
            Source: CLIENT_SOURCE,
            DetailType: 'DeployRequested',
            Detail: JSON.stringify({ AccountCanonicalSlug: 'bench', ServiceName: service, AmiId: amiId, DeployId: id, DeployConfig: config }),
          },
        ],
      }),
    );
    const outcome = await observer.outcome(id, 300_000);
    if (outcome.detailType !== 'DeployCompleted') throw new Error(`${id} ended ${outcome.detailType}: ${JSON.stringify(outcome.detail)}`);
    return { id, wall: (Date.now() - t0) / 1000 };
  };
  // First deploys, so the measured ones are blue/green.
  await deploy('web', web.amis['web-a']!, { BakeTime: 0 });
  await deploy('worker', worker.amis['worker-a']!, { BakeTime: 0 });

  const configs = [
    { name: 'web, 5 %/step, WaitPerStep 1 s, BakeTime 1 s', service: 'web', config: { TrafficShiftPerStep: 5, WaitPerStep: 1, BakeTime: 1 } },
    { name: 'web, 20 %/step, WaitPerStep 1 s, BakeTime 1 s', service: 'web', config: { TrafficShiftPerStep: 20, WaitPerStep: 1, BakeTime: 1 } },
    { name: 'non-web, BakeTime 1 s', service: 'worker', config: { BakeTime: 1 } },
  ];
  const lateness: number[] = [];
  const rows: string[] = [];
  for (const c of configs) {
    const ratios: number[] = [];
    const walls: number[] = [];
    const steps = c.service === 'web' ? Math.ceil(100 / c.config.TrafficShiftPerStep!) : 1;
    const lowerBound = (steps - 1) * (c.config.WaitPerStep ?? 0) + c.config.BakeTime;
    for (let i = 0; i < RUNS; i++) {
      const ami = (c.service === 'web' ? web : worker).amis[`${c.service}-${i % 2 ? 'a' : 'b'}`]!;
      const { id, wall } = await deploy(c.service, ami, c.config);
      walls.push(wall);
      ratios.push(wall / lowerBound);
      if (c.config.TrafficShiftPerStep === 5) {
        const due = new Map(observer.of(id).filter((e) => e.detailType === 'TrafficShiftDue').map((e) => [e.detail.Step, Date.parse(String(e.detail.DueAt))]));
        for (const e of observer.of(id).filter((x) => x.detailType === 'TrafficShifted' && (x.detail.Step as number) > 1)) {
          const d = due.get(e.detail.Step);
          if (d) lateness.push(e.receivedAt - d);
        }
      }
    }
    rows.push(`| ${c.name} | ${RUNS} | ${lowerBound} s | ${median(walls).toFixed(1)} s | ${median(ratios).toFixed(2)} | ${Math.max(...ratios).toFixed(2)} |`);
  }

  console.log(`\nMachine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, emulator moto (local runtime, in-process handlers)\n`);
  console.log('### End-to-end: wall time ÷ lower bound (put-events → DeployCompleted observed)\n');
  console.log('| configuration | runs | lower bound | median wall | median ratio | worst ratio |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`\n### Traffic step lateness (20 steps, WaitPerStep 1 s; ${lateness.length} steps)\n`);
  console.log('| median | p95 | max |');
  console.log('|---|---|---|');
  console.log(`| ${median(lateness)} ms | ${percentile(lateness, 95)} ms | ${Math.max(...lateness)} ms |`);
} finally {
  await observer.stop();
  await local.stop();
  await emulator.stop();
}
process.exit(0);
