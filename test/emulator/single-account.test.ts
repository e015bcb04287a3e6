import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeRulesCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SOURCE } from '../../events/client';
import { startEmulator, type Emulator } from '../../infra/local/emulator';
import { useEndpoint } from '../../infra/local/endpoint';
import { seedAccount, seedService, SINGLE_ACCOUNT, workloadClients, type SeededAccount, type SeededService } from '../../infra/local/seed';

/**
 * Issue #14, item 4: the single-account setup the original's README allows — the registry, the
 * workload role and the services all in the account Deployomat runs in — through `npm run local
 * -- --endpoint … --no-seed`, as a user with their own setup runs it (no meta role configured).
 */
describe('Single account through npm run local --no-seed (emulator)', () => {
  const REPO = fileURLToPath(new URL('../../', import.meta.url));
  let emulator: Emulator;
  let local: ChildProcess;
  let output = '';
  let account: SeededAccount;
  let web: SeededService;
  const events = () => new EventBridgeClient({});
  const key = { AccountCanonicalSlug: 'solo', ServiceName: 'web' };

  /** Waits for `npm run local`'s printed event line (`<time>  <deploy id>  <detail type> …`). */
  const printed = async (pattern: RegExp, timeoutMs = 60_000) => {
    for (const deadline = Date.now() + timeoutMs; !pattern.test(output); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > deadline) throw new Error(`npm run local never printed ${pattern}:\n${output}`);
    }
  };
  const send = async (detailType: string, detail: Record<string, unknown>) => {
    const out = await events().send(new PutEventsCommand({ Entries: [{ EventBusName: 'deployomat', Source: CLIENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }] }));
    return out.Entries![0]!.EventId!;
  };

  beforeAll(async () => {
    emulator = await startEmulator({ initialHealthSeconds: 1 });
    useEndpoint(emulator.endpoint);
    // The user's own setup, all in one account: registry, role, network, service.
    account = await seedAccount({ slug: 'solo', layout: SINGLE_ACCOUNT });
    web = await seedService(account, { service: 'web', web: true, amis: ['web-v01', 'web-v02', 'web-v03'] });
    local = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts', '--endpoint', emulator.endpoint, '--no-seed'], {
      cwd: REPO,
      // Only what a user's shell has: no meta role from the test's own environment.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DEPLOYOMAT_META_ROLE_ARN')), POWERTOOLS_LOG_LEVEL: 'ERROR' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    local.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    local.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await printed(/Deployomat is running locally/);
  });
  afterAll(async () => {
    local?.kill('SIGTERM');
    await new Promise((r) => (local?.exitCode !== null ? r(undefined) : local.once('exit', r)));
    await emulator?.stop();
  });

  it('says where it reads the registry: this account, no meta role', () => {
    expect(output).toMatch(/registry +in 123456789012 \(no meta role\)/);
  });

  it('deploys, cancels a deploy mid-shift and undeploys a service of that account', async () => {
    // Act: a first deploy
    await send('DeployRequested', { ...key, AmiId: web.amis['web-v01'], DeployId: 'solo-1', DeployConfig: { BakeTime: 1, WaitPerStep: 1, TrafficShiftPerStep: 50 } });
    await printed(/solo-1\s+DeployCompleted/);
    // a second, cancelled while it shifts traffic
    await send('DeployRequested', { ...key, AmiId: web.amis['web-v02'], DeployId: 'solo-2', DeployConfig: { BakeTime: 1, WaitPerStep: 30, TrafficShiftPerStep: 10 } });
    await printed(/solo-2\s+TrafficShifted/);
    await send('CancelRequested', { ...key, Reason: 'single account' });
    await printed(/solo-2\s+DeployCancelled/);
    // and the undeploy
    await send('UndeployRequested', key);
    await printed(/UndeployCompleted/);

    // Assess
    expect(output).not.toMatch(/Unable to locate account information/);
    // Undeployed: in that one account, the setup is all that is left (template ASG and group, exemplar rule).
    const { autoscaling, elb } = await workloadClients(SINGLE_ACCOUNT);
    const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
    expect(groups.map((g) => g.AutoScalingGroupName)).toEqual(['web-template']);
    const tgs = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    expect(tgs.map((g) => g.TargetGroupArn)).toEqual([web.templateTargetGroupArn]);
    const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: account.listenerArn }))).Rules ?? [];
    expect(rules.filter((r) => !r.IsDefault).map((r) => r.RuleArn)).toEqual([web.exemplarRuleArn]);
  });
});
