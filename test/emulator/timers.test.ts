import { GetScheduleCommand, ListSchedulesCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
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
});
