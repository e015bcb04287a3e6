import { describe, expect, it } from 'vitest';
import type { FollowEvent } from '../../cli/follow';
import { describe as describeStep, DeployView, Renderer, renderPlan, type Plan } from '../../cli/render';

const event = (detailType: string, detail: Record<string, unknown>): FollowEvent => ({
  id: `${detailType}-${Math.random()}`,
  detailType,
  detail: { DeployId: 'd-1', AccountCanonicalSlug: 'a', ServiceName: 's', Seq: 1, ...detail },
  time: new Date().toISOString(),
  receivedAt: Date.now(),
});

const deploy = [
  event('AsgCloned', { AmiId: 'ami-1', AsgName: 's-2', MinSize: 2, MaxSize: 4, Rollout: 'web', RuleArns: [], LaunchTemplate: {} }),
  event('HealthCheckDue', { Attempt: 1, Healthy: 1, Wanted: 2, DueAt: '' }),
  event('InstancesHealthy', { Healthy: 2, Wanted: 2, WaitedSeconds: 3 }),
  event('TrafficShifted', { Step: 1, Steps: 2, Percent: 50 }),
  event('TrafficShifted', { Step: 2, Steps: 2, Percent: 100 }),
];

function collect(isTTY: boolean) {
  let text = '';
  return { out: { isTTY, write: (s: string) => (text += s) }, text: () => text };
}

