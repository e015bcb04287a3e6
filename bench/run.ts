/**
 * `npm run bench`: Deployomat's benchmarks on the local runtime (emulator), printed as Markdown for
 * docs/BENCHMARKS.md. Sections (each in its own Node process, with its own emulator; see
 * bench/section.ts):
 *  - steps:      lateness of each traffic step vs its due time, SQS-delay path (20 steps, 1 s)
 *  - scheduler:  the same through EventBridge Scheduler (waits > 900 s), with a simulated clock
 *  - e2e:        deploy wall time ÷ lower bound (5 %/1 s, 20 %/1 s, non-web), median of --runs
 *  - api:        AWS SDK calls per deploy by service and operation, vs the original Deployomat
 *  - cold-start: each handler's bundle size and module init time in a fresh Node process
 *  - scale:      N concurrent deploys on one emulator (N = --scale, default 1,10,50)
 * Usage: npm run bench -- [--only steps,e2e,...] [--runs N] [--init-runs N] [--scale 1,10,50]
 *                         [--out report.md] [--json results.json] [--max-load 1.5 [--max-wait 120]]
 * --max-load: before each section, wait (at most --max-wait seconds) until the 1-minute load
 * average is at most this; the report gives the load seen over each section either way.
 * steps, e2e and api share one process and emulator when run together.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { motoVersion } from './harness';
import { apiSection, coldStartSection, e2eSection, header, scaleSection, schedulerSection, stepsSection } from './report';
import type { ChoreographyResult } from './sections/choreography';
import type { ColdStartResult } from './sections/cold-start';
import type { ScaleResult } from './sections/scale';
import type { SchedulerResult } from './sections/scheduler';
import { load1, machineInfo } from './stats';

const SECTIONS = ['steps', 'scheduler', 'e2e', 'api', 'cold-start', 'scale'] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    runs: { type: 'string', default: '5' },
    'init-runs': { type: 'string', default: '10' },
    scale: { type: 'string', default: '1,10,50' },
    out: { type: 'string' },
    json: { type: 'string' },
    'max-load': { type: 'string' },
    'max-wait': { type: 'string', default: '120' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    `usage: npm run bench -- [--only ${SECTIONS.join(',')}] [--runs 5] [--init-runs 10] [--scale 1,10,50] [--out FILE.md] [--json FILE.json] [--max-load 1.5 [--max-wait 120]]`,
  );
  process.exit(0);
}
const only = (values.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...SECTIONS]) as Section[];
const unknown = only.filter((s) => !SECTIONS.includes(s));
if (unknown.length) {
  console.error(`unknown section(s): ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}`);
  process.exit(2);
}
const runs = positive('runs', values.runs!);
const initRuns = positive('init-runs', values['init-runs']!);
const scaleNs = values.scale!.split(',').map((x) => positive('scale', x));
const maxLoad = values['max-load'] === undefined ? undefined : Number(values['max-load']);
if (maxLoad !== undefined && !(maxLoad > 0)) {
  console.error(`--max-load must be a positive number (got ${values['max-load']})`);
  process.exit(2);
}
const maxWait = positive('max-wait', values['max-wait']!);

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive whole number (got ${value})`);
    process.exit(2);
  }
  return n;
}

const SECTION_SCRIPT = fileURLToPath(new URL('./section.ts', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'deployomat-bench-'));

/** Runs one section in a child process (same Node, same tsx loader) and reads its JSON result. */
async function child<T>(section: string, options: object): Promise<T> {
  if (maxLoad !== undefined) await quieter(maxLoad, maxWait);
  const out = join(tmp, `${section}-${Date.now()}.json`);
  const started = Date.now();
  console.error(`[bench] ${section} ${JSON.stringify(options)} …`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, SECTION_SCRIPT, section, out, JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit'] });
    p.once('error', reject);
    p.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`bench section ${section} failed (exit code ${code})`);
  console.error(`[bench] ${section} done in ${Math.round((Date.now() - started) / 1000)} s`);
  return JSON.parse(readFileSync(out, 'utf8')) as T;
}

/** Waits until the 1-minute load average is at most `limit`, for at most `seconds`. */
async function quieter(limit: number, seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (load1() > limit && Date.now() < until) await new Promise((r) => setTimeout(r, 5000));
  if (load1() > limit) console.error(`[bench] load average still ${load1()} after ${seconds} s; going on`);
}

const results: {
  choreography?: ChoreographyResult;
  scheduler?: SchedulerResult;
  coldStart?: ColdStartResult;
  scale: ScaleResult[];
} = { scale: [] };
const started = Date.now();
try {
  const parts = only.filter((s) => s === 'steps' || s === 'e2e' || s === 'api');
  if (parts.length) results.choreography = await child<ChoreographyResult>('choreography', { parts, runs });
  if (only.includes('scheduler')) results.scheduler = await child<SchedulerResult>('scheduler', {});
  if (only.includes('cold-start')) results.coldStart = await child<ColdStartResult>('cold-start', { runs: initRuns });
  if (only.includes('scale')) for (const n of scaleNs) results.scale.push(await child<ScaleResult>('scale', { n }));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const doc: string[] = [header(machineInfo(motoVersion()), new Date().toISOString().slice(0, 10), command), ''];
const ch = results.choreography;
if (ch?.steps || results.scheduler) {
  doc.push('### 1. Traffic step lateness', '');
  if (ch?.steps) doc.push(stepsSection(ch), '');
  if (results.scheduler) doc.push(schedulerSection(results.scheduler), '');
}
if (ch?.e2e.length) doc.push('### 2. End-to-end: wall time ÷ lower bound', '', e2eSection(ch), '');
if (ch?.api.length) doc.push('### 3. AWS API calls per deploy', '', apiSection(ch), '');
if (results.coldStart) doc.push('### 4. Lambda cold start: bundle size and module init', '', coldStartSection(results.coldStart), '');
if (results.scale.length) doc.push('### 5. Scale: concurrent deploys', '', scaleSection(results.scale), '');
doc.push(`(The whole run took ${Math.round((Date.now() - started) / 1000)} s.)`);
const markdown = doc.join('\n');
console.log(markdown);
if (values.out) writeFileSync(values.out, `${markdown}\n`);
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
process.exit(0);
