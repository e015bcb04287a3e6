import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { catalog, isTimerDetailType, type DomainEvent } from '../events/catalog';
import { publish } from '../events/publish';
import type { ControlPlane } from './aws/clients';
import type { Config } from './config';

/** SQS delays a message by at most 15 minutes, with about one second of precision. */
export const MAX_SQS_DELAY_SECONDS = 900;

/** The body of a message on the timer queue: the event to publish when the delay has passed. */
export interface TimerMessage {
  DueAt: string;
  Event: DomainEvent;
}

/**
 * An event due at `dueAtMs` (epoch ms): it carries its due time, and its delay is counted from
 * now, so a chain of timers anchored on due times does not drift by each step's processing time.
 */
export function dueAt<E extends DomainEvent>(dueAtMs: number, event: E): E {
  return {
    ...event,
    Detail: { ...event.Detail, DueAt: new Date(dueAtMs).toISOString() },
    DelaySeconds: Math.max(0, (dueAtMs - Date.now()) / 1000),
  };
}

/** Due time carried by a timer event, or now. */
export function dueTimeOf(detail: { DueAt?: string }): number {
  const t = detail.DueAt ? Date.parse(detail.DueAt) : NaN;
  return Number.isNaN(t) ? Date.now() : t;
}

/**
 * Publishes events now, or later: a delayed event goes to the timer queue with `DelaySeconds`
 * (≤ 900 s, so a 15 s traffic step is not stuck with Scheduler's one-minute precision), or to a
 * one-time EventBridge Scheduler schedule for longer waits, which hands it to the timer queue
 * shortly before it is due.
 */
export async function emit(cp: ControlPlane, cfg: Config, events: DomainEvent[]): Promise<void> {
  const late = events.filter((e) => e.DelaySeconds! > 0 && !isTimerDetailType(e.DetailType));
  // The relay publishes timer events only (events/catalog.ts): a late event of another type would be lost.
  if (late.length) throw new Error(`${late.map((e) => e.DetailType).join(', ')} cannot be delayed: mark it timer: true in events/catalog.ts`);
  const now = events.filter((e) => !(e.DelaySeconds! > 0));
  if (now.length) await publish(cp.events, cfg.busName, now.map((e) => ({ ...e, DelaySeconds: undefined })));
  for (const event of events.filter((e) => e.DelaySeconds! > 0)) {
    const timer = timerMessage(event, event.DelaySeconds!);
    if (event.DelaySeconds! <= MAX_SQS_DELAY_SECONDS) await sendTimer(cp, cfg, timer);
    else await createSchedule(cp, cfg, event, timer);
  }
}

/** The timer for `event`, due in `delaySeconds` — or at its own `DueAt` if it is anchored (see dueAt). */
function timerMessage(event: DomainEvent, delaySeconds: number): TimerMessage {
  const anchored = (event.Detail as { DueAt?: string }).DueAt;
  return {
    DueAt: anchored ?? new Date(Date.now() + delaySeconds * 1000).toISOString(),
    Event: { ...event, DelaySeconds: undefined },
  };
}

/**
 * SQS delays whole seconds: the message waits the whole part of what is left until `DueAt`
 * (at most 900 s), and the relay waits out the fraction, or sends it on again if more is left.
 * Timers land within ~50 ms of their due time.
 */
export async function sendTimer(cp: ControlPlane, cfg: Config, timer: TimerMessage): Promise<void> {
  const leftSeconds = (Date.parse(timer.DueAt) - Date.now()) / 1000;
  await cp.sqs.send(
    new SendMessageCommand({
      QueueUrl: cfg.timerQueueUrl,
      MessageBody: JSON.stringify(timer),
      DelaySeconds: Math.max(0, Math.min(Math.floor(leftSeconds), MAX_SQS_DELAY_SECONDS)),
    }),
  );
}

/**
 * Schedule names allow 64 characters of [0-9A-Za-z_.-]: a readable head plus a hash of the full
 * identity — account, service, deploy, event, step — so two services whose CI reuses a DeployId
 * (a commit SHA) never share a schedule (a ConflictException is taken as "already scheduled").
 */
export function scheduleName(event: DomainEvent): string {
  const d = event.Detail as { DeployId?: string; Seq?: number; AccountCanonicalSlug?: string; ServiceName?: string };
  const identity = `${d.AccountCanonicalSlug}|${d.ServiceName}|${d.DeployId}|${event.DetailType}|${d.Seq}`;
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  const head = `${event.DetailType}-${d.DeployId ?? ''}`.replace(/[^0-9A-Za-z_.-]/g, '_').slice(0, 50);
  return `${head}-${hash}`;
}

/** `at(...)` takes a UTC wall-clock time without zone or fraction. */
export function atExpression(due: Date): string {
  return `at(${due.toISOString().slice(0, 19)})`;
}

/**
 * A wait longer than SQS allows: a one-time schedule whose target is the timer queue. Scheduler
 * invokes targets with 60 s precision, so it fires `schedulerLeadSeconds` (default 120) before the
 * due time and the timer queue waits out the rest to the second: the event lands as precisely as
 * a short timer, whether Scheduler is early or late within its minute.
 */
async function createSchedule(cp: ControlPlane, cfg: Config, event: DomainEvent, timer: TimerMessage): Promise<void> {
  const handOver = new Date(Date.parse(timer.DueAt) - cfg.schedulerLeadSeconds * 1000);
  // Checked now: a malformed event must fail this step, not the relay an hour later.
  catalog[event.DetailType].schema.parse(event.Detail);
  try {
    await cp.scheduler.send(
      new CreateScheduleCommand({
        Name: scheduleName(event),
        GroupName: cfg.scheduleGroup,
        ScheduleExpression: atExpression(handOver),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: cfg.timerQueueArn,
          RoleArn: cfg.schedulerRoleArn,
          Input: JSON.stringify(timer),
        },
      }),
    );
  } catch (err) {
    // Same deploy, same step: an earlier attempt already scheduled it.
    if (err instanceof ConflictException) return;
    throw err;
  }
}

/**
 * Withdraws a timer that is no longer wanted, where that is possible: a Scheduler schedule is
 * deleted; an SQS-delayed message cannot be, and is dropped as stale when it arrives.
 */
export async function withdrawTimer(cp: ControlPlane, cfg: Config, event: DomainEvent): Promise<void> {
  if (!(event.DelaySeconds! > MAX_SQS_DELAY_SECONDS)) return;
  try {
    await cp.scheduler.send(new DeleteScheduleCommand({ Name: scheduleName(event), GroupName: cfg.scheduleGroup }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
}
