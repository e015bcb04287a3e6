/**
 * Renders the sections' results as Markdown for docs/BENCHMARKS.md. Every table says how it was
 * measured and the load average around it (other jobs may share this 2-core machine: above 1.5 the
 * figures are pessimistic).
 */
import { originalSteps, originalTotals, type OriginalShape } from './original';
import type { CallCounts, ChoreographyResult } from './sections/choreography';
import type { ColdStartResult } from './sections/cold-start';
import type { ScaleResult, Window } from './sections/scale';
import { SCALE_CONFIG, SCALE_LOWER_BOUND } from './sections/scale';
import { AWS_LEAD_SECONDS, BENCH_LEAD_SECONDS, modelAws, type SchedulerResult } from './sections/scheduler';
import { median, summarize, type LoadReading, type MachineInfo } from './stats';

const PESSIMISTIC = 1.5;

export function loadLine(load: LoadReading): string {
  const high = load.max > PESSIMISTIC;
  return (
    `Load average (1 min) over this section: ${load.start} at the start, ${load.end} at the end, ${load.max} at most` +
    (high ? ` — above ${PESSIMISTIC} on 2 cores: other jobs were running, so these figures are **pessimistic**.` : '.')
  );
}

export function header(machine: MachineInfo, date: string, command: string): string {
  return [
    `Measured with \`${command}\` on ${date}: ${machine.cpus} × ${machine.model}, ${machine.memoryGiB} GiB, Linux ${machine.kernel},`,
    `Node ${machine.node}, moto ${machine.moto} with Deployomat's emulator patches (\`infra/local/emulator/moto_server.py\`),`,
    'handlers run in-process by the local runtime (`infra/local/runtime.ts`). Targets report healthy at once',
    'in the emulator, so the health part of every lower bound is 0 s.',
  ].join('\n');
}

const f0 = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const rule = (n: number) => `|${'---|'.repeat(n)}`;

function summaryRow(name: string, xs: number[], unit = 'ms', fmt = f0): string {
  const s = summarize(xs);
  return row([name, `${fmt(s.median)} ${unit}`, `${fmt(s.p95)} ${unit}`, `${fmt(s.max)} ${unit}`, `${fmt(s.min)} ${unit}`]);
}

export function stepsSection(ch: ChoreographyResult): string {
  const t = ch.steps!;
  return [
    `#### SQS delays (waits ≤ 900 s): 20 steps, TrafficShiftPerStep 5, WaitPerStep 1 s — ${t.deploys} deploys, ${t.lateness.length} steps`,
    '',
    'Per traffic step after the first. Lateness = when the step\'s `TrafficShifted` reached a subscriber queue',
    '(infra/local/observer.ts) − the step\'s due time (`TrafficShiftDue.DueAt`). It is split with the SDK call log',
    '(the end of the `PutEvents` calls that published each event).',
    '',
    row(['', 'median', 'p95', 'max', 'min']),
    rule(5),
    summaryRow('**lateness** (TrafficShifted seen − DueAt)', t.lateness),
    summaryRow('= relay: relay-timer\'s PutEvents(TrafficShiftDue) done − DueAt', t.relay),
    summaryRow('+ step: shift-traffic\'s PutEvents(TrafficShifted) done − relay\'s', t.step),
    summaryRow('+ subscriber: seen − shift-traffic\'s PutEvents done', t.observe),
    '',
    loadLine(ch.load),
  ].join('\n');
}

