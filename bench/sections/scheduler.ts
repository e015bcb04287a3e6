/**
 * Section `scheduler`: traffic steps whose wait is over SQS's 900 s limit, so each step's timer is
 * a one-time EventBridge Scheduler schedule (domain/emit.ts) that fires a lead time before the due
 * time and hands the event to the timer queue, whose relay publishes it when due. The local
 * runtime's Scheduler clock (infra/local/runtime.ts: checks every second) fires the schedules.
 * Runs with the simulated clock (bench/clock.ts, installed before anything else by
 * bench/section.ts): once a step has created its schedule, simulated time jumps to 1.5 s before
 * the schedule's `at(...)` time, and the rest runs in real time. SQS delays keep real time, so the
 * lead is 3 s here (`DEPLOYOMAT_SCHEDULER_LEAD_SECONDS`), not the 120 s used on AWS.
 *
 * Per step after the first: due time (the timer's `DueAt`), the schedule's `at(...)` time, when
 * the Scheduler clock handed the timer to the queue, when the relay published the event, when the
 * subscriber saw the step's TrafficShifted. AWS's Scheduler is then modelled from its documented
 * 60 s precision with the default 120 s lead.
 */
import { advanceTo, clockOffsetMs } from '../clock';
import { Session } from '../harness';
import { seedService } from '../../infra/local/seed';
import { LoadSampler, type LoadReading } from '../stats';
import { mulberry32 } from '../../infra/local/seeded-random';
import type { TimerMessage } from '../../domain/emit';

export const SCHEDULER_CONFIG = { TrafficShiftPerStep: 5, WaitPerStep: 1800, BakeTime: 1 };
/** The hand-over lead of this bench (s), and the default one on AWS (s). */
export const BENCH_LEAD_SECONDS = 3;
export const AWS_LEAD_SECONDS = 120;
/** How long before a schedule's at() time the simulated clock lands. */
const LEAD_MS = 1500;

export interface SchedulerStep {
  step: number;
  /** Epoch ms (simulated): due, at(...) time, handed to the queue, published by the relay, observed. */
  due: number;
  at: number;
  handed: number;
  published: number;
  observed: number;
  expression: string;
}

export interface SchedulerResult {
  load: LoadReading;
  config: typeof SCHEDULER_CONFIG;
  steps: SchedulerStep[];
  /** Simulated and real duration of the deploy (s). */
  simulatedSeconds: number;
  realSeconds: number;
  lowerBound: number;
  /** Scheduler calls of the deploy: by Deployomat, and by the local runtime's Scheduler clock. */
  deployomatCalls: Record<string, number>;
  clockCalls: Record<string, number>;
}

interface Detail {
  DeployId?: string;
  Step?: number;
}

const shiftDueStep = (body: string | undefined): number | undefined => {
  try {
    const timer = JSON.parse(body ?? '{}') as Partial<TimerMessage>;
    return timer.Event?.DetailType === 'TrafficShiftDue' ? (timer.Event.Detail as Detail).Step : undefined;
  } catch {
    return undefined;
  }
};

export async function runScheduler(): Promise<SchedulerResult> {
  const load = new LoadSampler();
  const session = await Session.start({ prefix: 'sched', env: { DEPLOYOMAT_SCHEDULER_LEAD_SECONDS: String(BENCH_LEAD_SECONDS) } });
  let result: Omit<SchedulerResult, 'load'>;
  try {
    result = await measure(session);
  } finally {
    await session.stop();
  }
  return { ...result, load: load.stop() };
}

