/**
 * `npm run demo`: a real deploy on the local emulator, start to finish.
 * Starts moto + the local runtime, seeds a meta account (SSM registry) and a workload account
 * (VPC, ALB, listener, template target group, exemplar rule, launch template, template ASG,
 * AMIs v1/v2), deploys v1 (first deploy) then v2 (blue/green, step by step), and prints what is
 * left in AWS. Exits non-zero if any deploy fails or anything is left behind.
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeRulesCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { forwardTargets } from '../../domain/aws/listener-rules';
import { CLIENT_SOURCE } from '../../events/client';
import { startEmulator } from './emulator';
import { startLocal } from './local-env';
import { Observer } from './observer';
import { describeEvent } from './progress';
import { META_ROLE_ARN, seedAccount, seedService, workloadClients } from './seed';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const HEALTH_WARMUP_SECONDS = 3;
const SLUG = 'acme-workload-dev';
const SERVICE = 'storefront';
const CONFIG = { TrafficShiftPerStep: 20, WaitPerStep: 3, BakeTime: 5, HealthTimeout: 60 };

const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (line: string) => console.log(`${clock()}  ${line}`);

const emulator = await startEmulator({ initialHealthSeconds: HEALTH_WARMUP_SECONDS });
const local = await startLocal({
  endpoint: emulator.endpoint,
  env: { DEPLOYOMAT_META_ROLE_ARN: META_ROLE_ARN, DEPLOYOMAT_HEALTH_CHECK_INTERVAL: '1' },
});
let failures = 0;
try {
  say(`emulator ${local.endpoint}; bus ${local.install.busName}; handlers polling ${Object.keys(local.install.queueUrls).length} queues`);
  const observer = await Observer.start(local.install.busName);
  observer.onEvent((e) => say(`  ${String(e.detail.DeployId ?? '').padEnd(14)} ${describeEvent(e)}`));

  say('seeding: meta account registry + workload account VPC, ALB, template ASG, AMIs');
  const account = await seedAccount({ slug: SLUG });
  const svc = await seedService(account, { service: SERVICE, web: true, minSize: 2, maxSize: 4, amis: ['storefront-v1', 'storefront-v2'] });

  const events = new EventBridgeClient({});
  const results: { id: string; what: string; result: string; wall: number; lowerBound: number }[] = [];
  for (const [id, ami, what, lowerBound] of [
    ['storefront-v1', svc.amis['storefront-v1']!, 'first deploy of v1', HEALTH_WARMUP_SECONDS + CONFIG.BakeTime],
    [
      'storefront-v2',
      svc.amis['storefront-v2']!,
      'blue/green deploy of v2',
      HEALTH_WARMUP_SECONDS + (100 / CONFIG.TrafficShiftPerStep - 1) * CONFIG.WaitPerStep + CONFIG.BakeTime,
    ],
  ] as const) {
    const detail = { AccountCanonicalSlug: SLUG, ServiceName: SERVICE, AmiId: ami, DeployId: id, DeployConfig: CONFIG };
    say(`aws events put-events DeployRequested ${JSON.stringify(detail)}`);
    const t0 = Date.now();
    await events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: local.install.busName, Source: CLIENT_SOURCE, DetailType: 'DeployRequested', Detail: JSON.stringify(detail) }],
      }),
    );
    const outcome = await observer.outcome(id, 120_000);
    const wall = (Date.now() - t0) / 1000;
    results.push({ id, what, result: outcome.detailType, wall, lowerBound });
    if (outcome.detailType !== 'DeployCompleted') failures++;
  }
  await observer.stop();

  console.log('\nSummary');
  for (const r of results) {
    console.log(
      `  ${r.id.padEnd(14)} ${r.what.padEnd(24)} ${r.result.padEnd(16)} ${r.wall.toFixed(1)} s wall, lower bound ${r.lowerBound} s, ratio ${(r.wall / r.lowerBound).toFixed(2)}`,
    );
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
  const clean = asgs.length === 1 && tgs.length === 1 && forwards.length === 1 && forwards[0]!.arn === tgs[0]!.TargetGroupArn;
  console.log(clean ? '  => exactly one ASG and one target group, 100% of traffic on the new version' : '  => UNEXPECTED leftovers');
  if (!clean) failures++;
} finally {
  await local.stop();
  await emulator.stop();
}
console.log(failures ? `\nDemo FAILED (${failures} problem(s))` : '\nDemo passed.');
process.exit(failures ? 1 : 0);
