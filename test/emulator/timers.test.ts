import { GetScheduleCommand, ListSchedulesCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { loadConfig } from '../../domain/config';
import { atExpression, emit, scheduleName } from '../../domain/emit';
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

  it('puts a wait longer than SQS allows on a one-time Scheduler schedule, once', async () => {
    // Prepare
    const cfg = loadConfig();
    const event: DomainEvent = { DetailType: 'BakeElapsed', Detail: { ...ref, DeployId: 'timer-long', BakeTime: 3600 }, DelaySeconds: 3600 };

    // Act: the same timer twice, as a redelivered step would.
    await emit(controlPlaneClients(), cfg, [event]);
    await emit(controlPlaneClients(), cfg, [event]);

    // Assess
    const { scheduler } = controlPlaneClients();
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: cfg.scheduleGroup }));
    expect(listed.Schedules?.map((s) => s.Name)).toEqual([scheduleName(event)]);
    const s = await scheduler.send(new GetScheduleCommand({ Name: scheduleName(event), GroupName: cfg.scheduleGroup }));
    expect(s.ScheduleExpression).toMatch(/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/);
    const due = Date.parse(`${s.ScheduleExpression!.slice(3, -1)}Z`);
    expect(Math.abs(due - (Date.now() + 3600_000))).toBeLessThan(60_000);
    expect(s).toMatchObject({ ActionAfterCompletion: 'DELETE', FlexibleTimeWindow: { Mode: 'OFF' } });
    expect(s.Target).toMatchObject({ Arn: cfg.busArn, RoleArn: cfg.schedulerRoleArn, EventBridgeParameters: { DetailType: 'BakeElapsed', Source: 'deployomat' } });
    expect(JSON.parse(s.Target!.Input!)).toMatchObject({ DeployId: 'timer-long', BakeTime: 3600 });
  });

  it('fires a schedule when it falls due, on the local clock, and deletes it', async () => {
    // Prepare: let an hour pass for the schedule made above.
    const cfg = loadConfig();
    const { scheduler } = controlPlaneClients();
    const name = scheduleName({ DetailType: 'BakeElapsed', Detail: { ...ref, DeployId: 'timer-long', BakeTime: 3600 } });
    const s = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: cfg.scheduleGroup }));

    // Act
    await scheduler.send(
      new UpdateScheduleCommand({
        Name: name,
        GroupName: cfg.scheduleGroup,
        ScheduleExpression: atExpression(new Date(Date.now() - 1000)),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: s.FlexibleTimeWindow,
        ActionAfterCompletion: s.ActionAfterCompletion,
        Target: s.Target,
      }),
    );
    const seen = await t.observer.waitFor((e) => e.detail.DeployId === 'timer-long', 10_000);

    // Assess
    expect(seen).toMatchObject({ detailType: 'BakeElapsed', detail: { BakeTime: 3600 } });
    await new Promise((r) => setTimeout(r, 300));
    const left = await scheduler.send(new ListSchedulesCommand({ GroupName: cfg.scheduleGroup }));
    expect(left.Schedules ?? []).toEqual([]);
  });
});
