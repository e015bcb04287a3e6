import { describe, expect, it } from 'vitest';
import type { FollowEvent } from '../../cli/follow';
import { DeployView, Renderer } from '../../cli/render';

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
