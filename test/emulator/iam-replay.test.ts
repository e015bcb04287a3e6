import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_ROLE_ARN, META_ROLE_ARN, seedAlarm, seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { IamCallLog } from '../helpers/iam-calls';
import { replay } from '../helpers/iam-replay';
import { cli, globals } from '../cli/run-cli';

/**
 * Issue #13, part 2: IAM proven from the calls the code makes. The core scenarios run on the
 * emulator (which ignores IAM) while every AWS call of the handlers — and those AWS makes with
 * their roles: the event source mappings' receives and deletes, Scheduler's deliveries — is
 * recorded; each is then replayed, as the IAM requests AWS authorizes for it (implicit ones
 * included: test/helpers/iam-requests.ts), through the IAM simulator against the synthesized
 * policies of the role that makes it in AWS. Any deny fails. So do the CLI's calls, against the
 * DeployerRole: every one allowed but those the README says the deployer does not get.
 */
describe('IAM replay of the calls the handlers make (emulator + IAM simulator)', () => {
  const slug = 'acme-iam';
  let t: TestDeployomat;
  let log: IamCallLog;
  let web: SeededService;
  let worker: SeededService;

  beforeAll(async () => {
    log = IamCallLog.start({ [DEPLOY_ROLE_ARN]: 'deploy', [META_ROLE_ARN]: 'meta' });
    t = await startTestDeployomat({ slug });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2', 'web-v3'] });
    worker = await seedService(t.account, { service: 'worker', web: false, amis: ['worker-v1'] });
    await seedAlarm('web-5xx');
  });
  afterAll(async () => {
    log?.stop();
    await t?.stop();
  });

  const deploy = async (svc: SeededService, ami: string, deployId: string, config: Record<string, unknown> = FAST) => {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: svc.service, AmiId: svc.amis[ami]!, DeployId: deployId, DeployConfig: config });
    return t.observer.outcome(deployId, 90_000);
  };

  it('runs the core scenarios, then finds every recorded call allowed by the role that makes it in AWS', async () => {
    // Prepare: a first deploy, a blue/green one with alarms and an automatic undeploy, one
    // cancelled mid-shift, a non-web one, a dry run, an undeploy (the last three with the CLI).
    expect((await deploy(web, 'web-v1', 'iam-1')).detailType).toBe('DeployCompleted');
    expect((await deploy(web, 'web-v2', 'iam-2', { ...FAST, RollbackAlarms: ['web-5xx'], AutomaticUndeployMinutes: 60 })).detailType).toBe('DeployCompleted');
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v3'], DeployId: 'iam-3', DeployConfig: { ...FAST, WaitPerStep: 30 } });
    await t.observer.waitFor((e) => e.detailType === 'TrafficShifted' && e.detail.DeployId === 'iam-3', 60_000);
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', Reason: 'replay' });
    expect((await t.observer.outcome('iam-3', 60_000)).detailType).toBe('DeployCancelled');
    expect((await deploy(worker, 'worker-v1', 'iam-4')).detailType).toBe('DeployCompleted');
    // The CLI, as a deployer uses it: a deploy followed to the end, a dry run, status, history, an undeploy.
    const key = ['--account', slug, '--service'];
    const wait = await cli([...globals(t), 'deploy', ...key, 'worker', '--ami', worker.amis['worker-v1']!, '--deploy-id', 'iam-6', '--wait-per-step', '1', '--bake-time', '1', '--wait']);
    expect(wait.code, wait.stderr).toBe(0);
    const dry = await cli([...globals(t), 'deploy', ...key, 'web', '--ami', web.amis['web-v3']!, '--deploy-id', 'iam-5', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const status = await cli([...globals(t), 'status', ...key, 'web']);
    expect(status.code, status.stderr).toBe(0);
    expect((await cli([...globals(t), 'history', ...key, 'web'])).stdout).toContain('iam-2');
    expect((await cli([...globals(t), 'undeploy', ...key, 'worker', '--wait'])).code).toBe(0);
    // An operator's command the deployer does not get (README): its calls are replayed as denied.
    expect((await cli([...globals(t), 'replay', '--from', new Date(Date.now() - 60_000).toISOString()])).code).toBe(0);
    log.stop();

    // Act
    const { denied, grantedAfterAll, rows } = await replay(log.calls.filter((c) => c.ok), t.local.install.schedulerRoleArn);

    // Assess
    expect(log.calls.length).toBeGreaterThan(200);
    // Each role's calls were seen (the handlers' own, their sessions in the workload and meta
    // accounts, the CLI's; the scheduler's only with a timer over 15 minutes: test/emulator/timers.test.ts).
    expect([...new Set(log.calls.map((c) => c.principal))].sort()).toEqual(expect.arrayContaining(['deploy', 'deployer', 'handlers', 'meta']));
    expect(denied).toEqual([]);
    // status tried the workload role for the live weights, and replay ran: the deployer is granted
    // neither, as the README says (DEPLOYER_NOT_GRANTED), and the replay finds both denied.
    expect(log.calls.filter((c) => c.principal === 'deployer' && ['AssumeRole', 'StartReplay'].includes(c.operation)).map((c) => c.operation).sort()).toEqual(['AssumeRole', 'StartReplay']);
    expect(grantedAfterAll).toEqual([]);
    // docs/INFRA.md's permission table lists every one (DEPLOYOMAT_UPDATE_DOCS=1 rewrites it from this run).
    const doc = readFileSync(INFRA_DOC, 'utf8');
    const [before, rest] = doc.split(TABLE_START);
    const [, after] = (rest ?? '').split(TABLE_END);
    if (process.env.DEPLOYOMAT_UPDATE_DOCS === '1') {
      const table = ['| role | call | IAM action | why |', '|---|---|---|---|', ...[...rows].sort()].join('\n');
      writeFileSync(INFRA_DOC, `${before}${TABLE_START}\n${table}\n${TABLE_END}${after ?? '\n'}`);
    }
    const documented = new Set(readFileSync(INFRA_DOC, 'utf8').split('\n'));
    expect([...rows].filter((r) => !documented.has(r)), 'rows missing from docs/INFRA.md: run with DEPLOYOMAT_UPDATE_DOCS=1').toEqual([]);
  });

  it('catches a removed statement: without TagWhatAutoScalingLaunches, the tags Auto Scaling puts on what it launches are denied', async () => {
    // Act: the same calls, against the DeployAccessRole as it was before the replay found the gap.
    const { denied } = await replay(log.calls.filter((c) => c.ok), t.local.install.schedulerRoleArn, { withoutStatement: 'TagWhatAutoScalingLaunches' });

    // Assess
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.filter((d) => !/^deploy .*:CreateAutoScalingGroup → ec2:CreateTags /.test(d))).toEqual([]);
  });

  it("catches a removed statement of the DeployerRole: without TargetOwnTemporaryQueue, the CLI's --wait cannot feed its queue", async () => {
    // Act
    const { denied } = await replay(log.calls.filter((c) => c.ok), t.local.install.schedulerRoleArn, { withoutStatement: 'TargetOwnTemporaryQueue' });

    // Assess
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.filter((d) => !/^deployer EventBridge:PutTargets → events:PutTargets /.test(d))).toEqual([]);
  });

  it("catches a DeployerRole granted what the README says it does not get (an operator's replay)", async () => {
    // Act: the same calls, the deployer also allowed to replay the archive.
    const statement = { Effect: 'Allow', Action: ['events:DescribeEventBus', 'events:DescribeArchive', 'events:StartReplay', 'events:DescribeReplay'], Resource: '*' };
    const { grantedAfterAll, denied } = await replay(log.calls.filter((c) => c.ok), t.local.install.schedulerRoleArn, { extraStatement: { role: 'deployer', statement } });

    // Assess
    expect(denied).toEqual([]);
    expect(grantedAfterAll.map((g) => g.split(' → ')[1]!.split(' ')[0]).sort()).toEqual(['events:DescribeArchive', 'events:DescribeEventBus', 'events:DescribeReplay', 'events:StartReplay']);
  });

});

const INFRA_DOC = new URL('../../docs/INFRA.md', import.meta.url);
const TABLE_START = '<!-- permission table: generated by test/emulator/iam-replay.test.ts -->';
const TABLE_END = '<!-- end of permission table -->';
