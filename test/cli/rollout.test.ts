import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAlarm, seedService, type SeededService } from '../../infra/local/seed';
import { startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { cli, globals, percentages, start } from './run-cli';

describe('deployomat pause, resume, promote, deploy --dry-run (CLI on the emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  let till: SeededService;
  const slug = 'acme-steer';
  const service = 'cart';
  const key = ['--account', slug, '--service', service];
  const fast = ['--wait-per-step', '1', '--health-timeout', '30'];

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    svc = await seedService(t.account, { service, web: true, amis: ['cart-v1', 'cart-v2'] });
    till = await seedService(t.account, { service: 'till', web: true, priority: 20, amis: ['till-v1'] });
    await seedAlarm('cart-5xx');
  });
  afterAll(async () => t?.stop());

  it('pauses a first deploy during its bake, refuses a second pause, and promote ends the bake at once', async () => {
    const deploying = start([...globals(t), 'deploy', ...key, '--ami', svc.amis['cart-v1']!, ...fast, '--bake-time', '300', '--deploy-id', 'cart-1', '--wait']);
    await deploying.until(/baking 300 s/);

    const paused = await cli([...globals(t), 'pause', ...key, '--reason', 'check the dashboards', '--wait']);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain('pause of deploy cart-1 (Baking) requested');
    // No --pause-timeout: it rolls back after the installation's maximum pause (a day).
    expect(paused.stdout).toMatch(/paused at 100 % by request: check the dashboards; rolls back at \d\d:\d\d:\d\dZ unless resumed or promoted/);
    expect(paused.stderr).toContain(`Continue with: deployomat resume --account ${slug} --service ${service}`);

    const st = await cli([...globals(t), 'status', ...key]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/phase\s+Paused \(deploy cart-1,/);
    expect(st.stdout).toMatch(/paused\s+during the bake \(\d+ s of it left\) since \S+Z \(\d+ s ago\), by request: check the dashboards; rolls back at \S+Z unless resumed or promoted/);

    const again = await cli([...globals(t), 'pause', ...key, '--wait']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/pause rejected:\n {2}- The rollout is already paused/);

    const promoted = await cli([...globals(t), 'promote', ...key, '--deploy-id', 'cart-1', '--reason', 'looks fine', '--wait']);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toContain('promoted at 100 % (was Paused): the remaining steps and the bake are skipped (looks fine)');

    const done = await deploying.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(`continue with: deployomat resume --account ${slug} --service ${service} (or promote, or cancel)`);
    expect(done.stdout).toMatch(/Completed {6}completed in [\d.]+ s/);
  });

  it('stops at --pause-at, shows where and why in status and watch, and resume --wait lets it finish', async () => {
    const deploying = start([
      ...globals(t), 'deploy', ...key, '--ami', svc.amis['cart-v2']!, ...fast,
      '--traffic-shift-per-step', '50', '--pause-at', '50', '--pause-timeout', '600', '--bake-time', '1', '--deploy-id', 'cart-2', '--wait',
    ]);
    await deploying.until(/paused at 50 %/);

    const st = await cli([...globals(t), 'status', ...key]);
    expect(st.stdout).toMatch(/phase\s+Paused \(deploy cart-2,/);
    expect(st.stdout).toMatch(/progress\s+step 1\/2, 50 % on the new version/);
    expect(st.stdout).toMatch(/paused\s+at 50 % \(after step 1\) since \S+Z \(\d+ s ago\), by PauseAtPercent: PauseAtPercent 50 % reached; rolls back at \S+Z unless resumed or promoted/);
    expect(st.stdout).toMatch(/traffic\s+rule 10 on .*: cart-\S+ 50 %, cart-\S+ 50 %$/m);

    const watching = start([...globals(t), 'watch', 'cart-2', ...key]);
    await watching.until(/paused \d+ s \(PauseAtPercent 50 % reached\), rollback in \d+ s/);
    expect((await cli([...globals(t), 'promote', ...key, '--deploy-id', 'cart-1', '--wait'])).stderr).toContain('Deploy cart-1 is not the one running');

    const resumed = await cli([...globals(t), 'resume', ...key, '--reason', 'metrics fine', '--wait']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resume of deploy cart-2 (Paused, 50 % on the new version) requested');
    expect(resumed.stdout).toMatch(/resumed after [\d.]+ s paused: metrics fine/);
    expect(resumed.stderr).toContain(`Follow it with: deployomat watch cart-2 --account ${slug} --service ${service}`);

    const [done, watched] = await Promise.all([deploying.done, watching.done]);
    expect(done.code, done.stderr).toBe(0);
    expect(percentages(done.stdout)).toEqual([50, 100]);
    expect(done.stdout).toMatch(/Paused {9}paused at 50 % \(step 1\): PauseAtPercent 50 % reached; rolls back at \d\d:\d\d:\d\dZ unless resumed or promoted/);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(/resumed after/);
  });

  it('prints the plan of a dry run and changes nothing; a dry run that would be rejected exits 1', async () => {
    const before = await cli([...globals(t), 'history', ...key]);
    const dry = await cli([...globals(t), 'deploy', ...key, '--ami', svc.amis['cart-v1']!, '--rollback-alarm', 'cart-5xx', '--deploy-id', 'cart-dry', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const lines = dry.stdout.split('\n');
    expect(lines[0]).toBe(`dry run cart-dry: ${service} in ${slug} (development); nothing was changed. A deploy started now would:`);
    expect(dry.stdout).toMatch(/launch template {2}lt-\w+: create a new version with the AMI/);
    expect(dry.stdout).toMatch(/new ASG {10}cart-\d{8}T\d{6}Z \(min \d+, max \d+\)/);
    expect(dry.stdout).toMatch(/rules {12}shift rule 10 on listener\/app\/\S+ from cart-\S+ to the new group/);
    expect(dry.stdout).toMatch(/production {7}cart-\d{8}T\d{6}Z: replaced/);
    expect(dry.stdout).toMatch(/rollback alarms {2}cart-5xx: (OK|INSUFFICIENT_DATA)$/m);
    expect(await cli([...globals(t), 'history', ...key])).toEqual(before);

    // Another service: cart's dry-run window is still open (one per DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS).
    const tillKey = ['--account', slug, '--service', 'till'];
    const rejected = await cli([...globals(t), 'deploy', ...tillKey, '--ami', till.amis['till-v1']!, '--rollback-alarm', 'nosuch', '--dry-run']);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/dry run till-\S+ was rejected \(a deploy would be too; nothing was changed\)/);
    expect(rejected.stderr).toContain('there is no CloudWatch alarm "nosuch"');

    const limited = await cli([...globals(t), 'deploy', ...key, '--ami', svc.amis['cart-v1']!, '--dry-run']);
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(/dry run cart-\S+ was not planned:\n {2}- Too many dry runs: dry run cart-dry of cart in acme-steer was planned at \S+, .*; retry after \S+Z/);
  });

  it('resume --wait exits 1 when nothing is deploying', async () => {
    const r = await cli([...globals(t), 'resume', ...key, '--wait']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`No deployment of ${service} in ${slug} active`);
  });
});
