import { AutoScalingClient, CreateOrUpdateTagsCommand } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AddTagsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteRuleCommand, DescribeEventBusCommand, DescribeRuleCommand, EventBridgeClient, RemoveTargetsCommand, ResourceNotFoundException } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, paginateScan, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DeployConfig } from '../../events/client';
import { resourceNames } from '../../events/topology';
import { listenerArns, resolveAccount, type Account } from '../../domain/aws/accounts';
import { describeAsg } from '../../domain/aws/auto-scaling';
import { EXEMPLAR_PRIORITY_OFFSET, forwardTargets, listListenerRules } from '../../domain/aws/listener-rules';
import { MANAGED_TAG, OWNER_TAG, ownerOf } from '../../domain/aws/tags';
import { RejectedError } from '../../domain/errors';
import { isFinished, Ledger, type ServiceKey } from '../../domain/ledger';
import { templateAsgName } from '../../domain/naming';
import {
  decideImport,
  cronTime,
  IMPORT_FENCE,
  ORIGINAL_TABLE,
  OriginalItem,
  originalId,
  originalUndeployRuleName,
  splitOriginalId,
  type ImportDecision,
  type ImportFacts,
} from '../../domain/original';
import { scheduleAutomaticUndeployAt } from '../../domain/undeploy-schedule';
import { println, type Context } from '../context';
import { EXIT, UsageError } from '../errors';

export interface ImportOptions {
  originalTable?: string;
  account?: string;
  service?: string;
  dryRun?: boolean;
  /** The registry's account (`/omat/account_registry/…`), when it is not the one the CLI runs in. */
  metaRoleArn?: string;
  /** A role of the operator's in the workload account (Deployomat's own DeployAccessRole trusts only its handlers). */
  workloadRoleArn?: string;
  /** The installation's scheduler role, to move automatic undeploys (`<prefix>-scheduler` locally). */
  schedulerRoleArn?: string;
  deployomatServiceName?: string;
}

/**
 * import: hands services over from the original Deployomat. Run once by an operator with their
 * own credentials: for each item of the original's table it reads the item, our ledger and AWS
 * (observe), decides with domain/original.ts (pure), then (unless --dry-run) fences the original's
 * item so it can no longer deploy or undeploy the service, tags production as the service's,
 * writes our ledger item and moves the automatic undeploy. Each step may be repeated: an import
 * that stopped half way carries on when run again.
 */
