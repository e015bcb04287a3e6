import { describe, expect, it } from 'vitest';
import { DeployConfig } from '../../events/client';
import { handlers } from '../../events/topology';
import { parseNotifyEvent, type NotifyEvent } from '../../domain/notify/events';
import { applyEvent, initialView, isVisible, replyStepOf, stepKey, subjectOf, type DeployView, type View } from '../../domain/notify/view';

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
  TargetGroupArns: ['tg-new'],
}, 1);
const healthy = ev('InstancesHealthy', { ...ref, Seq: 1, Healthy: 2, Wanted: 2, WaitedSeconds: 3 }, 4);
const shifted = (step: number, percent: number, seq: number, s: number, actual = percent) =>
  ev('TrafficShifted', { ...ref, Seq: seq, Step: step, Steps: 2, Percent: percent, ActualPercent: actual, RuleWeights: [{ RuleArn: 'rule-1', NewPercent: actual }] }, s);
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

  it('with SkipNotifications still shows a cancellation, from the moment its rollback starts', () => {
    const skip = fold([requested({ SkipNotifications: true }), cloned, healthy]);
    const rolling = applyEvent(skip, ev('RollbackStarted', { ...ref, Seq: 3, Cause: 'cancel', Reason: 'wrong build', FromPhase: 'Shifting' }));
    expect(isVisible(rolling)).toBe(true);
    expect(isVisible(applyEvent(rolling, ev('DeployCancelled', { ...ref, Seq: 4, Reason: 'wrong build', FromPhase: 'Shifting', DurationSeconds: 9 })))).toBe(true);
    // A deploy cancelled before it ever started (superseded while waiting) is a cancellation too.
    expect(isVisible(applyEvent(skip, ev('DeployCancelled', { ...ref, Seq: 0, Reason: 'superseded', FromPhase: 'Waiting', DurationSeconds: 0 })))).toBe(true);
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

describe('Notify: the view of a steered rollout (pause, resume, promote, held steps)', () => {
  const fourSteps = (step: number, percent: number, seq: number, s: number, actual = percent) =>
    ev('TrafficShifted', { ...ref, Seq: seq, Step: step, Steps: 4, Percent: percent, ActualPercent: actual, RuleWeights: [{ RuleArn: 'rule-1', NewPercent: actual }] }, s);
  const paused = (seq: number, percent: number, extra: Partial<{ By: 'request' | 'PauseAtPercent'; Reason: string; RollbackAt: string }> = {}) =>
    ev('RolloutPaused', { ...ref, Seq: seq, Step: percent / 25, Percent: percent, By: 'PauseAtPercent', Reason: `PauseAtPercent ${percent} % reached`, ...extra }, 20 + seq);
  const resumed = (seq: number) => ev('RolloutResumed', { ...ref, Seq: seq, PausedSeconds: 42, Reason: 'metrics fine' }, 30 + seq);

  it('pauses where PauseAtPercent was reached, in whichever order the step and the pause of that transition arrive, and resumes', () => {
    const step = fourSteps(2, 50, 3, 8);
    const pause = paused(3, 50, { RollbackAt: '2026-01-01T12:10:00.000Z' });
    for (const order of [[step, pause], [pause, step]]) {
      const v = fold([requested(), cloned, healthy, fourSteps(1, 25, 2, 5), ...order]);
      expect(v).toMatchObject({ phase: 'Paused', percent: 50, step: 2, seq: 3, paused: { step: 2, percent: 50, by: 'PauseAtPercent', reason: 'PauseAtPercent 50 % reached', rollbackAt: '2026-01-01T12:10:00.000Z' } });
    }
    const back = fold([requested(), cloned, healthy, step, pause, resumed(4)]);
    expect(back).toMatchObject({ phase: 'Shifting', percent: 50, seq: 4 });
    expect(back.paused).toBeUndefined();
    // A late pause (an earlier position) does not pause a resumed rollout again.
    expect(applyEvent(back, { ...pause, id: 'late' } as NotifyEvent)).toBe(back);
  });

  it('resumes a pause during the bake into the bake', () => {
    const v = fold([requested(), cloned, healthy, fourSteps(4, 100, 2, 5), paused(3, 100, { By: 'request', Reason: 'look at metrics' }), resumed(4)]);
    expect(v).toMatchObject({ phase: 'Baking', percent: 100 });
  });

  it('promotes a paused rollout: no more pause, the last step next', () => {
    const promoted = ev('RolloutPromoted', { ...ref, Seq: 4, FromPhase: 'Paused', FromPercent: 50, Reason: 'ship it' }, 40);
    const v = fold([requested(), cloned, healthy, fourSteps(2, 50, 3, 8), paused(3, 50), promoted]);
    expect(v).toMatchObject({ phase: 'Shifting', promoted: { fromPhase: 'Paused', fromPercent: 50, reason: 'ship it' } });
    expect(v.paused).toBeUndefined();
    expect(fold([requested(), cloned, healthy, fourSteps(2, 50, 3, 8), paused(3, 50), promoted, fourSteps(4, 100, 5, 41)])).toMatchObject({ phase: 'Baking', percent: 100 });
  });

  it('shows a step held for capacity until it goes, and what the load balancer reported when it differs', () => {
    const held = (seq: number, healthyNow: number, s: number) =>
      ev('TrafficShiftHeld', { ...ref, Seq: seq, Step: 2, Percent: 50, Healthy: healthyNow, Needed: 2, HeldSeconds: s - 6 }, s);
    const v = fold([requested(), cloned, healthy, fourSteps(1, 25, 2, 5), held(3, 0, 6), held(4, 1, 8)]);
    expect(v).toMatchObject({ phase: 'Shifting', percent: 25, held: { step: 2, percent: 50, healthy: 1, needed: 2, heldSeconds: 2 } });
    const went = applyEvent(v, fourSteps(2, 50, 5, 9, 49));
    expect(went).toMatchObject({ phase: 'Shifting', percent: 50, actualPercent: 49 });
    expect((went as DeployView).held).toBeUndefined();
    expect((applyEvent(went, fourSteps(3, 75, 6, 10)) as DeployView).actualPercent).toBeUndefined();
  });

  it('posts one thread reply per held step, however often it is retried', () => {
    const held = (seq: number) => ev('TrafficShiftHeld', { ...ref, Seq: seq, Step: 3, Percent: 75, Healthy: 1, Needed: 3, HeldSeconds: seq }, seq);
    expect(stepKey(held(4))).not.toBe(stepKey(held(5))); // each retry updates the message...
    expect(replyStepOf(held(4))).toBe(replyStepOf(held(5))); // ...but replies once
    expect(replyStepOf(cloned)).toBe(stepKey(cloned));
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

  it('keeps a dry run out of the conversations: its plan is one notice, and so is a rejected pause/resume/promote', () => {
    expect(subjectOf(requested({ DryRun: true }))).toBeUndefined();
    expect(subjectOf(ev('DeployPlanned', { ...ref, AmiId: 'ami-1' } as never))).toMatchObject({ kind: 'notice' });
    expect(subjectOf(ev('RolloutCommandRejected', { Command: 'ResumeRequested', ...ref, Reasons: ['not paused'] }))).toMatchObject({ kind: 'notice' });
    expect(subjectOf(ev('DeployRejected', { ...ref, Reasons: ['no exemplar'], DryRun: true }))).toMatchObject({ kind: 'notice' });
    expect(subjectOf(ev('DeployRejected', { ...ref, Reasons: ['no exemplar'] }))).toMatchObject({ kind: 'deploy' });
    for (const type of ['RolloutPaused', 'RolloutResumed', 'RolloutPromoted', 'TrafficShiftHeld'] as const) {
      expect(subjectOf(ev(type, { ...ref, Seq: 3 } as never))).toEqual({ kind: 'deploy', id: 'd-1', account: 'acme-web', service: 'shop' });
    }
  });

  it('posts nothing for a dry run turned away by the dry-run limit (a flood of them would flood the channel)', () => {
    expect(subjectOf(ev('DeployRejected', { ...ref, Reasons: ['Too many dry runs: …'], DryRun: true, RetryAt: '2026-01-01T12:00:10.000Z' }))).toBeUndefined();
  });

  it('is subscribed (events/topology.ts, notify-slack) to every event it posts about', () => {
    const spec = handlers.find((h) => h.name === 'notify-slack')!;
    const subscribed = spec.trigger.kind === 'events' ? spec.trigger.subscriptions.flatMap((x) => x.detailTypes) : [];
    expect(subscribed).toEqual(
      expect.arrayContaining(['TrafficShiftHeld', 'RolloutPaused', 'RolloutResumed', 'RolloutPromoted', 'RolloutCommandRejected', 'DeployPlanned', 'Deployomat Update']),
    );
    expect(spec.trigger.kind === 'events' && spec.trigger.subscriptions.find((x) => x.detailTypes.includes('Deployomat Update'))?.source).toBe('omat.deploy.update');
  });
});

describe('Notify: progress updates (the original\'s custom update events)', () => {
  const update = (id: string, lines: string[]) => ({ id, time: at(7), type: 'Deployomat Update', detail: { ...ref, Updates: lines } }) as NotifyEvent;

  it("goes into the deploy's conversation, one thread reply per update published, without moving the deploy", () => {
    // Prepare
    const shifting = fold([requested(), cloned, healthy, shifted(1, 50, 2, 5)]);

    // Act
    const once = applyEvent(shifting, update('u-1', ['smoke tests passed']));
    const again = applyEvent(once, update('u-1', ['smoke tests passed']));
    const another = applyEvent(again, update('u-2', ['p99 steady']));

    // Assess
    expect(subjectOf(update('u-1', ['x']))).toEqual({ kind: 'deploy', id: 'd-1', account: 'acme-web', service: 'shop' });
    expect([stepKey(update('u-1', ['x'])), replyStepOf(update('u-2', ['x']))]).toEqual(['Deployomat Update#u-1', 'Deployomat Update#u-2']);
    expect(again).toBe(once); // a redelivery of the same update changes nothing
    expect(another).toMatchObject({ phase: 'Shifting', percent: 50, seq: shifting.seq });
    expect(another.applied.filter((k) => k.startsWith('Deployomat Update'))).toEqual(['Deployomat Update#u-1', 'Deployomat Update#u-2']);
  });

  it('is read from its own source only, with a valid detail', () => {
    const body = (over: Record<string, unknown> = {}) =>
      JSON.stringify({ id: 'u-1', 'detail-type': 'Deployomat Update', source: 'omat.deploy.update', time: at(7), detail: { ...ref, Updates: ['smoke tests passed'] }, ...over });

    expect(parseNotifyEvent(body())).toEqual({ ok: true, event: { id: 'u-1', time: at(7), type: 'Deployomat Update', detail: { ...ref, Updates: ['smoke tests passed'] } } });
    expect(parseNotifyEvent(body({ source: 'deployomat' }))).toEqual({ ok: false, reason: 'Deployomat Update from unexpected source deployomat' });
    for (const detail of [{ ...ref, Updates: [] }, { ...ref, Updates: ['line\u202Eevil'] }, { ...ref, Updates: ['x'.repeat(501)] }, { AccountCanonicalSlug: 'acme-web', ServiceName: 'shop', Updates: ['no deploy id'] }, { ...ref, Updates: ['ok'], Extra: 1 }]) {
      expect(parseNotifyEvent(body({ detail })), JSON.stringify(detail)).toEqual({ ok: false, reason: 'Deployomat Update detail does not match its schema' });
    }
  });
});

describe('Notify: reading a message', () => {
  const envelope = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: 'e-1',
      'detail-type': 'TrafficShifted',
      source: 'deployomat',
      time: at(5),
      detail: { ...ref, Seq: 2, Step: 1, Steps: 2, Percent: 50, ActualPercent: 50, RuleWeights: [] },
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
