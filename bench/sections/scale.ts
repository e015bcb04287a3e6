/**
 * Section `scale`: N blue/green deploys at once on the local runtime (one emulator, N web services
 * seeded in one workload account, every DeployRequested published at once). Per N: total time,
 * each deploy's wall time against the single-deploy lower bound, when each lifecycle event was
 * seen (median and max over the deploys), and where the time went: moto's CPU time (it is one
 * Python process), this process's CPU time and event-loop utilization (every handler and poller
 * runs here), and the latency of every SDK call as the SDK saw it.
 */
import { seedService, type SeededService } from '../../infra/local/seed';
import { Session, type DeployRequest } from '../harness';
import { countByOperation } from '../sdk-calls';
import { LoadSampler, median, percentile, type LoadReading } from '../stats';

export const SCALE_CONFIG = { TrafficShiftPerStep: 50, WaitPerStep: 1, BakeTime: 1 };
/** (2 steps − 1) × 1 s + 1 s bake; health time 0 (targets healthy at once). */
export const SCALE_LOWER_BOUND = 2;

export interface Phase {
  /** Seconds from the publish to the subscriber seeing the event, over the deploys. */
  event: string;
  median: number;
  max: number;
}

export interface Window {
  /** Seconds from the first PutEvents to the last outcome seen. */
  total: number;
  walls: number[];
  timeline: Phase[];
  motoCpu: number;
  nodeCpu: number;
  eventLoopUtilization: number;
  /** SDK calls in the window, by caller; latency (ms) by service for Deployomat's and the runtime's calls. */
  calls: Record<string, number>;
  latency: { service: string; calls: number; median: number; p95: number; totalSeconds: number }[];
  /** The same by operation, the ones that took the most time in all first. */
  latencyByOperation: { operation: string; calls: number; median: number; p95: number; totalSeconds: number }[];
  /** Deployomat's calls by the step that made them: count and the sum of their latencies (s). */
  byOrigin: { origin: string; calls: number; seconds: number }[];
  /** Deployomat's calls in the window by service and operation. */
  ops: Record<string, Record<string, number>>;
  /** Median gap (s) between consecutive AsgCloned events: one start-deploy's turn when they queue. */
  asgClonedGap: number;
  invocations: Record<string, number>;
}

export interface ScaleResult {
  n: number;
  load: LoadReading;
  seedSeconds: number;
  first: Window;
  blueGreen: Window;
}

const TIMELINE = ['AsgCloned', 'InstancesHealthy', 'TrafficShifted#1', 'TrafficShifted#2', 'DeployCompleted'];

export async function runScale(n: number): Promise<ScaleResult> {
  const load = new LoadSampler();
  const session = await Session.start({ prefix: `scale${n}` });
  let result: Omit<ScaleResult, 'load'>;
  try {
    result = await scale(session, n);
  } finally {
    await session.stop();
  }
  return { ...result, load: load.stop() };
}

async function scale(session: Session, n: number): Promise<Omit<ScaleResult, 'load'>> {
  const t0 = performance.now();
  const services: SeededService[] = [];
  // Seeding is not measured; a few at a time keeps it short.
  for (let i = 0; i < n; i += 5) {
    const batch = Array.from({ length: Math.min(5, n - i) }, (_, k) => i + k);
    services.push(
      ...(await Promise.all(
        batch.map((j) => seedService(session.account, { service: `svc${String(j).padStart(3, '0')}`, web: true, priority: j + 1, amis: ['one', 'two'] })),
      )),
    );
  }
  const seedSeconds = (performance.now() - t0) / 1000;
  const first = await measure(session, services.map((s) => ({ id: session.nextId(), service: s.service, amiId: s.amis.one!, config: { BakeTime: 1 } })));
  const blueGreen = await measure(session, services.map((s) => ({ id: session.nextId(), service: s.service, amiId: s.amis.two!, config: SCALE_CONFIG })));
  return { n, seedSeconds, first, blueGreen };
}

async function measure(session: Session, requests: DeployRequest[]): Promise<Window> {
  const before = { ...session.local.runtime.invocations };
  const moto0 = session.motoCpuSeconds();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const p0 = performance.now();
  const t0 = Date.now();
  await session.publish(requests);
  const outcomes = await session.outcomes(requests.map((r) => r.id));
  const total = (Math.max(...outcomes.map((o) => o.receivedAt)) - t0) / 1000;
  const p1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const motoCpu = session.motoCpuSeconds() - moto0;
  await session.calls.quiet('deployomat', 1500);

  const walls = outcomes.map((o) => (o.receivedAt - t0) / 1000);
  const seen = new Map<string, number[]>();
  for (const r of requests) {
    for (const e of session.observer.of(r.id)) {
      const key = e.detailType === 'TrafficShifted' ? `TrafficShifted#${e.detail.Step}` : e.detailType;
      const list = seen.get(key) ?? [];
      list.push((e.receivedAt - t0) / 1000);
      seen.set(key, list);
    }
  }
  const timeline = TIMELINE.filter((k) => seen.has(k)).map((k) => ({ event: k, median: median(seen.get(k)!), max: Math.max(...seen.get(k)!) }));

  const calls = session.calls.between(p0, p1);
  const byCaller: Record<string, number> = {};
  for (const c of calls) byCaller[c.caller] = (byCaller[c.caller] ?? 0) + 1;
  const services = new Map<string, number[]>();
  const operations = new Map<string, number[]>();
  for (const c of calls.filter((x) => x.caller === 'deployomat' || (x.caller === 'runtime' && x.operation !== 'ReceiveMessage'))) {
    services.set(c.service, [...(services.get(c.service) ?? []), c.ms]);
    const op = `${c.service} ${c.operation}`;
    operations.set(op, [...(operations.get(op) ?? []), c.ms]);
  }
  const stats = (xs: number[]) => ({ calls: xs.length, median: median(xs), p95: percentile(xs, 95), totalSeconds: xs.reduce((a, b) => a + b, 0) / 1000 });
  const latency = [...services.entries()].map(([service, xs]) => ({ service, ...stats(xs) })).sort((a, b) => b.totalSeconds - a.totalSeconds);
  const latencyByOperation = [...operations.entries()]
    .map(([operation, xs]) => ({ operation, ...stats(xs) }))
    .sort((a, b) => b.totalSeconds - a.totalSeconds);
  const origins = new Map<string, { calls: number; seconds: number }>();
  for (const c of calls.filter((x) => x.caller === 'deployomat')) {
    const o = origins.get(c.origin ?? 'other') ?? { calls: 0, seconds: 0 };
    o.calls++;
    o.seconds += c.ms / 1000;
    origins.set(c.origin ?? 'other', o);
  }
  const cloned = [...(seen.get('AsgCloned') ?? [])].sort((a, b) => a - b);
  const gaps = cloned.slice(1).map((t, i) => t - cloned[i]!);
  const after = session.local.runtime.invocations;
  return {
    total,
    walls,
    timeline,
    motoCpu,
    nodeCpu: (cpu.user + cpu.system) / 1e6,
    eventLoopUtilization: elu.utilization,
    calls: byCaller,
    latency,
    latencyByOperation,
    ops: countByOperation(calls.filter((x) => x.caller === 'deployomat')),
    byOrigin: [...origins.entries()].map(([origin, o]) => ({ origin, ...o })).sort((a, b) => b.seconds - a.seconds),
    asgClonedGap: gaps.length ? median(gaps) : NaN,
    invocations: Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]).filter(([, v]) => v)),
  };
}
