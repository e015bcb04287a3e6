import { DescribeTargetGroupsCommand, type ElasticLoadBalancingV2Client, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import { forwardTargets, listRules } from '../../domain/aws/listener-rules';
import type { ServiceState } from '../../domain/ledger';
import { targetGroupName } from '../../domain/naming';
import { AccountSlug, ServiceName } from '../../events/names';
import { println, type Context } from '../context';
import { EXIT } from '../errors';
import { getService, listServices, type ServiceRecord } from '../ledger';
import { KEY_FLAGS, validate } from '../options';

const StatusArgs = z.object({ AccountCanonicalSlug: AccountSlug.optional(), ServiceName: ServiceName.optional() });

const SAFETY: Record<string, string> = {
  allow: 'allowed',
  undeploying: 'in progress',
  '': 'not allowed (last deploy: AllowUndeploy false, or a production account)',
};

/** status: per service, from the ledger, with the live weights read from the ALB. */
export async function status(ctx: Context, o: { account?: string; service?: string }): Promise<number> {
  const args = validate(StatusArgs, { AccountCanonicalSlug: o.account, ServiceName: o.service }, KEY_FLAGS);
  let records: ServiceRecord[];
  if (args.AccountCanonicalSlug && args.ServiceName) {
    const one = await getService(ctx.aws, { account: args.AccountCanonicalSlug, service: args.ServiceName });
    records = one ? [one] : [];
  } else {
    records = (await listServices(ctx.aws, args.AccountCanonicalSlug)).filter(
      (r) => !args.ServiceName || (r.ok ? r.state.ServiceName : r.raw.ServiceName) === args.ServiceName,
    );
  }
  if (!records.length) {
    const which = [args.ServiceName && `service ${args.ServiceName}`, args.AccountCanonicalSlug && `account ${args.AccountCanonicalSlug}`].filter(Boolean).join(' in ');
    println(ctx.stdout, `No ${which || 'service'} in the ledger (table ${ctx.aws.options.table}): never deployed.`);
    return args.ServiceName ? EXIT.failed : EXIT.ok;
  }
  const elbs = new Map<string, Promise<ElasticLoadBalancingV2Client>>();
  records.sort((a, b) => label(a).localeCompare(label(b)));
  for (const record of records) {
    println(ctx.stdout, label(record));
    if (!record.ok) {
      println(ctx.stdout, `  (unreadable ledger item: ${record.problem})`);
      continue;
    }
    for (const line of ledgerLines(record.state)) println(ctx.stdout, `  ${line}`);
    for (const line of await trafficLines(ctx, record.state, elbs)) println(ctx.stdout, `  ${line}`);
  }
  return EXIT.ok;
}

const label = (r: ServiceRecord) => (r.ok ? `${r.state.AccountCanonicalSlug}/${r.state.ServiceName}` : String(r.raw.pk).replace('#', '/'));
const row = (name: string, value: string) => `${name.padEnd(11)} ${value}`;

function ledgerLines(s: ServiceState): string[] {
  const holder = s.Phase === 'Undeploying' ? `undeploy ${s.ActiveDeployId}` : `deploy ${s.ActiveDeployId}`;
  const lines = [
    row('phase', `${s.Phase} (${holder}, updated ${s.UpdatedAt})`),
    row('deploying', s.DeployAsgName || '-'),
    row('production', s.ProductionAsgName || '-'),
    row('undeploy', s.ProductionAsgName ? (SAFETY[s.UndeployState] ?? s.UndeployState) : 'nothing to undeploy'),
  ];
  if (s.Rollback && s.Phase === 'RollingBack') lines.push(row('rollback', `${s.Rollback.Cause}: ${s.Rollback.Reason}`));
  if (s.Waiting) lines.push(row('queued', `${s.Waiting.Kind} ${s.Waiting.Id} (starts when the rollback is over)`));
  if (s.LastError && !['Completed', 'Undeployed'].includes(s.Phase)) lines.push(row('last error', s.LastError));
  return lines;
}

/** The service's live rules: the ones its last plan named, or forwarding to one of its target groups. */
async function trafficLines(ctx: Context, s: ServiceState, elbs: Map<string, Promise<ElasticLoadBalancingV2Client>>): Promise<string[]> {
  const listeners = s.Request.ListenerArns;
  if (!listeners.length) return [row('traffic', 'non-web service (no listener rules)')];
  if (!elbs.has(s.Request.RoleArn)) elbs.set(s.Request.RoleArn, ctx.aws.elbAs(s.Request.RoleArn));
  try {
    const elb = await elbs.get(s.Request.RoleArn)!;
    const planned = new Set(s.Plan?.Rules.map((r) => r.ruleArn) ?? []);
    const ownName = new RegExp(`^${escape(targetGroupName(s.ServiceName, ''))}\\d{8}T\\d{6}Z$`);
    const lines: string[] = [];
    for (const listenerArn of listeners) {
      const rules = (await listRules(elb, listenerArn)).filter((r) => !r.IsDefault && forwardOf(r).length);
      const names = await targetGroupNames(elb, [...new Set(rules.flatMap((r) => forwardOf(r).map((f) => f.arn)))]);
      const live = rules.filter((r) => planned.has(r.RuleArn!) || forwardOf(r).some((f) => ownName.test(names.get(f.arn) ?? '')));
      for (const rule of live) {
        const forwards = forwardOf(rule);
        const total = forwards.reduce((sum, f) => sum + f.weight, 0) || 1;
        const weights = forwards.map((f) => `${names.get(f.arn) ?? f.arn} ${Math.round((f.weight / total) * 100)} %`).join(', ');
        lines.push(row('traffic', `rule ${rule.Priority} on ${shortListener(listenerArn)}: ${weights}`));
      }
    }
    return lines.length ? lines : [row('traffic', 'no live rule on its listeners')];
  } catch (err) {
    const why = await ctx.aws.explain(err);
    return [row('traffic', `could not read the ALB through ${s.Request.RoleArn}: ${why.message}`)];
  }
}

const forwardOf = (r: Rule) => forwardTargets(r.Actions?.find((a) => a.Type === 'forward'));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const shortListener = (arn: string) => arn.replace(/^arn:[^:]+:elasticloadbalancing:[^:]+:[^:]+:/, '');

async function targetGroupNames(elb: ElasticLoadBalancingV2Client, arns: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (let i = 0; i < arns.length; i += 20) {
    const out = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns.slice(i, i + 20) }));
    for (const tg of out.TargetGroups ?? []) names.set(tg.TargetGroupArn!, tg.TargetGroupName!);
  }
  return names;
}
