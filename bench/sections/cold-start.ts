/**
 * Section `cold-start`: each handler of events/topology.ts bundled as the CDK stack bundles it
 * (infra/cdk/deployomat.ts: NodejsFunction with minify, target node20, format cjs, mainFields
 * module,main, the AWS SDK bundled, no externals; the same esbuild options through its API), then
 * loaded by fresh Node processes.
 *
 * Per handler and run, a tiny CommonJS loader reads performance.now() (ms since the process
 * started), requires the bundle, reads it again and prints both: `require` is the module's own
 * init (parse, compile, top-level code), `ready` is process start → handler ready. The same loader
 * without a bundle gives the baseline (Node's own start). It also prints process.cpuUsage() (user
 * + system, all of Node's threads) at that point: CPU time is what other load on the machine
 * disturbs least. Runs are interleaved across handlers.
 */
import { build, version as esbuildVersion } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { handlers } from '../../events/topology';
import { LoadSampler, median, type LoadReading } from '../stats';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface HandlerColdStart {
  name: string;
  feature?: string;
  bytes: number;
  /** The bundle deflated, as it is stored in the deployment zip. */
  zippedBytes: number;
  /** Medians over the runs (ms). */
  requireMs: number;
  readyMs: number;
  /** readyMs − the baseline's readyMs. */
  initMs: number;
  /** CPU time (user + system, all threads) to handler ready − the baseline's: less sensitive to other load than wall time. */
  initCpuMs: number;
  /** Whole process (spawn → exit) − the baseline's (ms). */
  processMs: number;
}

export interface ColdStartResult {
  load: LoadReading;
  runs: number;
  esbuild: string;
  baseline: { readyMs: number; cpuMs: number; processMs: number };
  handlers: HandlerColdStart[];
}

const LOADER = `'use strict';
const t0 = performance.now();
const m = process.argv[2] ? require(process.argv[2]) : { handler() {} };
const t1 = performance.now();
if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(3); }
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ require: t1 - t0, ready: t1, cpu: (cpu.user + cpu.system) / 1000 }));
`;

/** What a Lambda function gets (infra/cdk: every DEPLOYOMAT_* variable), with placeholder values. */
const LAMBDA_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'deployomat-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  POWERTOOLS_SERVICE_NAME: 'deployomat',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  DEPLOYOMAT_BUS_NAME: 'deployomat',
  DEPLOYOMAT_BUS_ARN: 'arn:aws:events:us-east-1:123456789012:event-bus/deployomat',
  DEPLOYOMAT_TABLE_NAME: 'deployomat',
  DEPLOYOMAT_TIMER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/deployomat-relay-timer',
  DEPLOYOMAT_SCHEDULE_GROUP: 'deployomat',
  DEPLOYOMAT_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/deployomat-scheduler',
  DEPLOYOMAT_SLACK_CHANNEL: 'C0123456789',
};

export async function runColdStart(runs: number): Promise<ColdStartResult> {
  const load = new LoadSampler();
  const dir = mkdtempSync(join(tmpdir(), 'deployomat-bench-'));
  try {
    const loader = join(dir, 'loader.cjs');
    writeFileSync(loader, LOADER);
    const bundles: { name: string; feature?: string; file: string }[] = [];
    for (const spec of handlers) {
      const file = join(dir, spec.name, 'index.js');
      await build({
        entryPoints: [join(REPO, spec.entry)],
        bundle: true,
        minify: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        mainFields: ['module', 'main'],
        outfile: file,
        logLevel: 'error',
        absWorkingDir: REPO,
      });
      bundles.push({ name: spec.name, feature: spec.feature, file });
    }
    const once = (file?: string) => {
      const t0 = performance.now();
      const p = spawnSync(process.execPath, file ? [loader, file] : [loader], { env: LAMBDA_ENV, encoding: 'utf8' });
      const processMs = performance.now() - t0;
      if (p.status !== 0) throw new Error(`loading ${file ?? 'nothing'} failed (${p.status}): ${p.stderr}`);
      const out = JSON.parse(p.stdout) as { require: number; ready: number; cpu: number };
      return { ...out, processMs };
    };
    once(); // warm the file cache
    const samples = new Map<string, { require: number; ready: number; cpu: number; processMs: number }[]>();
    for (let r = 0; r < runs; r++) {
      for (const b of [{ name: '(baseline)', file: undefined }, ...bundles]) {
        const list = samples.get(b.name) ?? [];
        list.push(once(b.file));
        samples.set(b.name, list);
      }
    }
    const base = samples.get('(baseline)')!;
    const baseline = { readyMs: median(base.map((s) => s.ready)), cpuMs: median(base.map((s) => s.cpu)), processMs: median(base.map((s) => s.processMs)) };
    const out: HandlerColdStart[] = bundles.map((b) => {
      const s = samples.get(b.name)!;
      const bytes = statSync(b.file).size;
      const readyMs = median(s.map((x) => x.ready));
      return {
        name: b.name,
        feature: b.feature,
        bytes,
        zippedBytes: deflateRawSync(readFileSync(b.file)).length,
        requireMs: median(s.map((x) => x.require)),
        readyMs,
        initMs: readyMs - baseline.readyMs,
        initCpuMs: median(s.map((x) => x.cpu)) - baseline.cpuMs,
        processMs: median(s.map((x) => x.processMs)) - baseline.processMs,
      };
    });
    return { load: load.stop(), runs, esbuild: esbuildVersion, baseline, handlers: out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
