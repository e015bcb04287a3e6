/**
 * Sections `steps`, `e2e` and `api`, which share one session (one emulator): first deploys of a
 * web and a non-web service, then blue/green re-deploys in three configurations.
 *  - steps: lateness of each traffic step after the first (20 steps, WaitPerStep 1 s), split into
 *    the timer relay, the step itself and the subscriber's delivery;
 *  - e2e: wall time ÷ lower bound per configuration;
 *  - api: every SDK call of one deploy of each kind, by caller, service and operation.
 */
import type { Caller, SdkCall } from '../sdk-calls';
import { countByOperation } from '../sdk-calls';
import { PutScalingPolicyCommand } from '@aws-sdk/client-auto-scaling';
import { seedService, workloadClients } from '../../infra/local/seed';
import { Session, type DeployConfig, type DeployResult } from '../harness';
import { LoadSampler, type LoadReading } from '../stats';

export type Part = 'steps' | 'e2e' | 'api';

export interface E2eRow {
  name: string;
  runs: number;
  lowerBound: number;
  walls: number[];
  ratios: number[];
}

export interface StepTiming {
  deploys: number;
  /** Per step after the first (ms): observed TrafficShifted − TrafficShiftDue.DueAt … */
  lateness: number[];
  /** … = relay (the timer relay's PutEvents done − DueAt) */
  relay: number[];
  /** + step (shift-traffic's PutEvents(TrafficShifted) done − the relay's PutEvents done) */
  step: number[];
  /** + observe (the subscriber queue's receipt − shift-traffic's PutEvents done). */
  observe: number[];
}

export interface CallCounts {
  label: string;
  config: DeployConfig;
  lowerBound: number;
  wall: number;
  byCaller: Record<Caller, Record<string, Record<string, number>>>;
  /** SQS ReceiveMessage calls by the local runtime's pollers that returned messages, and messages received. */
  receivesWithMessages: number;
  messagesReceived: number;
  emptyReceives: number;
  invocations: Record<string, number>;
  /** Deployomat's calls by the step that made them (see SdkCall.origin): `Service Operation` → count. */
  byOrigin: Record<string, Record<string, number>>;
  /** Entries Deployomat published with PutEvents (events), and timers it sent (SQS SendMessage). */
  eventsPublished: number;
  timersSent: number;
}

export interface ChoreographyResult {
  load: LoadReading;
  e2e: E2eRow[];
  steps?: StepTiming;
  api: CallCounts[];
}

interface Cfg {
  key: string;
  name: string;
  service: 'web' | 'worker';
  config: { TrafficShiftPerStep?: number; WaitPerStep?: number; BakeTime: number };
}

const CONFIGS: Cfg[] = [
  { key: 'web-5', name: 'web, 5 %/step, WaitPerStep 1 s, BakeTime 1 s', service: 'web', config: { TrafficShiftPerStep: 5, WaitPerStep: 1, BakeTime: 1 } },
  { key: 'web-20', name: 'web, 20 %/step, WaitPerStep 1 s, BakeTime 1 s', service: 'web', config: { TrafficShiftPerStep: 20, WaitPerStep: 1, BakeTime: 1 } },
  { key: 'worker', name: 'non-web, BakeTime 1 s', service: 'worker', config: { BakeTime: 1 } },
];

/** (steps − 1) × WaitPerStep + BakeTime; health time is 0 (the emulator's targets are healthy at once). */
export function lowerBound(service: 'web' | 'worker', config: { TrafficShiftPerStep?: number; WaitPerStep?: number; BakeTime: number }): number {
  const steps = service === 'web' ? Math.ceil(100 / (config.TrafficShiftPerStep ?? 5)) : 1;
  return (steps - 1) * (config.WaitPerStep ?? 15) + config.BakeTime;
}

export async function runChoreography(parts: Set<Part>, runs: number): Promise<ChoreographyResult> {
  const load = new LoadSampler();
  const session = await Session.start({ prefix: 'chor' });
  const result: ChoreographyResult = { load: { start: 0, end: 0, max: 0 }, e2e: [], api: [] };
  try {
    const web = await seedService(session.account, { service: 'web', web: true, amis: ['web-a', 'web-b'] });
    const worker = await seedService(session.account, { service: 'worker', web: false, amis: ['worker-a', 'worker-b'] });
    const amis = { web: web.amis, worker: worker.amis };

    // First deploys (BakeTime 1 s, like the measured ones); counted for `api`.
    await restorePolicy('web');
    const firstWeb = await session.deploy('web', web.amis['web-a']!, { BakeTime: 1 }, { count: true });
    await restorePolicy('worker');
    const firstWorker = await session.deploy('worker', worker.amis['worker-a']!, { BakeTime: 1 }, { count: true });
    if (parts.has('api')) {
      result.api.push(callCounts('first deploy, web (BakeTime 1 s)', { BakeTime: 1 }, 1, firstWeb));
      result.api.push(callCounts('first deploy, non-web (BakeTime 1 s)', { BakeTime: 1 }, 1, firstWorker));
    }

    const timing: StepTiming = { deploys: 0, lateness: [], relay: [], step: [], observe: [] };
    for (const c of CONFIGS) {
      const n = parts.has('e2e') ? runs : parts.has('steps') && c.key === 'web-5' ? runs : parts.has('api') ? 1 : 0;
      if (!n) continue;
      const row: E2eRow = { name: c.name, runs: n, lowerBound: lowerBound(c.service, c.config), walls: [], ratios: [] };
      for (let i = 0; i < n; i++) {
        // Alternate AMIs, so every run deploys a different image from production's.
        const ami = amis[c.service][`${c.service}-${i % 2 ? 'a' : 'b'}`]!;
        await restorePolicy(c.service);
        const r = await session.deploy(c.service, ami, c.config, { count: i === 0 });
        row.walls.push(r.wall);
        row.ratios.push(r.wall / row.lowerBound);
        if (i === 0 && parts.has('api')) result.api.push(callCounts(`blue/green, ${c.name}`, c.config, row.lowerBound, r));
        if (c.key === 'web-5') stepTiming(session, r, timing);
      }
      if (parts.has('e2e')) result.e2e.push(row);
    }
    if (parts.has('steps')) result.steps = timing;
  } finally {
    await session.stop();
    result.load = load.stop();
  }
  return result;
}

