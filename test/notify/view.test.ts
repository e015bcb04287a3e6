import { describe, expect, it } from 'vitest';
import { DeployConfig } from '../../events/client';
import { parseNotifyEvent, type NotifyEvent } from '../../domain/notify/events';
import { applyEvent, initialView, isVisible, stepKey, subjectOf, type DeployView, type View } from '../../domain/notify/view';

/** The fold of a deploy's events into what its Slack message shows: pure, order- and duplicate-tolerant. */

const ref = { DeployId: 'd-1', AccountCanonicalSlug: 'acme-web', ServiceName: 'shop' };
let n = 0;
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();
const ev = <E extends NotifyEvent>(type: E['type'], detail: E['detail'], seconds = n++): NotifyEvent =>
  ({ id: `ev-${type}-${seconds}`, time: at(seconds), type, detail }) as NotifyEvent;

const requested = (config: Partial<DeployConfig> = {}) =>
  ev('DeployRequested', { ...ref, AmiId: 'ami-1', DeployConfig: DeployConfig.parse(config) }, 0);
const cloned = ev('AsgCloned', {
  ...ref,
  Seq: 0,
  AmiId: 'ami-1',
  AsgName: 'shop-20260101T120001Z',
  LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: 3 },
  MinSize: 2,
  MaxSize: 4,
  ProductionAsgName: 'shop-old',
  Rollout: 'web',
  RuleArns: ['rule-1'],
}, 1);
const healthy = ev('InstancesHealthy', { ...ref, Seq: 1, Healthy: 2, Wanted: 2, WaitedSeconds: 3 }, 4);
const shifted = (step: number, percent: number, seq: number, s: number) => ev('TrafficShifted', { ...ref, Seq: seq, Step: step, Steps: 2, Percent: percent }, s);
const completed = ev('DeployCompleted', { ...ref, Seq: 4, AmiId: 'ami-1', AsgName: 'shop-20260101T120001Z', PreviousAsgName: 'shop-old', DurationSeconds: 12.4 }, 12);
const failed = ev('DeployFailed', { ...ref, Seq: 3, Phase: 'WaitingHealthy', Errors: ['Only 0 of 2 instances became healthy'] }, 20);

const fold = (events: NotifyEvent[], start: View = initialView({ kind: 'deploy', id: 'd-1', account: 'acme-web', service: 'shop' })) =>
  events.reduce(applyEvent, start) as DeployView;

describe('Notify: the view of a deploy', () => {
  it('follows a blue/green deploy to completed', () => {
    const v = fold([requested(), cloned, healthy, shifted(1, 50, 2, 5), shifted(2, 100, 3, 6), completed]);
    expect(v).toMatchObject({
      phase: 'Completed',
      amiId: 'ami-1',
      resolvedAmiId: 'ami-1',
      asgName: 'shop-20260101T120001Z',
      previousAsgName: 'shop-old',
      rollout: 'web',
      percent: 100,
      durationSeconds: 12.4,
      startedAt: at(0),
      lastAt: at(12),
      skip: false,
    });
    expect(v.applied).toEqual(['DeployRequested', 'AsgCloned#0', 'InstancesHealthy#1', 'TrafficShifted#2', 'TrafficShifted#3', 'DeployCompleted#4']);
  });

  it('changes nothing for an event applied before: a redelivery, or the outbox publishing it again under a new id', () => {
    const v = fold([requested(), cloned, healthy]);
    expect(applyEvent(v, healthy)).toBe(v);
    expect(applyEvent(v, { ...healthy, id: 'republished' } as NotifyEvent)).toBe(v);
    expect(stepKey({ ...healthy, id: 'other' } as NotifyEvent)).toBe(stepKey(healthy));
  });

  it('never moves backwards when events arrive out of order', () => {
    const v = fold([requested(), cloned, healthy, shifted(2, 100, 3, 6), shifted(1, 50, 2, 5)]);
    expect(v).toMatchObject({ phase: 'Baking', percent: 100, step: 2, seq: 3 });
    // The request arriving last still tells the requested AMI and SkipNotifications.
    const late = fold([cloned, healthy, requested({ SkipNotifications: true })]);
    expect(late).toMatchObject({ phase: 'Shifting', amiId: 'ami-1', skip: true, startedAt: at(0) });
  });

  it('keeps the first outcome: a late event cannot turn a completed deploy into anything else', () => {
    const v = fold([requested(), cloned, completed, failed, ev('DeployRejected', { ...ref, Reasons: ['late'] })]);
    expect(v).toMatchObject({ phase: 'Completed' });
    expect(v.reasons).toBeUndefined();
  });

  it('records a failure with its phase and reasons, and a cancel with its reason', () => {
    expect(fold([requested(), cloned, failed])).toMatchObject({ phase: 'Failed', endedInPhase: 'WaitingHealthy', reasons: ['Only 0 of 2 instances became healthy'] });
    const cancelled = fold([
      requested(),
      cloned,
      healthy,
      ev('RollbackStarted', { ...ref, Seq: 2, Cause: 'cancel', Reason: 'wrong build', FromPhase: 'Shifting' }),
      ev('TrafficRestored', { ...ref, Seq: 3, RestoredRuleArns: ['rule-1'], DeletedRuleArns: [], DrainSeconds: 15 }),
      ev('DeployCancelled', { ...ref, Seq: 4, Reason: 'wrong build', FromPhase: 'Shifting', DurationSeconds: 9 }),
    ]);
    expect(cancelled).toMatchObject({ phase: 'Cancelled', endedInPhase: 'Shifting', percent: 0, rollback: { cause: 'cancel', reason: 'wrong build' } });
  });

  it('with SkipNotifications shows nothing but a failure (a failed, rejected or stuck deploy)', () => {
    const skip = fold([requested({ SkipNotifications: true }), cloned, healthy]);
    expect(isVisible(skip)).toBe(false);
    expect(isVisible(applyEvent(skip, completed))).toBe(false);
    expect(isVisible(applyEvent(skip, failed))).toBe(true);
    expect(isVisible(applyEvent(skip, ev('DeployRejected', { ...ref, Reasons: ['no'] })))).toBe(true);
    expect(isVisible(applyEvent(skip, ev('RollbackFailed', { ...ref, Seq: 3, Errors: ['stuck'] })))).toBe(true);
    expect(isVisible(fold([requested(), cloned]))).toBe(true);
  });

  it('folds an undeploy', () => {
    const start = initialView({ kind: 'undeploy', id: 'u-1', account: 'acme-web', service: 'shop' });
    const done = applyEvent(
      start,
      ev('UndeployCompleted', { UndeployId: 'u-1', AccountCanonicalSlug: 'acme-web', ServiceName: 'shop', AsgName: 'shop-x', DeletedTargetGroupArns: ['tg'], DeletedRuleArns: ['r1', 'r2'], DurationSeconds: 3 }),
    );
    expect(done).toMatchObject({ kind: 'undeploy', phase: 'Completed', asgName: 'shop-x', deletedTargetGroups: 1, deletedRules: 2 });
  });
});