export function schedulerSection(r: SchedulerResult): string {
  const s = r.steps;
  const lead = s.map((x) => x.due - x.at);
  const clock = s.map((x) => x.handed - x.at);
  const relay = s.map((x) => x.published - x.due);
  const delivery = s.map((x) => x.observed - x.published);
  const late = s.map((x) => x.observed - x.due);
  const model = (reading: 'minute' | 'after', leadSeconds: number) => modelAws(s, reading, leadSeconds * 1000);
  return [
    `#### EventBridge Scheduler (waits > 900 s): 20 steps, TrafficShiftPerStep 5, WaitPerStep ${r.config.WaitPerStep} s, simulated clock — ${s.length} steps`,
    '',
    "One deploy; each step's timer is a one-time schedule `at(yyyy-mm-ddThh:mm:ss)` created by `emit()` (domain/emit.ts)",
    'a lead time before the due time, whose target is the timer queue: the timer message carries the exact',
    '`DueAt`, and the relay (`relay-timer`) sends it back to the queue with `DelaySeconds` for what is left,',
    'then waits out the last fraction. The local runtime fires schedules itself (its "Scheduler clock":',
    'every 1 s it lists the group, gets each schedule and sends those whose `at()` time has passed); it has',
    'no clock option, so the bench replaces `Date` in its own process (bench/clock.ts): when a step creates',
    'its schedule, simulated time jumps to 1.5 s before the `at()` time and runs on in real time. SQS delays',
    `keep real time, so the lead is ${BENCH_LEAD_SECONDS} s here (\`DEPLOYOMAT_SCHEDULER_LEAD_SECONDS\`) instead of ${AWS_LEAD_SECONDS} s. The deploy took`,
    `${f0(r.simulatedSeconds)} s of simulated time (lower bound ${r.lowerBound} s) in ${f0(r.realSeconds)} s of real time.`,
    '',
    row(['', 'median', 'p95', 'max', 'min']),
    rule(5),
    summaryRow('lead: DueAt − `at()` time (whole seconds)', lead),
    summaryRow('local clock: handed to the queue − `at()` time (1 s polling)', clock),
    summaryRow('relay: published − DueAt (SQS delay + fraction)', relay),
    summaryRow('delivery: TrafficShifted seen − published', delivery),
    summaryRow('**lateness, local runtime**', late),
    summaryRow(`modelled AWS, lead ${AWS_LEAD_SECONDS} s, invoked anywhere in the \`at()\` minute`, model('minute', AWS_LEAD_SECONDS)),
    summaryRow(`modelled AWS, lead ${AWS_LEAD_SECONDS} s, invoked within 60 s after \`at()\``, model('after', AWS_LEAD_SECONDS)),
    summaryRow('modelled AWS, no lead (the event itself as target), anywhere in the minute', model('minute', 0)),
    summaryRow('modelled AWS, no lead (the event itself as target), within 60 s after', model('after', 0)),
    '',
    'AWS documents: "All schedule types on EventBridge Scheduler invoke their targets with 60 second',
    'precision. This means that if you set your schedule to run at 1:00, it will invoke the target API',
    'between 1:00:00 and 1:00:59, assuming that a flexible time window is not set"',
    '([Schedule types on EventBridge Scheduler](https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html)).',
    'It does not say what becomes of the seconds of an `at()` expression, so both readings are modelled:',
    'the invocation drawn uniformly over the 60 s window (2000 draws per measured step, fixed seed). An',
    'invocation more than 1 s before the due time reaches the timer queue, which holds the event until',
    "due: that draw's lateness is the step's measured lateness. A later one is published at once",
    "(invocation − due + the step's measured delivery) — what every step got when the schedule targeted the",
    'bus directly with `at()` = due (the "no lead" rows).',
    '',
    `Scheduler calls of the deploy: by Deployomat ${callList(r.deployomatCalls)} (one schedule per step and one for`,
    `the deadline watchdog); by the local Scheduler clock (in AWS, Scheduler's own work) ${callList(r.clockCalls)}.`,
    '',
    loadLine(r.load),
  ].join('\n');
}

const callList = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

export function e2eSection(ch: ChoreographyResult): string {
  return [
    'Wall time = from just before `PutEvents(DeployRequested)` to the `DeployCompleted` event reaching a',
    'subscriber queue. Lower bound = health time (0 here) + (steps − 1) × WaitPerStep + BakeTime. Each run',
    'is a blue/green re-deploy (the first deploy of each service is not counted), AMIs alternating.',
    '',
    row(['configuration', 'runs', 'lower bound', 'median wall', 'median ratio', 'best', 'worst']),
    rule(7),
    ...ch.e2e.map((r) =>
      row([r.name, r.runs, `${r.lowerBound} s`, `${f1(median(r.walls))} s`, f2(median(r.ratios)), f2(Math.min(...r.ratios)), f2(Math.max(...r.ratios))]),
    ),
    '',
    loadLine(ch.load),
  ].join('\n');
}

