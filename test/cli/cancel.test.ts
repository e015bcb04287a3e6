import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { cli, globals, start } from './run-cli';

describe('deployomat status, watch, cancel, undeploy (CLI on the emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  const slug = 'acme-ops';
  const service = 'api';
  const key = ['--account', slug, '--service', service];

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    svc = await seedService(t.account, { service, web: true, amis: ['api-v1', 'api-v2'] });
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: svc.amis['api-v1'], DeployId: 'api-1', DeployConfig: FAST });
    expect((await t.observer.outcome('api-1', 30_000)).detailType).toBe('DeployCompleted');
  });
  afterAll(async () => t?.stop());

  it('shows the production ASG and the live weights mid-shift; watch and cancel --wait follow the rollback', async () => {
    const started = await cli([...globals(t), 'deploy', ...key, '--ami', svc.amis['api-v2']!, '--traffic-shift-per-step', '25', '--wait-per-step', '8', '--bake-time', '1']);
    expect(started.code, started.stderr).toBe(0);
    const deployId = started.stdout.trim();
    expect(deployId).toMatch(/^api-\d{8}T\d{6}-\w{4}$/);
    expect(started.stderr).toContain(`deployomat watch ${deployId}`);
    const shifted = await t.observer.waitFor((e) => e.detail.DeployId === deployId && e.detailType === 'TrafficShifted', 30_000);
    const cloned = t.observer.of(deployId).find((e) => e.detailType === 'AsgCloned')!;
    const production = String(cloned.detail.ProductionAsgName);
    expect(shifted.detail.Percent).toBe(25);

    const st = await cli([...globals(t), 'status', '--account', slug]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain(`${slug}/${service}`);
    expect(st.stdout).toMatch(new RegExp(`phase\\s+Shifting \\(deploy ${deployId}`));
    expect(st.stdout).toMatch(new RegExp(`production\\s+${production}`));
    expect(st.stdout).toMatch(new RegExp(`deploying\\s+${cloned.detail.AsgName}`));
    // Target group names are <service>-<timestamp>, like the ASGs.
    expect(st.stdout).toMatch(new RegExp(`traffic\\s+rule 10 on listener/app/.*: ${production} 75 %, ${cloned.detail.AsgName} 25 %`));

    const watching = start([...globals(t), 'watch', deployId, ...key]);
    await watching.until(/now Shifting/); // subscribed, ledger read
    const cancelled = await cli([...globals(t), 'cancel', ...key, '--reason', 'bad metrics', '--wait']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`cancel of deploy ${deployId} (Shifting) requested`);
    expect(cancelled.stdout).toContain('cancelled (was Shifting)');
    expect(cancelled.stdout).toContain('bad metrics');

    const watched = await watching.done;
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(new RegExp(`deploy ${deployId} of .*: now Shifting`));
    expect(watched.stdout).toContain('rolling back (cancel, was Shifting): bad metrics');
    expect(watched.stderr).toContain(`deploy ${deployId} was cancelled (rolled back):`);

    const after = await cli([...globals(t), 'status', ...key]);
    expect(after.stdout).toMatch(/phase\s+Cancelled/);
    expect(after.stdout).toMatch(new RegExp(`traffic\\s+rule 10 on .*: ${production} 100 %$`, 'm'));
  });

  it('watch of a finished deploy prints its result at once', async () => {
    const r = await cli([...globals(t), 'watch', 'api-1', ...key]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('deploy api-1 already ended: Completed');
  });

  it('cancel --wait exits 1 when nothing is deploying', async () => {
    const r = await cli([...globals(t), 'cancel', ...key, '--wait']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`No deployment of ${service} in ${slug} active`);
  });

  it('undeploy --wait removes the service; status then shows it undeployed', async () => {
    const r = await cli([...globals(t), 'undeploy', ...key, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/undeployed api-\d{8}T\d{6}Z in/);
    const again = await cli([...globals(t), 'undeploy', ...key, '--wait']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Nothing to undeploy');
    const st = await cli([...globals(t), 'status', ...key]);
    expect(st.stdout).toMatch(/phase\s+Undeployed/);
    expect(st.stdout).toMatch(/production\s+-/);
  });
});