export async function importOriginal(ctx: Context, o: ImportOptions): Promise<number> {
  const originalTable = o.originalTable ?? ORIGINAL_TABLE;
  if (originalTable === ctx.aws.options.table) {
    throw new UsageError(`--original-table and --table both name ${originalTable}: --table is Deployomat's ledger (default ${resourceNames().table}), --original-table the original's table`);
  }
  if (o.service && !o.account) throw new UsageError('--service needs --account');
  const base = await ctx.aws.configAs(undefined, '');
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(base), { marshallOptions: { removeUndefinedValues: true } });
  const ledger = new Ledger(doc, ctx.aws.options.table);
  const ssm = new SSMClient(await ctx.aws.configAs(o.metaRoleArn, 'deployomat-import'));
  const workloadConfig = await ctx.aws.configAs(o.workloadRoleArn, 'deployomat-import');
  const workload = { autoscaling: new AutoScalingClient(workloadConfig), elb: new ElasticLoadBalancingV2Client(workloadConfig), ec2: new EC2Client(workloadConfig) };
  const events = new EventBridgeClient(base);
  const managed = o.deployomatServiceName ?? 'deployomat';

  const items = await readItems(doc, originalTable, o);
  if (!items.length) {
    println(ctx.stdout, `No ${o.account ? `item ${o.account}.${o.service ?? '*'}` : 'items'} in the original's table ${originalTable}: nothing to import.`);
    return EXIT.ok;
  }
  let refused = 0;
  const verb = o.dryRun ? 'would import' : 'imported';
  for (const item of items) {
    const found = await accountOf(ssm, item.id, managed, o);
    if ('reason' in found) {
      refused++;
      println(ctx.stdout, `refused ${item.id}: ${found.reason}`);
      continue;
    }
    const { key, account } = found;
    const facts = await observe({ ledger, workload, events, ssm }, item, key, account);
    const decision = decideImport(facts, new Date());
    if (decision.kind === 'nothing') {
      println(ctx.stdout, `skipped ${item.id}: ${decision.reason}`);
      continue;
    }
    if (decision.kind === 'refuse') {
      refused++;
      println(ctx.stdout, `refused ${item.id}: ${decision.reasons.join('; ')}`);
      continue;
    }
    const undeploy = decision.automaticUndeployAt;
    if (undeploy && !o.schedulerRoleArn) {
      refused++;
      println(ctx.stdout, `refused ${item.id}: its automatic undeploy at ${undeploy.toISOString()} needs --scheduler-role-arn (the installation's scheduler role) to be moved`);
      continue;
    }
    if (!o.dryRun) {
      const clients = { doc, ledger, workload, events, scheduler: new SchedulerClient(base) };
      await apply(clients, { originalTable, item, key, account, listeners: facts.listeners, decision, managed, schedulerRoleArn: o.schedulerRoleArn, bus: ctx.aws.options.bus });
    }
    println(ctx.stdout, `${verb} ${item.id}: ${describe(decision)}`);
  }
  if (refused) println(ctx.stderr, `${refused} service(s) refused: nothing was changed for them; fix what each line says and run the import again.`);
  return refused ? EXIT.failed : EXIT.ok;
}

function describe(d: Extract<ImportDecision, { kind: 'import' }>): string {
  return [
    `production ${d.productionAsgName}`,
    d.targetGroupArns.length ? `target group(s) ${d.targetGroupArns.join(', ')}` : 'no target group (non-web)',
    d.ruleArns.length ? `live rule(s) ${d.ruleArns.join(', ')}` : undefined,
    d.undeployState === 'allow' ? 'undeploy allowed' : 'undeploy not allowed (deploy with AllowUndeploy first)',
    d.automaticUndeployAt ? `automatic undeploy at ${d.automaticUndeployAt.toISOString()} moved to Deployomat's schedule` : undefined,
    d.resumed ? 'carried on from an earlier import' : undefined,
  ]
    .filter(Boolean)
    .join('; ');
}

async function readItems(doc: DynamoDBDocumentClient, table: string, o: ImportOptions): Promise<OriginalItem[]> {
  if (o.account && o.service) {
    const out = await doc.send(new GetCommand({ TableName: table, Key: { id: originalId({ AccountCanonicalSlug: o.account, ServiceName: o.service }) }, ConsistentRead: true }));
    return out.Item ? [OriginalItem.parse(out.Item)] : [];
  }
  const items: OriginalItem[] = [];
  for await (const page of paginateScan({ client: doc }, { TableName: table, ConsistentRead: true })) {
    for (const raw of page.Items ?? []) {
      const item = OriginalItem.safeParse(raw);
      if (item.success && (!o.account || item.data.id.startsWith(`${o.account}.`))) items.push(item.data);
    }
  }
  return items.sort((a, b) => a.id.localeCompare(b.id));
}

/** The one reading of `id` as `<slug>.<service>` whose account the registry knows. */
async function accountOf(ssm: SSMClient, id: string, managed: string, o: ImportOptions): Promise<{ key: ServiceKey; account: Account } | { reason: string }> {
  const candidates = splitOriginalId(id).filter((k) => (!o.account || k.AccountCanonicalSlug === o.account) && (!o.service || k.ServiceName === o.service));
  const known: { key: ServiceKey; account: Account }[] = [];
  const problems: string[] = [];
  for (const key of candidates) {
    try {
      known.push({ key, account: await resolveAccount(ssm, key.AccountCanonicalSlug, managed) });
    } catch (err) {
      if (!(err instanceof RejectedError)) throw err;
      problems.push(...err.reasons);
    }
  }
  if (known.length === 1) return known[0]!;
  if (known.length > 1) return { reason: `the id reads as ${known.map((k) => `account ${k.key.AccountCanonicalSlug}, service ${k.key.ServiceName}`).join(' or as ')}: name both with --account and --service` };
  return { reason: problems.length ? problems.join('; ') : 'not "<account slug>.<service name>" with names Deployomat accepts' };
}