/** The original's deploy of the same shape as one of ours. */
function shapeOf(c: CallCounts): OriginalShape {
  const first = c.label.startsWith('first');
  const web = c.label.includes('web') && !c.label.includes('non-web');
  const per = Number(c.config.TrafficShiftPerStep ?? 5);
  return { web, first, steps: Math.ceil(100 / per), healthPolls: 1, listeners: 1, rules: 1, policies: 1, bakeTime: Number(c.config.BakeTime ?? 60) };
}

function total(m: Record<string, Record<string, number>>): number {
  return Object.values(m).reduce((n, ops) => n + Object.values(ops).reduce((a, b) => a + b, 0), 0);
}

function opsOf(m: Record<string, Record<string, number>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [svc, ops] of Object.entries(m)) for (const [op, n] of Object.entries(ops)) out.set(`${svc} ${op}`, n);
  return out;
}

export function apiSection(ch: ChoreographyResult): string {
  const kinds = ch.api;
  const find = (prefix: string) => kinds.find((k) => k.label.startsWith(prefix));
  const shown = [find('first deploy, web'), find('blue/green, web, 5 %'), find('blue/green, non-web')].filter((k): k is CallCounts => !!k);
  const ours = shown.map((k) => opsOf(k.byCaller.deployomat));
  const orig = shown.map((k) => opsOf(originalTotals(shapeOf(k)).calls));
  const keys = [...new Set([...ours, ...orig].flatMap((m) => [...m.keys()]))].sort();
  const out: string[] = [];
  out.push(
    'Every SDK call made in the bench process from the deploy request until Deployomat had been quiet for',
    '1.5 s, counted by patching smithy\'s `Client.prototype.send` (bench/sdk-calls.ts; every SDK v3 client,',
    'DynamoDB\'s document client included, goes through it), classified by the first stack frame outside the SDK:',
    'Deployomat (handlers, domain, and the libraries they call), the local runtime (SQS pollers, Scheduler',
    'clock: what Lambda\'s event source mapping and Scheduler do in AWS), the subscriber queue, the bench.',
    'One listener, one exemplar rule, one scaling policy on the template, targets healthy at the first look.',
    'The original\'s figures are counted from its source (working below), for the same deploys.',
    '',
    row(['service operation', ...shown.flatMap((k) => [`${k.label.replace(/ \(BakeTime 1 s\)|, BakeTime 1 s|, WaitPerStep 1 s/g, '')}: ours`, 'original'])]),
    rule(1 + shown.length * 2),
  );
  for (const key of keys) out.push(row([key, ...shown.flatMap((_, i) => [ours[i]!.get(key) ?? '', orig[i]!.get(key) ?? ''])]));
  out.push(
    row([
      '**total**',
      ...shown.flatMap((k) => {
        const o = originalTotals(shapeOf(k));
        return [`**${total(k.byCaller.deployomat)}**`, `**${o.total + o.assumeRoleWarm}**`];
      }),
    ]),
  );
  out.push(
    '',
    'The original\'s totals include its two AssumeRole calls (meta and workload role, once per deploy in a',
    'warm container: its cache is per container and deploy id); each invocation landing in a cold container',
    `adds up to two more (all cold: up to ${shown.map((k) => originalTotals(shapeOf(k)).assumeRoleCold).join(' / ')}).`,
    'Ours are measured with every handler in one process, so one credentials cache serves all: in AWS each',
    'handler function that acts on the workload account (start-deploy, check-health, shift-traffic,',
    'finish-deploy) assumes the role once per deploy and warm container, i.e. up to 3 AssumeRole more.',
    '',
    '**Orchestration** (not API calls made by the code): what moves a deploy from step to step.',
    '',
    row(['', ...shown.flatMap((k) => [`${k.label.split(',').slice(0, 2).join(',')}: ours`, 'original'])]),
    rule(1 + shown.length * 2),
  );
  const orch = shown.map((k) => ({ k, o: originalTotals(shapeOf(k)) }));
  out.push(row(['Lambda invocations', ...orch.flatMap(({ k, o }) => [sum(k.invocations), o.lambdaInvocations])]));
  out.push(row(['events published (PutEvents entries) / timers sent (SQS SendMessage)', ...orch.flatMap(({ k }) => [`${k.eventsPublished} / ${k.timersSent}`, '–'])]));
  out.push(row(['SQS messages delivered to handlers (EventBridge rule → queue → poller)', ...orch.flatMap(({ k }) => [k.messagesReceived, '–'])]));
  out.push(row(['Step Functions state transitions / executions', ...orch.flatMap(({ o }) => ['–', `${o.stateTransitions} / ${o.executions}`])]));
  out.push(
    '',
    'Handler invocations per deploy (local runtime, one SQS batch each):',
    '',
    ...shown.map((k) => `- ${k.label}: ${Object.entries(k.invocations).map(([h, n]) => `${h} ${n}`).join(', ')}`),
    '',
    'The local runtime\'s own calls over the same windows (SQS long polls of 1 s on every handler queue, so they',
    'grow with wall time, not with work; the Scheduler clock polls every second):',
    '',
    ...shown.map(
      (k) =>
        `- ${k.label}: ReceiveMessage ${k.receivesWithMessages} with messages (${k.messagesReceived} messages) + ${k.emptyReceives} empty; ` +
        `${callList(flat(k.byCaller.runtime, ['ReceiveMessage']))}; the subscriber queue: ${callList(flat(k.byCaller.observer))}`,
    ),
  );

  // Per traffic step, from the difference between 20 and 5 steps.
  const five = find('blue/green, web, 5 %');
  const twenty = find('blue/green, web, 20 %');
  if (five && twenty) {
    const a = opsOf(five.byCaller.deployomat);
    const b = opsOf(twenty.byCaller.deployomat);
    const per = [...new Set([...a.keys(), ...b.keys()])]
      .map((key) => [key, ((a.get(key) ?? 0) - (b.get(key) ?? 0)) / 15] as const)
      .filter(([, n]) => n !== 0)
      .sort();
    const origStep = originalSteps(shapeOf(five)).find((s) => s.step === 'Rollout')!;
    out.push(
      '',
      '**Per traffic step**: ours = (calls of the 20-step deploy − calls of the 5-step one) ÷ 15; the original\'s =',
      'one `Rollout` invocation (deploy.rb:311-334) with one rule.',
      '',
      row(['ours', 'per step', 'original', 'per step']),
      rule(4),
    );
    const origCalls = origStep.calls.map(([svc, op, n]) => [`${svc} ${op}`, n] as const);
    const merged = new Map<string, number>();
    for (const [k, n] of origCalls) merged.set(k, (merged.get(k) ?? 0) + n);
    const origList = [...merged.entries()];
    for (let i = 0; i < Math.max(per.length, origList.length); i++) {
      out.push(row([per[i]?.[0] ?? '', per[i] ? f2(per[i]![1]) : '', origList[i]?.[0] ?? '', origList[i]?.[1] ?? '']));
    }
    out.push(
      row([
        '**total**',
        `**${f2(per.reduce((n, [, x]) => n + x, 0))}**`,
        '**total** (+ 1 Lambda invocation, 3 state transitions)',
        `**${origList.reduce((n, [, x]) => n + x, 0)}**`,
      ]),
    );
    out.push('', `Ours by step for the 20-step blue/green deploy (\`Service Operation\` × count):`, '');
    for (const [origin, ops] of Object.entries(five.byOrigin).sort()) {
      out.push(`- ${origin}: ${Object.entries(ops).sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
    }
  }
  out.push('', '**The original, counted from its source** (per invocation × invocations; one listener, one rule, one policy):', '');
  const bg = five ?? shown[0]!;
  for (const st of originalSteps(shapeOf(bg))) {
    out.push(`- **${st.step}** × ${st.invocations} (${st.where}): ${st.calls.map(([svc, op, n, where]) => `${svc} ${op}${n !== 1 ? ` ×${n}` : ''} [${where}]`).join('; ')}`);
  }
  out.push('', loadLine(ch.load));
  return out.join('\n');
}

const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

function flat(m: Record<string, Record<string, number>>, except: string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [svc, ops] of Object.entries(m)) for (const [op, n] of Object.entries(ops)) if (!except.includes(op)) out[`${svc} ${op}`] = n;
  return out;
}

export function coldStartSection(r: ColdStartResult): string {
  const kib = (b: number) => `${f0(b / 1024)} KiB`;
  return [
    `Each handler of events/topology.ts bundled with esbuild ${r.esbuild} as infra/cdk/deployomat.ts has NodejsFunction bundle it`,
    '(bundle, minify, platform node, target node20, format cjs, mainFields module,main, the AWS SDK bundled),',
    'through esbuild\'s API. "zipped" = the bundle deflated, as in the deployment zip. Then, per handler,',
    `${r.runs} fresh \`node\` processes (interleaved across handlers) ran a small CommonJS loader that reads`,
    '`performance.now()` (ms since the process started), `require`s the bundle, and reads it and',
    '`process.cpuUsage()` again. **init** = process start → handler exported, minus the same for the loader',
    `alone (baseline: ${f0(r.baseline.readyMs)} ms wall, ${f0(r.baseline.cpuMs)} ms CPU — Node's own start); **require** = the`,
    'require call alone; **process** = spawn → exit minus the baseline\'s. Medians. CPU time (user + system, all',
    'threads) is what other load on the machine disturbs least. Lambda gives a function CPU in proportion to its',
    'memory ("at 1,769 MB, a function has the equivalent of one vCPU",',
    '[Lambda memory](https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html)); these handlers have 256–512 MB.',
    '',
    row(['handler', 'bundle (minified)', 'zipped', 'init (wall)', 'init (CPU)', 'require (wall)', 'process (wall)']),
    rule(7),
    ...r.handlers.map((h) =>
      row([`${h.name}${h.feature ? ` (${h.feature})` : ''}`, `${h.bytes.toLocaleString('en')} B (${kib(h.bytes)})`, kib(h.zippedBytes), `${f0(h.initMs)} ms`, `${f0(h.initCpuMs)} ms`, `${f0(h.requireMs)} ms`, `${f0(h.processMs)} ms`]),
    ),
    '',
    loadLine(r.load),
  ].join('\n');
}

export function scaleSection(results: ScaleResult[]): string {
  const rs = [...results].sort((a, b) => a.n - b.n);
  const out: string[] = [
    `N web services seeded in one workload account of one emulator (one moto process), first-deployed all at`,
    `once, then N blue/green deploys published at once (\`PutEvents\`, 10 entries per call, all calls in`,
    `parallel) with TrafficShiftPerStep ${SCALE_CONFIG.TrafficShiftPerStep}, WaitPerStep ${SCALE_CONFIG.WaitPerStep} s, BakeTime ${SCALE_CONFIG.BakeTime} s: lower bound ${SCALE_LOWER_BOUND} s per deploy.`,
    'Total = first publish → last `DeployCompleted` seen; overhead = a deploy\'s wall time − the lower bound.',
    'moto CPU = its process\'s user + system time over the window (/proc/<pid>/stat), ÷ total = the share of',
    'one core it used (it is one Python process: about 1.0 is saturation). Node CPU and event-loop',
    'utilization are this process\'s, where every handler and poller runs.',
    '',
    row(['N', 'total', 'per-deploy wall: median / max', 'overhead: median / max', 'moto CPU (÷ total)', 'Node CPU (÷ total)', 'event loop busy', 'SDK calls (Deployomat + runtime)', 'load avg max']),
    rule(9),
  ];
  for (const r of rs) out.push(scaleRow(r.n, r.blueGreen, r.load));
  out.push('', 'The first deploys of the same services (all at once, BakeTime 1 s; not blue/green, for comparison):', '');
  out.push(row(['N', 'total', 'per-deploy wall: median / max', 'overhead: median / max', 'moto CPU (÷ total)', 'Node CPU (÷ total)', 'event loop busy', 'SDK calls (Deployomat + runtime)', 'load avg max']), rule(9));
  for (const r of rs) out.push(scaleRow(r.n, r.first, r.load, 1));
  out.push('', '**When each lifecycle event was seen** (s after the publish, median / max over the N blue/green deploys):', '');
  const events = [...new Set(rs.flatMap((r) => r.blueGreen.timeline.map((t) => t.event)))];
  out.push(row(['N', ...events]), rule(1 + events.length));
  for (const r of rs) out.push(row([r.n, ...events.map((e) => { const t = r.blueGreen.timeline.find((x) => x.event === e); return t ? `${f1(t.median)} / ${f1(t.max)}` : ''; })]));
  out.push('', '**SDK call latency as the SDK saw it** (Deployomat\'s calls and the runtime\'s other than long polls; median / p95 ms, and the sum in s):', '');
  const services = [...new Set(rs.flatMap((r) => r.blueGreen.latency.map((l) => l.service)))].sort();
  out.push(row(['N', ...services]), rule(1 + services.length));
  for (const r of rs) {
    out.push(row([r.n, ...services.map((s) => { const l = r.blueGreen.latency.find((x) => x.service === s); return l ? `${f0(l.median)} / ${f0(l.p95)} (${f1(l.totalSeconds)} s)` : ''; })]));
  }
  out.push('', 'The operations that took the most SDK time at the largest N, and the same operations at each N (median / p95 ms, sum in s):', '');
  const largest = rs.at(-1)!;
  const topOps = largest.blueGreen.latencyByOperation.slice(0, 6).map((o) => o.operation);
  out.push(row(['N', ...topOps]), rule(1 + topOps.length));
  for (const r of rs) {
    out.push(row([r.n, ...topOps.map((op) => { const l = r.blueGreen.latencyByOperation.find((x) => x.operation === op); return l ? `${f0(l.median)} / ${f0(l.p95)} (${f1(l.totalSeconds)} s)` : ''; })]));
  }
  out.push(
    '',
    '**Where Deployomat\'s calls went** (blue/green window): calls by the step that made them, and the sum of their',
    'latencies in s; the median gap between consecutive `AsgCloned` events is one start-deploy\'s turn when they queue:',
    '',
  );
  const origins = [...new Set(rs.flatMap((r) => r.blueGreen.byOrigin.map((o) => o.origin)))];
  out.push(row(['N', 'AsgCloned gap', ...origins]), rule(2 + origins.length));
  for (const r of rs) {
    out.push(row([r.n, `${f2(r.blueGreen.asgClonedGap)} s`, ...origins.map((o) => { const x = r.blueGreen.byOrigin.find((y) => y.origin === o); return x ? `${x.calls} (${f1(x.seconds)} s)` : ''; })]));
  }
  const base = rs[0]!;
  const perDeploy = (r: ScaleResult) => new Map([...opsOf(r.blueGreen.ops).entries()].map(([k, v]) => [k, v / r.n]));
  const baseOps = perDeploy(base);
  out.push('', `Deployomat's calls per blue/green deploy: ${rs.map((r) => `${f1(total(r.blueGreen.ops) / r.n)} at N = ${r.n}`).join(', ')}.`);
  for (const r of rs.slice(1)) {
    const changed = [...new Set([...baseOps.keys(), ...perDeploy(r).keys()])]
      .map((k) => [k, (perDeploy(r).get(k) ?? 0) - (baseOps.get(k) ?? 0)] as const)
      .filter(([, d]) => Math.abs(d) >= 0.05);
    if (changed.length) out.push(`At N = ${r.n}, per deploy vs N = ${base.n}: ${changed.map(([k, d]) => `${k} ${d > 0 ? '+' : ''}${f2(d)}`).join(', ')}.`);
  }
  out.push('', 'Handler invocations in the blue/green window:', '');
  for (const r of rs) out.push(`- N = ${r.n}: ${Object.entries(r.blueGreen.invocations).map(([h, n]) => `${h} ${n}`).join(', ')}`);
  out.push('', ...rs.map((r) => `N = ${r.n}: ${loadLine(r.load)}`));
  return out.join('\n');
}

function scaleRow(n: number, w: Window, load: LoadReading, lower = SCALE_LOWER_BOUND): string {
  const over = w.walls.map((x) => x - lower);
  return row([
    n,
    `${f1(w.total)} s`,
    `${f1(median(w.walls))} / ${f1(Math.max(...w.walls))} s`,
    `${f1(median(over))} / ${f1(Math.max(...over))} s`,
    `${f1(w.motoCpu)} s (${f2(w.motoCpu / w.total)})`,
    `${f1(w.nodeCpu)} s (${f2(w.nodeCpu / w.total)})`,
    f2(w.eventLoopUtilization),
    String((w.calls.deployomat ?? 0) + (w.calls.runtime ?? 0)),
    load.max,
  ]);
}