/**
 * moto 5.2 keys scaling policies by name alone (`policies[name]`), so the clone's PutScalingPolicy
 * (same name, as in AWS where names are per group) takes the template's policy away, and the next
 * deploy would find none to copy. Put it back on the template before each deploy (not counted),
 * so every deploy copies one policy, as it would in AWS.
 */
async function restorePolicy(service: string): Promise<void> {
  const { autoscaling } = await workloadClients();
  await autoscaling.send(
    new PutScalingPolicyCommand({
      AutoScalingGroupName: `${service}-template`,
      PolicyName: 'target-cpu',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 50 },
    }),
  );
}

function callCounts(label: string, config: DeployConfig, lower: number, r: DeployResult): CallCounts {
  const calls = r.calls!;
  const of = (caller: Caller) => countByOperation(calls.filter((c) => c.caller === caller));
  const receives = calls.filter((c) => c.caller === 'runtime' && c.operation === 'ReceiveMessage');
  const mine = calls.filter((c) => c.caller === 'deployomat');
  const byOrigin: Record<string, Record<string, number>> = {};
  for (const c of mine) {
    const o = (byOrigin[c.origin ?? 'other'] ??= {});
    o[`${c.service} ${c.operation}`] = (o[`${c.service} ${c.operation}`] ?? 0) + 1;
  }
  return {
    label,
    config,
    lowerBound: lower,
    wall: r.wall,
    byCaller: { deployomat: of('deployomat'), runtime: of('runtime'), observer: of('observer'), bench: of('bench') },
    receivesWithMessages: receives.filter((c) => c.messages).length,
    messagesReceived: receives.reduce((n, c) => n + (c.messages ?? 0), 0),
    emptyReceives: receives.filter((c) => !c.messages).length,
    invocations: r.invocations ?? {},
    byOrigin,
    eventsPublished: mine.filter((c) => c.operation === 'PutEvents').reduce((n, c) => n + ((c.input?.Entries as unknown[] | undefined)?.length ?? 0), 0),
    timersSent: mine.filter((c) => c.operation === 'SendMessage').length,
  };
}

interface Entry {
  DetailType?: string;
  Detail?: string;
}

/** End (epoch ms) of the first Deployomat PutEvents carrying `type` for this deploy and step. */
function publishedAt(calls: SdkCall[], type: string, deployId: string, step: unknown): number | undefined {
  for (const c of calls) {
    if (c.caller !== 'deployomat' || c.operation !== 'PutEvents' || !c.ok) continue;
    for (const e of (c.input?.Entries ?? []) as Entry[]) {
      if (e.DetailType !== type) continue;
      const d = JSON.parse(e.Detail ?? '{}') as { DeployId?: string; Step?: unknown };
      if (d.DeployId === deployId && d.Step === step) return performance.timeOrigin + c.start + c.ms;
    }
  }
  return undefined;
}

function stepTiming(session: Session, r: DeployResult, t: StepTiming): void {
  t.deploys++;
  const calls = session.calls.calls;
  const due = new Map(r.events.filter((e) => e.detailType === 'TrafficShiftDue').map((e) => [e.detail.Step, Date.parse(String(e.detail.DueAt))]));
  for (const e of r.events.filter((x) => x.detailType === 'TrafficShifted' && (x.detail.Step as number) > 1)) {
    const d = due.get(e.detail.Step);
    if (d === undefined) continue;
    t.lateness.push(e.receivedAt - d);
    const relayed = publishedAt(calls, 'TrafficShiftDue', r.id, e.detail.Step);
    const shifted = publishedAt(calls, 'TrafficShifted', r.id, e.detail.Step);
    if (relayed !== undefined && shifted !== undefined) {
      t.relay.push(relayed - d);
      t.step.push(shifted - relayed);
      t.observe.push(e.receivedAt - shifted);
    }
  }
}
