import { GetScheduleCommand, ListSchedulesCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { loadConfig } from '../../domain/config';
import { atExpression, emit, scheduleName, type TimerMessage } from '../../domain/emit';
import type { DomainEvent } from '../../events/catalog';
import { startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

const ref = { AccountCanonicalSlug: 'acme-timers', ServiceName: 'web', Seq: 4 };

describe('Timers (emulator)', () => {
  let t: TestDeployomat;
  beforeAll(async () => {
    t = await startTestDeployomat({ slug: 'acme-timers' });
  });
  afterAll(async () => t?.stop());

  it('delivers a short wait through the timer queue, never before it is due', async () => {
    // Prepare
    const event: DomainEvent = { DetailType: 'TrafficShiftDue', Detail: { ...ref, DeployId: 'timer-sqs', Step: 2 }, DelaySeconds: 1.5 };
    const sentAt = Date.now();

    // Act
    await emit(controlPlaneClients(), loadConfig(), [event]);
    const seen = await t.observer.waitFor((e) => e.detail.DeployId === 'timer-sqs', 10_000);

    // Assess
    expect(seen.detailType).toBe('TrafficShiftDue');
    expect(seen.receivedAt - sentAt).toBeGreaterThanOrEqual(1500);
    expect(seen.detail).toMatchObject({ Step: 2, Seq: 4 });
  });

  it('puts a wait longer than SQS allows on a one-time schedule that hands it to the timer queue before it is due, once', async () => {
    // Prepare
    const cfg = loadConfig();
    const event: DomainEvent = { DetailType: 'BakeElapsed', Detail: { ...ref, DeployId: 'timer-long', BakeTime: 3600 }, DelaySeconds: 3600 };
    const sentAt = Date.now();

    // Act: the same timer twice, as a redelivered step would.
    await emit(controlPlaneClients(), cfg, [event]);
    await emit(controlPlaneClients(), cfg, [event]);

    // Assess
    const { scheduler } = controlPlaneClients();
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: cfg.scheduleGroup }));
    expect(listed.Schedules?.map((s) => s.Name)).toEqual([scheduleName(event)]);
    const s = await scheduler.send(new GetScheduleCommand({ Name: scheduleName(event), GroupName: cfg.scheduleGroup }));
    expect(s).toMatchObject({ ActionAfterCompletion: 'DELETE', FlexibleTimeWindow: { Mode: 'OFF' } });
    expect(s.Target).toMatchObject({ Arn: cfg.timerQueueArn, RoleArn: cfg.schedulerRoleArn });
    const timer = JSON.parse(s.Target!.Input!) as TimerMessage;
    expect(timer.Event).toMatchObject({ DetailType: 'BakeElapsed', Detail: { DeployId: 'timer-long', BakeTime: 3600 } });
    const due = Date.parse(timer.DueAt);
    expect(due - sentAt).toBeGreaterThanOrEqual(3600_000);
    expect(due - Date.now()).toBeLessThanOrEqual(3600_000);
    // Fired 120 s (whole seconds) ahead: Scheduler's 60 s precision cannot make the event early or late.
    expect(s.ScheduleExpression).toMatch(/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/);
    const handOver = Date.parse(`${s.ScheduleExpression!.slice(3, -1)}Z`);
    expect(due - handOver).toBeGreaterThanOrEqual(cfg.schedulerLeadSeconds * 1000);
    expect(due - handOver).toBeLessThan(cfg.schedulerLeadSeconds * 1000 + 1000);
  });

  it('publishes a handed-over timer at its due time, not when the schedule fires, and deletes the schedule', async () => {
    // Prepare: the schedule made above fires now, 6 s before its event is due (as Scheduler may,
    // anywhere in its minute); the event must still wait until it is due.
    const cfg = loadConfig();
    const { scheduler } = controlPlaneClients();
    const name = scheduleName({ DetailType: 'BakeElapsed', Detail: { ...ref, DeployId: 'timer-long', BakeTime: 3600 } });
    const s = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: cfg.scheduleGroup }));
    const dueAt = Date.now() + 6000;
    const timer = { ...(JSON.parse(s.Target!.Input!) as TimerMessage), DueAt: new Date(dueAt).toISOString() };

    // Act
    await scheduler.send(
      new UpdateScheduleCommand({
        Name: name,
        GroupName: cfg.scheduleGroup,
        ScheduleExpression: atExpression(new Date(Date.now() - 1000)),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: s.FlexibleTimeWindow,
        ActionAfterCompletion: s.ActionAfterCompletion,
        Target: { ...s.Target!, Input: JSON.stringify(timer) },
      }),
    );
    const seen = await t.observer.waitFor((e) => e.detail.DeployId === 'timer-long', 20_000);

    // Assess
    expect(seen).toMatchObject({ detailType: 'BakeElapsed', detail: { BakeTime: 3600 } });
    expect(seen.receivedAt).toBeGreaterThanOrEqual(dueAt);
    // Not another SQS hop too many (each is whole seconds): it arrives within a few seconds of due.
    expect(seen.receivedAt - dueAt).toBeLessThan(5000);
    const left = await scheduler.send(new ListSchedulesCommand({ GroupName: cfg.scheduleGroup }));
    expect(left.Schedules ?? []).toEqual([]);
  });

  it('keeps a schedule per service when two services share a DeployId (a CI reusing a commit SHA)', async () => {
    // Prepare: the same deadline watchdog, for two services deployed with one DeployId.
    const cfg = loadConfig();
    const deadline = (service: string): DomainEvent => ({
      DetailType: 'DeployDeadlinePassed',
      Detail: { ...ref, ServiceName: service, DeployId: 'sha-0123abc', Seq: 1, DeadlineSeconds: 3600 },
      DelaySeconds: 3600,
    });

    // Act
    await emit(controlPlaneClients(), cfg, [deadline('web'), deadline('api')]);

    // Assess: both are scheduled, each with its own service.
    const listed = await controlPlaneClients().scheduler.send(new ListSchedulesCommand({ GroupName: cfg.scheduleGroup, NamePrefix: 'DeployDeadlinePassed-sha-0123abc' }));
    expect(listed.Schedules?.length).toBe(2);
    const services = await Promise.all(
      listed.Schedules!.map(async (l) => {
        const s = await controlPlaneClients().scheduler.send(new GetScheduleCommand({ Name: l.Name, GroupName: cfg.scheduleGroup }));
        return (JSON.parse(s.Target!.Input!) as { Event: { Detail: { ServiceName: string } } }).Event.Detail.ServiceName;
      }),
    );
    expect(services.sort()).toEqual(['api', 'web']);
  });

  it('publishes only timer events from the timer queue: a message dropped on it naming another event comes out as nothing', async () => {
    // Prepare: what someone who can send to the timer queue would drop there, each valid for its schema.
    const cfg = loadConfig();
    const forged = [
      { DetailType: 'DeployRequested', Detail: { AccountCanonicalSlug: 'acme-timers', ServiceName: 'web', AmiId: 'ami-0123456789abcdef0', DeployId: 'forged-timer-1' } },
      { DetailType: 'QueuedDeployReady', Detail: { DeployId: 'forged-timer-2', Request: { AccountCanonicalSlug: 'acme-timers', ServiceName: 'web', AmiId: 'ami-0123456789abcdef0' } } },
      { DetailType: 'DeployCompleted', Detail: { ...ref, DeployId: 'forged-timer-3', AmiId: 'ami-0123456789abcdef0', AsgName: 'x', DurationSeconds: 1 } },
    ];
    const due = new Date().toISOString();

    // Act: the forged messages, then a genuine timer behind them.
    for (const Event of forged) {
      await controlPlaneClients().sqs.send(new SendMessageCommand({ QueueUrl: cfg.timerQueueUrl, MessageBody: JSON.stringify({ DueAt: due, Event }) }));
    }
    await emit(controlPlaneClients(), cfg, [{ DetailType: 'TrafficShiftDue', Detail: { ...ref, DeployId: 'timer-after-forged', Step: 2 }, DelaySeconds: 1 }]);
    await t.observer.waitFor((e) => e.detail.DeployId === 'timer-after-forged', 10_000, 'the genuine timer');

    // Assess
    const seen = t.observer.events.filter((e) => String(e.detail.DeployId ?? '').startsWith('forged-timer'));
    expect(seen.map((e) => e.detailType)).toEqual([]);
  });
});