describe('CLI rendering', () => {
  it('prints one plain line per event, with the phase, when there is no TTY', () => {
    const c = collect(false);
    const r = new Renderer(c.out, new DeployView('d-1', 30));
    for (const e of deploy) r.event(e);
    const lines = c.text().trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/^\[\+\s*[\d.]+s\] /, ''))).toEqual([
      'WaitingHealthy cloned s-2 from ami-1 (min 2, max 4), rollout: web',
      'WaitingHealthy waiting for healthy instances: 1/2',
      'Shifting       healthy: 2/2 after 3 s',
      'Shifting       step 1/2 [##########..........]  50% new / 50% old',
      'Baking         step 2/2 [####################] 100% new / 0% old',
      expect.stringMatching(/^Baking {9}baking 30 s \(until \d\d:\d\d:\d\dZ\)$/),
    ]);
    expect(c.text()).not.toContain('\r');
  });

  it('redraws a status line in place on a TTY: phase, healthy x/y, traffic bar, bake countdown', () => {
    const c = collect(true);
    const view = new DeployView('d-1', 30);
    const r = new Renderer(c.out, view);
    for (const e of deploy.slice(0, 4)) r.event(e);
    expect(c.text()).toContain('\r\x1b[2Kd-1  Shifting  healthy 2/2  [##########..........]  50% new / 50% old');
    expect(c.text()).not.toContain('waiting for healthy instances'); // status only on a TTY
    r.event(deploy[4]!);
    expect(view.status()).toMatch(/^d-1 {2}Baking {2}\[#{20}\] 100% new \/ 0% old {2}bake 30 s left$/);
    expect(view.status(Date.now() + 12_000)).toMatch(/bake 18 s left$/);
    r.close();
    expect(c.text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it("marks events of another deploy of the service and keeps them out of the followed deploy's state", () => {
    const c = collect(false);
    const view = new DeployView('d-1');
    new Renderer(c.out, view).event(event('RollbackStarted', { DeployId: 'd-0', Cause: 'superseded', Reason: 'superseded by deploy d-1', FromPhase: 'Shifting' }));
    expect(c.text()).toContain('(deploy d-0) rolling back (superseded, was Shifting)');
    expect(view.phase).toBe('Requested');
  });
});

describe('CLI rendering of a rollback', () => {
  it('leaves out timers that fire after the rollback began (Deployomat drops them as stale)', () => {
    const c = collect(false);
    const r = new Renderer(c.out);
    r.event(event('RollbackStarted', { Cause: 'cancel', Reason: 'why', FromPhase: 'Shifting' }));
    r.event(event('TrafficShiftDue', { Step: 3, DueAt: '' }));
    r.event(event('DeployCancelled', { Reason: 'why', FromPhase: 'Shifting', DurationSeconds: 3 }));
    expect(c.text()).not.toContain('next traffic step');
    expect(c.text()).toContain('cancelled (was Shifting) after 3 s: why');
  });
});

describe('CLI rendering of a steered rollout', () => {
  const at = (seq: number, detailType: string, detail: Record<string, unknown>) => event(detailType, { ...detail, Seq: seq });
  const plain = (c: { text: () => string }) => c.text().trimEnd().split('\n').map((l) => l.replace(/^\[\+\s*[\d.]+s\] /, ''));
  const shifted = (seq: number, step: number, percent: number, actual = percent) =>
    at(seq, 'TrafficShifted', { Step: step, Steps: 4, Percent: percent, ActualPercent: actual, RuleWeights: [{ RuleArn: 'arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/lb/1/2/r1', NewPercent: actual }] });
  const cloned = at(0, 'AsgCloned', { AmiId: 'ami-1', AsgName: 's-2', MinSize: 4, MaxSize: 4, Rollout: 'web', RuleArns: [], LaunchTemplate: {} });

  it('shows a pause (where, why, until when), drops the timer it made stale, and resumes where it was', () => {
    const c = collect(false);
    const view = new DeployView('d-1', 30);
    const r = new Renderer(c.out, view);
    const rollbackAt = new Date(Date.now() + 60_000).toISOString();
    for (const e of [cloned, shifted(1, 1, 25), at(2, 'RolloutPaused', { Step: 1, Percent: 25, By: 'request', Reason: 'check the graphs', RollbackAt: rollbackAt })]) r.event(e);
    expect(view.phase).toBe('Paused');
    expect(view.status()).toMatch(/^d-1 {2}Paused {2}\[#####\.{15}\] {2}25% new \/ 75% old {2}paused \d+ s \(by request: check the graphs\), rollback in (59|60) s$/);
    r.event(at(1, 'TrafficShiftDue', { Step: 2 })); // the step timer of before the pause: stale
    r.event(at(3, 'RolloutResumed', { PausedSeconds: 12.5, Reason: 'fine' }));
    expect(view.phase).toBe('Shifting');
    expect(view.paused).toBeUndefined();
    expect(plain(c).slice(2)).toEqual([
      `Paused         paused at 25 % (step 1) by request: check the graphs; rolls back at ${rollbackAt.slice(11, 19)}Z unless resumed or promoted`,
      'Shifting       resumed after 12.5 s paused: fine',
    ]);
  });

  it("names the limit a pause ran out of: its PauseTimeout, or the installation's maximum pause", () => {
    expect(describeStep(event('PauseTimeoutDue', { PauseTimeout: 600 }))).toBe('paused for PauseTimeout (600 s) without resume or promote');
    expect(describeStep(event('PauseTimeoutDue', { PauseTimeout: 86400, Limit: 'MaxPause' }))).toBe(
      "paused for the installation's maximum pause (86400 s) without resume or promote",
    );
  });

  it('keeps the pause when the step that reached PauseAtPercent arrives after it (one transition, one Seq)', () => {
    const view = new DeployView('d-1', 30);
    const r = new Renderer(collect(false).out, view);
    for (const e of [cloned, shifted(1, 1, 25), at(2, 'RolloutPaused', { Step: 2, Percent: 50, By: 'PauseAtPercent', Reason: 'PauseAtPercent 50 % reached' }), shifted(2, 2, 50)]) r.event(e);
    expect(view.phase).toBe('Paused');
    expect(view.percent).toBe(50);
    expect(view.status()).toMatch(/paused \d+ s \(PauseAtPercent 50 % reached\), until resumed$/);
  });

  it('pauses the bake countdown and resumes it; a promote skips the bake', () => {
    const view = new DeployView('d-1', 30);
    const c = collect(false);
    const r = new Renderer(c.out, view);
    for (const e of [cloned, shifted(1, 4, 100)]) r.event(e);
    const bakeLeft = view.bakeUntil! - Date.now();
    r.event(at(2, 'RolloutPaused', { Step: 4, Percent: 100, By: 'request', Reason: 'wait' }));
    expect(view.bakeUntil).toBeUndefined();
    r.event(at(3, 'RolloutResumed', { PausedSeconds: 3 }));
    expect(view.phase).toBe('Baking');
    expect(Math.abs(view.bakeUntil! - Date.now() - bakeLeft)).toBeLessThan(1000);
    expect(c.text()).toMatch(/Baking {9}baking (29|30) s more \(until \d\d:\d\d:\d\dZ\)/);

    const promoted = new DeployView('d-2', 30);
    const p = new Renderer(collect(false).out, promoted);
    for (const e of [cloned, shifted(1, 1, 25)].map((e) => ({ ...e, detail: { ...e.detail, DeployId: 'd-2' } }))) p.event(e);
    p.event({ ...at(2, 'RolloutPromoted', { FromPhase: 'Shifting', FromPercent: 25 }), detail: { DeployId: 'd-2', Seq: 2, FromPhase: 'Shifting', FromPercent: 25 } });
    expect(promoted.apply({ ...shifted(3, 4, 100), detail: { ...shifted(3, 4, 100).detail, DeployId: 'd-2' } })).toBe('promoted: no bake');
    expect(promoted.bakeUntil).toBeUndefined();
  });

  it('shows a step held for capacity, and the weight the ALB reports when it is not the configured one', () => {
    const c = collect(false);
    const view = new DeployView('d-1');
    const r = new Renderer(c.out, view);
    for (const e of [cloned, shifted(1, 1, 25), at(2, 'TrafficShiftHeld', { Step: 3, Percent: 60, Healthy: 2, Needed: 4, HeldSeconds: 12 })]) r.event(e);
    expect(view.status()).toBe('d-1  Shifting  [#####...............]  25% new / 75% old  holding step 3 (60 %): 2/4 healthy targets, 12 s');
    r.event(shifted(3, 3, 60, 55));
    expect(view.held).toBeUndefined();
    expect(view.status()).toContain('60% new / 40% old (ALB: 55%)');
    expect(plain(c).slice(2)).toEqual([
      'Shifting       holding step 3 (60 %): 2/4 healthy targets, 12 s',
      'Shifting       step 3/4 [############........]  60% new / 40% old; the ALB reports 55 % new (configured 60 %): listener-rule/app/lb/1/2/r1 55 %',
    ]);
  });

  it('lays out a dry run plan', () => {
    const arn = (what: string) => `arn:aws:elasticloadbalancing:us-east-1:222222222222:${what}`;
    const plan: Plan = {
      DeployId: 'shop-dry',
      AccountCanonicalSlug: 'acme',
      ServiceName: 'shop',
      AmiId: '$name-prefix:shop-',
      ResolvedAmiId: 'ami-2',
      Environment: 'development',
      LaunchTemplate: { LaunchTemplateId: 'lt-1', Action: 'reuse', Version: 3 },
      AsgName: 'shop-20260101T120000Z',
      MinSize: 2,
      MaxSize: 4,
      TargetGroups: [{ Template: arn('targetgroup/shop-template/abc'), Name: 'shop-20260101T120000Z' }],
      Rules: [
        { ListenerArn: arn('listener/app/acme/1/2'), ExemplarRuleArn: arn('listener-rule/app/acme/1/2/3'), Priority: 10, Action: 'shift', ProductionTargetGroupArn: arn('targetgroup/shop-old/def') },
        { ListenerArn: arn('listener/app/acme/1/9'), ExemplarRuleArn: arn('listener-rule/app/acme/1/9/3'), Priority: 10, Action: 'create' },
      ],
      Rollout: 'web',
      Steps: 4,
      ProductionAsgName: 'shop-old',
      ProductionTargetGroupArns: [arn('targetgroup/shop-old/def')],
      ProductionMinSizeDuringDeploy: 2,
      RollbackAlarms: [
        { Name: 'shop-5xx', State: 'OK' },
        { Name: 'shop-latency', State: 'INSUFFICIENT_DATA' },
      ],
      AllowUndeploy: false,
      Warnings: ['Deploy shop-1 is running (Shifting): with OnConcurrentDeploy "rollback" this deploy would roll it back first, then start'],
    };
    expect(renderPlan(plan)).toEqual([
      'dry run shop-dry: shop in acme (development); nothing was changed. A deploy started now would:',
      '  AMI              ami-2 (requested $name-prefix:shop-)',
      '  launch template  lt-1: reuse version 3',
      '  new ASG          shop-20260101T120000Z (min 2, max 4)',
      '  target groups    shop-20260101T120000Z (clone of shop-template)',
      '  rules            shift rule 10 on listener/app/acme/1/2 from shop-old to the new group',
      '                   create rule 10 on listener/app/acme/1/9 from the exemplar listener-rule/app/acme/1/9/3',
      '  rollout          blue/green: traffic moves to the new group in 4 step(s), then the bake',
      '  production       shop-old: replaced (deleted after the bake); its min size is held at 2 meanwhile',
      '                   with target group(s) shop-old',
      '  rollback alarms  shop-5xx: OK',
      '                   shop-latency: INSUFFICIENT_DATA',
      '  undeploy         not allowed afterwards',
      'warnings:',
      '  - Deploy shop-1 is running (Shifting): with OnConcurrentDeploy "rollback" this deploy would roll it back first, then start',
    ]);
  });
});
