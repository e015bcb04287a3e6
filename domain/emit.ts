import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { catalog, type DomainEvent } from '../events/catalog';
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
 * one-time EventBridge Scheduler schedule for longer waits.
 */
export async function emit(cp: ControlPlane, cfg: Config, events: DomainEvent[]): Promise<void> {
  const now = events.filter((e) => !(e.DelaySeconds! > 0));
  if (now.length) await publish(cp.events, cfg.busName, now.map((e) => ({ ...e, DelaySeconds: undefined })));
  for (const event of events.filter((e) => e.DelaySeconds! > 0)) {
    if (event.DelaySeconds! <= MAX_SQS_DELAY_SECONDS) await sendTimer(cp, cfg, event, event.DelaySeconds!);
    else await createSchedule(cp, cfg, event, Math.ceil(event.DelaySeconds!));
  }
}

/**
 * SQS delays whole seconds: the message waits the whole part, and the relay waits out the
 * fraction (under a second) before publishing, so timers land within ~50 ms of their due time.
 */
export async function sendTimer(cp: ControlPlane, cfg: Config, event: DomainEvent, delaySeconds: number): Promise<void> {
  // An event anchored on a due time (see dueAt) keeps it exactly; sending takes a moment.
  const anchored = (event.Detail as { DueAt?: string }).DueAt;
  const body: TimerMessage = {
    DueAt: anchored ?? new Date(Date.now() + delaySeconds * 1000).toISOString(),
    Event: { ...event, DelaySeconds: undefined },
  };
  await cp.sqs.send(
    new SendMessageCommand({
      QueueUrl: cfg.timerQueueUrl,
      MessageBody: JSON.stringify(body),
      DelaySeconds: Math.min(Math.floor(delaySeconds), MAX_SQS_DELAY_SECONDS),
    }),
  );
}

/** Schedule names allow 64 characters of [0-9A-Za-z_.-]: a readable head plus a hash of the full identity. */
export function scheduleName(event: DomainEvent): string {
  const d = event.Detail as { DeployId?: string; Seq?: number };
  const identity = `${d.DeployId}|${event.DetailType}|${d.Seq}`;
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  const head = `${event.DetailType}-${d.DeployId ?? ''}`.replace(/[^0-9A-Za-z_.-]/g, '_').slice(0, 50);
  return `${head}-${hash}`;
}

/** `at(...)` takes a UTC wall-clock time without zone or fraction. */
export function atExpression(due: Date): string {
  return `at(${due.toISOString().slice(0, 19)})`;
}

async function createSchedule(cp: ControlPlane, cfg: Config, event: DomainEvent, delaySeconds: number): Promise<void> {
  const due = new Date(Date.now() + delaySeconds * 1000);
  const detail = catalog[event.DetailType].schema.parse(event.Detail);
  try {
    await cp.scheduler.send(
      new CreateScheduleCommand({
        Name: scheduleName(event),
        GroupName: cfg.scheduleGroup,
        ScheduleExpression: atExpression(due),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: cfg.busArn,
          RoleArn: cfg.schedulerRoleArn,
          EventBridgeParameters: { DetailType: event.DetailType, Source: catalog[event.DetailType].source },
          Input: JSON.stringify(detail),
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
