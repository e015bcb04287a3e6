/**
 * `npm run demo`: real deploys on the local emulator, start to finish.
 * Starts moto + the local runtime, seeds a meta account (SSM registry) and a workload account
 * (VPC, ALB, listener, template target group, exemplar rule, launch template, template ASG,
 * AMIs), then: deploys v1 (first deploy), v2 (blue/green, step by step), v3-bad (its instances
 * never become healthy: rolled back automatically), and v3 (cancelled mid-shift). Prints what is
 * left in AWS: production must still serve 100 % from v2, with nothing else left behind.
 * Exits non-zero if any deploy ends otherwise or anything is left behind.
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeRulesCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { forwardTargets } from '../../domain/aws/listener-rules';
import { CLIENT_SOURCE } from '../../events/client';
import { startEmulator } from './emulator';
import { startLocal } from './local-env';
import { Observer } from './observer';
import { findLeftovers } from './leftovers';
import { describeEvent } from './progress';
import { META_ROLE_ARN, seedAccount, seedService, workloadClients } from './seed';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const HEALTH_WARMUP_SECONDS = 3;
const SLUG = 'acme-workload-dev';
const SERVICE = 'storefront';
const CONFIG = { TrafficShiftPerStep: 20, WaitPerStep: 3, BakeTime: 5, HealthTimeout: 60 };
const DRAIN_SECONDS = 2;

const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (line: string) => console.log(`${clock()}  ${line}`);

const emulator = await startEmulator({ initialHealthSeconds: HEALTH_WARMUP_SECONDS });
const local = await startLocal({
  endpoint: emulator.endpoint,
  env: { DEPLOYOMAT_META_ROLE_ARN: META_ROLE_ARN, DEPLOYOMAT_HEALTH_CHECK_INTERVAL: '1', DEPLOYOMAT_DRAIN_SECONDS: String(DRAIN_SECONDS) },
});
let failures = 0;
try {
  say(`emulator ${local.endpoint}; bus ${local.install.busName}; handlers polling ${Object.keys(local.install.queueUrls).length} queues`);
  const observer = await Observer.start(local.install.busName);
  observer.onEvent((e) => say(`  ${String(e.detail.DeployId ?? '').padEnd(14)} ${describeEvent(e)}`));

  say('seeding: meta account registry + workload account VPC, ALB, template ASG, AMIs');
  const account = await seedAccount({ slug: SLUG });
  const svc = await seedService(account, {
    service: SERVICE,
    web: true,
    minSize: 2,
    maxSize: 4,
    amis: ['storefront-v1', 'storefront-v2', 'storefront-v3-bad', 'storefront-v3'],
    unhealthy: ['storefront-v3-bad'],
  });

  const events = new EventBridgeClient({});
  const results: { id: string; what: string; expected: string; result: string; wall: number; lowerBound?: number }[] = [];
  const plan = [
    {
      id: 'storefront-v1',
      ami: svc.amis['storefront-v1']!,
      what: 'first deploy of v1',
      expected: 'DeployCompleted',
      config: CONFIG,
      lowerBound: HEALTH_WARMUP_SECONDS + CONFIG.BakeTime,
    },
    {
      id: 'storefront-v2',
      ami: svc.amis['storefront-v2']!,
      what: 'blue/green deploy of v2',
      expected: 'DeployCompleted',
      config: CONFIG,
      lowerBound: HEALTH_WARMUP_SECONDS + (100 / CONFIG.TrafficShiftPerStep - 1) * CONFIG.WaitPerStep + CONFIG.BakeTime,
    },
    { id: 'storefront-v3-bad', ami: svc.amis['storefront-v3-bad']!, what: 'bad AMI, never healthy', expected: 'DeployFailed', config: { ...CONFIG, HealthTimeout: 8 } },
    { id: 'storefront-v3', ami: svc.amis['storefront-v3']!, what: 'v3, cancelled mid-shift', expected: 'DeployCancelled', config: CONFIG, cancelAtPercent: 40 },
  ];
  for (const step of plan) {
    const detail = { AccountCanonicalSlug: SLUG, ServiceName: SERVICE, AmiId: step.ami, DeployId: step.id, DeployConfig: step.config };
    say(`aws events put-events DeployRequested ${JSON.stringify(detail)}`);
    const t0 = Date.now();
    await events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: local.install.busName, Source: CLIENT_SOURCE, DetailType: 'DeployRequested', Detail: JSON.stringify(detail) }],
      }),
    );
    if (step.cancelAtPercent) {
      await observer.waitFor((e) => e.detail.DeployId === step.id && e.detailType === 'TrafficShifted' && e.detail.Percent === step.cancelAtPercent, 60_000);
      const cancel = { AccountCanonicalSlug: SLUG, ServiceName: SERVICE, Reason: 'demo: operator cancels mid-shift' };
      say(`aws events put-events CancelRequested ${JSON.stringify(cancel)}`);
      await events.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: local.install.busName, Source: CLIENT_SOURCE, DetailType: 'CancelRequested', Detail: JSON.stringify(cancel) }],
        }),
      );
    }
    const outcome = await observer.outcome(step.id, 120_000);
    const wall = (Date.now() - t0) / 1000;
    results.push({ id: step.id, what: step.what, expected: step.expected, result: outcome.detailType, wall, lowerBound: step.lowerBound });
    if (outcome.detailType !== step.expected) failures++;
  }
  await observer.stop();

  console.log('\nSummary');
  for (const r of results) {
    const timing = r.lowerBound ? `, lower bound ${r.lowerBound} s, ratio ${(r.wall / r.lowerBound).toFixed(2)}` : '';
    const verdict = r.result === r.expected ? '' : `  (expected ${r.expected})`;
    console.log(`  ${r.id.padEnd(18)} ${r.what.padEnd(24)} ${r.result.padEnd(16)} ${r.wall.toFixed(1)} s wall${timing}${verdict}`);
  }

  const { autoscaling, elb } = await workloadClients();
  const asgs = ((await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [])
    .map((g) => g.AutoScalingGroupName!)
    .filter((n) => n.startsWith(`${SERVICE}-`) && n !== `${SERVICE}-template`);
  const tgs = ((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).filter(
    (t) => t.TargetGroupName!.startsWith(`${SERVICE}-`) && t.TargetGroupName !== `${SERVICE}-template`,
  );
  const live = (await elb.send(new DescribeRulesCommand({ ListenerArn: account.listenerArn }))).Rules!.find((r) => r.Priority === '10');
  const forwards = forwardTargets(live?.Actions?.find((a) => a.Type === 'forward'));
  console.log('\nLeft in the workload account');
  console.log(`  service ASGs:      ${asgs.join(', ') || '(none)'}`);
  console.log(`  target groups:     ${tgs.map((t) => t.TargetGroupName).join(', ') || '(none)'}`);
  console.log(`  live rule (prio 10): ${forwards.map((f) => `${tgs.find((t) => t.TargetGroupArn === f.arn)?.TargetGroupName ?? f.arn} weight ${f.weight}`).join(', ')}`);
  const v2 = results.find((r) => r.id === 'storefront-v2');
  const v2Asg = v2 && observer.of('storefront-v2').find((e) => e.detailType === 'DeployCompleted')?.detail.AsgName;
  const clean = asgs.length === 1 && asgs[0] === v2Asg && tgs.length === 1 && forwards.length === 1 && forwards[0]!.arn === tgs[0]!.TargetGroupArn;
  const leftovers = await findLeftovers(local.install, [account.listenerArn]);
  console.log(clean ? `  => production is v2 (${v2Asg}) at 100 % of traffic; exactly one ASG and one target group` : '  => UNEXPECTED: production is not v2 alone');
  console.log(leftovers.length ? `  => leftovers:\n     ${leftovers.join('\n     ')}` : '  => leftover check: nothing else Deployomat made is left (ASGs, target groups, rules, schedules, DLQs)');
  if (!clean || leftovers.length) failures++;
} finally {
  await local.stop();
  await emulator.stop();
}
console.log(failures ? `\nDemo FAILED (${failures} problem(s))` : '\nDemo passed.');
process.exit(failures ? 1 : 0);