describe('Notify: whom an event is about', () => {
  it('names the conversation of each event', () => {
    expect(subjectOf(requested())).toEqual({ kind: 'deploy', id: 'd-1', account: 'acme-web', service: 'shop' });
    const noId = ev('DeployRequested', { AccountCanonicalSlug: 'acme-web', ServiceName: 'shop', AmiId: 'ami-1', DeployConfig: DeployConfig.parse({}) });
    expect(subjectOf(noId)).toMatchObject({ kind: 'deploy', id: noId.id }); // the event id becomes the deploy id
    const undeploy = ev('UndeployRequested', { AccountCanonicalSlug: 'acme-web', ServiceName: 'shop', UndeployConfig: { OnConcurrentDeploy: 'fail' } });
    expect(subjectOf(undeploy)).toEqual({ kind: 'undeploy', id: undeploy.id, account: 'acme-web', service: 'shop' });
    expect(subjectOf(ev('CancelRejected', { AccountCanonicalSlug: 'acme-web', ServiceName: 'shop', Reasons: ['nothing to cancel'] }))).toMatchObject({ kind: 'notice' });
    expect(subjectOf(ev('DeployRejected', { Reasons: ['the event detail must be a JSON object'] }))).toMatchObject({ kind: 'notice' });
    expect(subjectOf(ev('BakeElapsed', { ...ref, Seq: 3, BakeTime: 1 }))).toBeUndefined();
  });
});

describe('Notify: reading a message', () => {
  const envelope = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: 'e-1',
      'detail-type': 'TrafficShifted',
      source: 'deployomat',
      time: at(5),
      detail: { ...ref, Seq: 2, Step: 1, Steps: 2, Percent: 50 },
      ...over,
    });

  it('reads a lifecycle event', () => {
    expect(parseNotifyEvent(envelope())).toEqual({ ok: true, event: expect.objectContaining({ id: 'e-1', type: 'TrafficShifted', time: at(5) }) });
  });

  it.each([
    ['an archive replay (history must never post again)', envelope({ 'replay-name': 'rebuild' }), 'archive replay rebuild'],
    ['a lifecycle event from another source', envelope({ source: 'deployomat.client' }), 'TrafficShifted from unexpected source deployomat.client'],
    ['a detail that does not match its schema', envelope({ detail: { Percent: 'half' } }), 'TrafficShifted detail does not match its schema'],
    ['an unknown detail-type', envelope({ 'detail-type': 'Nope' }), 'unknown detail-type Nope'],
    ['something else', 'hello', 'not JSON'],
  ])('refuses %s', (_what, body, reason) => {
    expect(parseNotifyEvent(body)).toEqual({ ok: false, reason });
  });
});