async function measure(session: Session): Promise<Omit<SchedulerResult, 'load'>> {
  const web = await seedService(session.account, { service: 'web', web: true, amis: ['web-a', 'web-b'] });
  await session.deploy('web', web.amis['web-a']!, { BakeTime: 1 });

  const schedules = new Map<number, { due: number; at: number; expression: string }>();
  const handed = new Map<number, number>();
  const published = new Map<number, number>();
  session.calls.beforeSend = (call) => {
    if (call.caller === 'deployomat' && call.operation === 'CreateSchedule') {
      const input = call.input as { ScheduleExpression?: string; Target?: { Input?: string } };
      const step = shiftDueStep(input.Target?.Input);
      if (step === undefined) return;
      const at = Date.parse(`${/^at\((.*)\)$/.exec(input.ScheduleExpression ?? '')?.[1]}Z`);
      const due = Date.parse((JSON.parse(input.Target!.Input!) as TimerMessage).DueAt);
      schedules.set(step, { due, at, expression: input.ScheduleExpression! });
      // Let the step finish (its TrafficShifted, its ledger write), then skip the wait.
      setTimeout(() => advanceTo(at - LEAD_MS), 300);
    }
    if (call.caller === 'runtime' && call.operation === 'SendMessage') {
      const step = shiftDueStep((call.input as { MessageBody?: string }).MessageBody);
      if (step !== undefined && !handed.has(step)) handed.set(step, Date.now());
    }
    if (call.caller === 'deployomat' && call.operation === 'PutEvents') {
      for (const e of (call.input?.Entries ?? []) as { DetailType?: string; Detail?: string }[]) {
        if (e.DetailType === 'TrafficShiftDue') published.set((JSON.parse(e.Detail ?? '{}') as Detail).Step!, Date.now());
      }
    }
  };
  const t0 = performance.now();
  const offset0 = clockOffsetMs();
  const r = await session.deploy('web', web.amis['web-b']!, SCHEDULER_CONFIG, { count: true, timeoutMs: 48 * 3600_000 });
  const realSeconds = (performance.now() - t0) / 1000;
  session.calls.beforeSend = undefined;

  const steps: SchedulerStep[] = [];
  for (const e of r.events.filter((x) => x.detailType === 'TrafficShifted' && (x.detail.Step as number) > 1)) {
    const step = e.detail.Step as number;
    const s = schedules.get(step);
    const h = handed.get(step);
    const p = published.get(step);
    if (s && h && p) steps.push({ step, due: s.due, at: s.at, handed: h, published: p, observed: e.receivedAt, expression: s.expression });
  }
  const scheduler = (caller: string) =>
    Object.fromEntries(
      Object.entries(
        r.calls!.filter((c) => c.caller === caller && c.service === 'Scheduler').reduce<Record<string, number>>((m, c) => ({ ...m, [c.operation]: (m[c.operation] ?? 0) + 1 }), {}),
      ).sort(),
    );
  const lowerBound = 19 * SCHEDULER_CONFIG.WaitPerStep + SCHEDULER_CONFIG.BakeTime;
  return {
    config: SCHEDULER_CONFIG,
    steps,
    simulatedSeconds: realSeconds + (clockOffsetMs() - offset0) / 1000,
    realSeconds,
    lowerBound,
    deployomatCalls: scheduler('deployomat'),
    clockCalls: scheduler('runtime'),
  };
}

/**
 * AWS EventBridge Scheduler: "All schedule types on EventBridge Scheduler invoke their targets
 * with 60 second precision … if you set your schedule to run at 1:00, it will invoke the target
 * API between 1:00:00 and 1:00:59" (Scheduler User Guide, Schedule types). Two readings of what
 * that means for an at() with seconds, both modelled by drawing the invocation time uniformly:
 *  - `minute`: anywhere in the minute the at() time falls in (hh:mm:00–hh:mm:59);
 *  - `after`: anywhere in the 60 s after the at() time.
 * `leadMs` is how long before the due time the schedule is set (0 = the event itself is the
 * schedule's target, as before the hand-over). An invocation more than a second before the due
 * time reaches the timer queue, which holds the event until due: lateness is then what this step
 * measured from its due time. A later one is published at once: lateness = invocation − due +
 * this step's measured delivery. Returns the modelled lateness samples (ms).
 */
export function modelAws(steps: SchedulerStep[], reading: 'minute' | 'after', leadMs: number, draws = 2000): number[] {
  // Seeded, so the model gives the same figures for the same steps.
  const random = mulberry32(42);
  const out: number[] = [];
  for (const s of steps) {
    const at = Math.floor((s.due - leadMs) / 1000) * 1000; // at() keeps whole seconds
    const start = reading === 'minute' ? Math.floor(at / 60_000) * 60_000 : at;
    const delivery = s.observed - s.published;
    for (let i = 0; i < draws; i++) {
      const invoked = start + random() * 60_000;
      out.push(invoked < s.due - 1000 ? s.observed - s.due : invoked - s.due + delivery);
    }
  }
  return out;
}
