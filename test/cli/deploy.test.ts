import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedService, type SeededService } from '../../infra/local/seed';
import { startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { cli, globals, percentages } from './run-cli';

describe('deployomat deploy --wait, history (CLI on the emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  const slug = 'acme-cli';
  const service = 'shop';
  const fast = ['--bake-time', '1', '--wait-per-step', '1', '--health-timeout', '30'];
  const deploy = (...args: string[]) => cli([...globals(t), 'deploy', '--account', slug, '--service', service, ...args]);

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    svc = await seedService(t.account, { service, web: true, amis: ['shop-v1', 'shop-v2', 'shop-bad'], unhealthy: ['shop-bad'] });
  });
  afterAll(async () => t?.stop());

  it('follows a first deploy and a blue/green deploy to 100 % and exits 0', async () => {
    const first = await deploy('--ami', svc.amis['shop-v1']!, ...fast, '--deploy-id', 'shop-first', '--requested-by', 'alice (release 1.0)', '--wait');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('first deploy: the new rule serves');

    const second = await deploy('--ami', svc.amis['shop-v2']!, ...fast, '--traffic-shift-per-step', '25', '--wait');
    expect(second.code, second.stderr).toBe(0);
    const id = /^deploy (\S+):/m.exec(second.stdout)?.[1];
    expect(id).toMatch(/^shop-\d{8}T\d{6}-[a-z0-9]{4}$/);
    const seen = percentages(second.stdout);
    expect(seen).toEqual([...seen].sort((a, b) => a - b)); // never goes back
    expect(seen).toEqual(expect.arrayContaining([25, 50, 75]));
    expect(seen.at(-1)).toBe(100);
    expect(second.stdout).toMatch(/healthy: \d+\/\d+/);
    expect(second.stdout).toMatch(/baking 1 s/);
    expect(second.stdout).toMatch(/completed in [\d.]+ s; removed shop-/);
  });

  it('exits 1 with the reason when the new instances never become healthy', async () => {
    const r = await deploy('--ami', svc.amis['shop-bad']!, ...fast, '--health-timeout', '2', '--deploy-id', 'shop-bad-1', '--wait');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED in WaitingHealthy');
    expect(r.stderr).toContain('deploy shop-bad-1 failed (rolled back):');
    expect(r.stderr).toMatch(/healthy/i);
  });

  it('exits 1 with the reasons of a DeployRejected', async () => {
    const r = await cli([...globals(t), 'deploy', '--account', 'nope', '--service', service, '--ami', 'ami-12345678', '--wait']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('was rejected');
    expect(r.stderr).toContain('Unable to locate account information for nope');
  });

  it('lists past deploys with their results, newest first', async () => {
    const r = await cli([...globals(t), 'history', '--account', slug, '--service', service]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^DEPLOY ID\s+RESULT\s+DURATION\s+STARTED\s+FINISHED\s+AMI/);
    const rows = lines.filter((l) => /^shop-/.test(l));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^shop-bad-1\s+Failed\s+[\d.]+ s/);
    expect(rows[1]).toMatch(/^shop-\d{8}T\d{6}-\w{4}\s+Completed\s+[\d.]+ s/);
    expect(rows[1]).toContain(svc.amis['shop-v2']);
    expect(rows[2]).toMatch(/^shop-first\s+Completed/);
    // Who asked: as given, or the CLI's default (user@host, or the CI run).
    expect(r.stdout).toContain('requested by: alice (release 1.0)');
    expect(r.stdout).toMatch(/requested by: .+@.+ \(deployomat CLI\)|requested by: ci:/);
    expect(r.stdout).toMatch(/error: .*healthy/i);

    const limited = await cli([...globals(t), 'history', '--account', slug, '--service', service, '--limit', '1']);
    expect(limited.stdout.split('\n').filter((l) => /^shop-/.test(l))).toHaveLength(1);
  });

  it('says what to fix when the bus does not exist', async () => {
    const r = await cli([...globals(t), '--bus', 'nosuchbus', 'deploy', '--account', slug, '--service', service, '--ami', svc.amis['shop-v1']!]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Event bus nosuchbus not found in us-east-1; pass --bus or check the installation');
  });
});