interface Clients {
  ledger: Ledger;
  workload: { autoscaling: AutoScalingClient; elb: ElasticLoadBalancingV2Client; ec2: EC2Client };
  events: EventBridgeClient;
}

/** Reads what decideImport needs: our ledger, the production ASG, the live rules, the original's undeploy rule. */
async function observe(c: Clients & { ssm: SSMClient }, item: OriginalItem, key: ServiceKey, account: Account): Promise<ImportFacts & { listeners: string[] }> {
  const state = await c.ledger.getService(key);
  const ledger: ImportFacts['ledger'] = !state
    ? 'none'
    : isFinished(state.Phase) && !state.ProductionAsgName && !state.DeployAsgName
      ? 'free'
      : { phase: state.Phase, productionAsgName: state.ProductionAsgName };
  const production = item.deploy_asg_name === IMPORT_FENCE ? item.imported_production_asg_name : item.production_asg_name;
  const asg = production ? await describeAsg(c.workload.autoscaling, production) : undefined;
  const listeners = await listenerArns(c.ssm, account, key.ServiceName);
  const liveRules: ImportFacts['liveRules'] = [];
  if (listeners.length) {
    const template = await describeAsg(c.workload.autoscaling, templateAsgName(key.ServiceName));
    const templateGroups = template?.TargetGroupARNs ?? [];
    const productionGroups = asg?.TargetGroupARNs ?? [];
    for (const rules of (await listListenerRules(c.workload.elb, listeners)).values()) {
      const priorities = new Set(
        rules
          .filter((r) => !r.IsDefault && r.Actions?.some((a) => forwardTargets(a).some((t) => templateGroups.includes(t.arn))))
          .map((r) => String(Number(r.Priority) - EXEMPLAR_PRIORITY_OFFSET)),
      );
      for (const rule of rules) {
        const targets = (rule.Actions ?? []).flatMap((a) => forwardTargets(a));
        if (rule.IsDefault || !(priorities.has(rule.Priority ?? '') || targets.some((t) => productionGroups.includes(t.arn)))) continue;
        liveRules.push({ ruleArn: rule.RuleArn!, targets });
      }
    }
  }
  const name = originalUndeployRuleName(key);
  let undeployRule: ImportFacts['undeployRule'];
  try {
    const rule = await c.events.send(new DescribeRuleCommand({ Name: name }));
    undeployRule = { name, at: cronTime(rule.ScheduleExpression) };
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  return {
    item,
    ledger,
    asg: asg && { name: asg.AutoScalingGroupName!, targetGroupArns: asg.TargetGroupARNs ?? [] },
    web: listeners.length > 0,
    liveRules,
    undeployRule,
    listeners,
  };
}

interface Apply {
  originalTable: string;
  item: OriginalItem;
  key: ServiceKey;
  account: Account;
  listeners: string[];
  decision: Extract<ImportDecision, { kind: 'import' }>;
  managed: string;
  schedulerRoleArn?: string;
  bus: string;
}

/** The hand-over, in an order that can stop anywhere and be run again: fence, tag, ledger, schedule. */
async function apply(c: Clients & { doc: DynamoDBDocumentClient; scheduler: SchedulerClient }, a: Apply): Promise<void> {
  const d = a.decision;
  // 1. From now on the original cannot deploy or undeploy the service (unless its item changed since we read it).
  if (!d.resumed) {
    await c.doc.send(
      new UpdateCommand({
        TableName: a.originalTable,
        Key: { id: a.item.id },
        UpdateExpression: 'SET deploy_asg_name = :fence, imported_production_asg_name = :prod, production_asg_name = :empty, imported_at = :now',
        ConditionExpression: '(attribute_not_exists(deploy_asg_name) OR deploy_asg_name = :empty) AND production_asg_name = :prod AND (attribute_not_exists(deploy_id) OR deploy_id = :id)',
        ExpressionAttributeValues: { ':fence': IMPORT_FENCE, ':prod': d.productionAsgName, ':empty': '', ':now': new Date().toISOString(), ':id': a.item.deploy_id ?? '' },
      }),
    );
  }
  // 2. Production becomes the service's under the ownership model (Deployomat's roles cannot retag).
  const owner = ownerOf(a.key);
  const tags = [
    { Key: MANAGED_TAG, Value: a.managed },
    { Key: OWNER_TAG, Value: owner },
  ];
  await c.workload.autoscaling.send(
    new CreateOrUpdateTagsCommand({ Tags: tags.map((t) => ({ ...t, ResourceId: d.productionAsgName, ResourceType: 'auto-scaling-group', PropagateAtLaunch: false })) }),
  );
  const elbResources = [...d.targetGroupArns, ...d.ruleArns];
  for (let i = 0; i < elbResources.length; i += 20) await c.workload.elb.send(new AddTagsCommand({ ResourceArns: elbResources.slice(i, i + 20), Tags: tags }));
  // 3. Our ledger: production as recorded, the original's undeploy safety.
  const asg = await describeAsg(c.workload.autoscaling, d.productionAsgName);
  const timestamp = d.productionAsgName.slice(a.key.ServiceName.length + 1);
  const adopted = await c.ledger.adopt(
    a.key,
    {
      DeployId: `imported-${timestamp}`,
      AmiId: await amiOf(c.workload.ec2, asg?.LaunchTemplate),
      Config: DeployConfig.parse({ AllowUndeploy: d.undeployState === 'allow' }),
      StartedAt: new Date().toISOString(),
      Timestamp: timestamp,
      RoleArn: a.account.roleArn,
      Org: a.account.org,
      ListenerArns: a.listeners,
      RequestedBy: 'deployomat import (from the original Deployomat)',
      Production: { AsgName: d.productionAsgName, TargetGroupArns: d.targetGroupArns, RuleArns: d.ruleArns },
    },
    d.undeployState,
  );
  if (!adopted) throw new UsageError(`${a.item.id}: Deployomat's ledger changed while importing (a deploy started?): run the import again to see why`);
  // 4. The automatic undeploy, from the original's rule to Deployomat's schedule.
  if (d.automaticUndeployAt && a.schedulerRoleArn) {
    const bus = await c.events.send(new DescribeEventBusCommand({ Name: a.bus }));
    await scheduleAutomaticUndeployAt(c.scheduler, { group: resourceNames(a.bus).scheduleGroup, busArn: bus.Arn!, roleArn: a.schedulerRoleArn }, a.key, d.automaticUndeployAt);
    const name = originalUndeployRuleName(a.key);
    await c.events.send(new RemoveTargetsCommand({ Rule: name, Ids: ['RunUndeploy'] })).catch(ignoreNotFound);
    await c.events.send(new DeleteRuleCommand({ Name: name })).catch(ignoreNotFound);
  }
}

const ignoreNotFound = (err: unknown) => {
  if (!(err instanceof ResourceNotFoundException)) throw err;
};

/** The AMI production runs (its launch template version's), for status and history. */
async function amiOf(ec2: EC2Client, lt: { LaunchTemplateId?: string; Version?: string } | undefined): Promise<string> {
  if (!lt?.LaunchTemplateId) return '';
  const out = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: [lt.Version ?? '$Default'] }));
  return out.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId ?? '';
}
