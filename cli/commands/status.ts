import { DescribeTargetGroupsCommand, type ElasticLoadBalancingV2Client, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import { forwardTargets, listRules } from '../../domain/aws/listener-rules';
import { countHealthyTargets } from '../../domain/aws/target-groups';
import { neededHealthy } from '../../domain/gates';
import { isActiveDeploy, type ServiceState } from '../../domain/ledger';
import { targetGroupName } from '../../domain/naming';
import { AccountSlug, ServiceName } from '../../events/names';
import { println, type Context } from '../context';
import { EXIT } from '../errors';
import { getService, heldOf, listServices, pausedOf, type ServiceRecord } from '../ledger';
import { KEY_FLAGS, validate } from '../options';
import { shortArn } from '../render';

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
    const live = await trafficLines(ctx, record.state, elbs);
    for (const line of [...ledgerLines(record.state, live.healthy), ...live.lines]) println(ctx.stdout, `  ${line}`);
  }
  return EXIT.ok;
}

const label = (r: ServiceRecord) => (r.ok ? `${r.state.AccountCanonicalSlug}/${r.state.ServiceName}` : String(r.raw.pk).replace('#', '/'));
const row = (name: string, value: string) => `${name.padEnd(11)} ${value}`;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ago = (ms: number, now = Date.now()) => `${Math.max(0, Math.round((now - ms) / 1000))} s`;

/** The ledger's view of a service (`healthy`: the new group's healthy targets now, for a held step). */
export function ledgerLines(s: ServiceState, healthy?: number): string[] {
  const holder = s.Phase === 'Undeploying' ? `undeploy ${s.ActiveDeployId}` : `deploy ${s.ActiveDeployId}`;
  const lines = [
    row('phase', `${s.Phase} (${holder}, updated ${s.UpdatedAt})`),
    row('deploying', s.DeployAsgName || '-'),
    row('production', s.ProductionAsgName || '-'),
    row('undeploy', s.ProductionAsgName ? (SAFETY[s.UndeployState] ?? s.UndeployState) : 'nothing to undeploy'),
  ];
  lines.push(...rolloutLines(s, healthy));
  if (s.Rollback && s.Phase === 'RollingBack') lines.push(row('rollback', `${s.Rollback.Cause}: ${s.Rollback.Reason}`));
  if (s.Waiting) lines.push(row('queued', `${s.Waiting.Kind} ${s.Waiting.Id} (starts when the rollback is over)`));
  if (s.LastError && !['Completed', 'Undeployed'].includes(s.Phase)) lines.push(row('last error', s.LastError));
  return lines;
}

/** Where a running rollout stands: its progress, a pause (where, why, since when, until when), a held step. */
function rolloutLines(s: ServiceState, healthy?: number): string[] {
  if (!isActiveDeploy(s.Phase) || !s.Progress) return [];
  const lines: string[] = [];
  const p = s.Progress;
  const web = s.Plan?.Rollout === 'web';
  const at = web ? `step ${p.Step}/${s.Plan!.Steps}, ${p.Percent} % on the new version` : `${p.Percent} % on the new version`;
  const bake = p.BakeEndsAt && s.Phase === 'Baking' ? `; bake ends ${iso(Date.parse(p.BakeEndsAt))}` : '';
  lines.push(row('progress', `${at}${bake}${s.Promoted ? ' (promoted: no more steps, no bake)' : ''}`));
  const paused = pausedOf(s);
  if (paused) {
    const where = s.Paused!.FromPhase === 'Baking' ? `during the bake (${Math.round((s.Paused!.BakeRemainingMs ?? 0) / 1000)} s of it left)` : `at ${paused.percent} % (after step ${paused.step})`;
    const by = paused.by === 'request' ? 'by request' : 'by PauseAtPercent';
    const until = paused.rollbackAt !== undefined ? `rolls back at ${iso(paused.rollbackAt)} unless resumed or promoted` : 'waits for resume or promote';
    lines.push(row('paused', `${where} since ${iso(paused.since)} (${ago(paused.since)} ago), ${by}: ${paused.reason}; ${until}`));
  }
  const held = heldOf(s);
  if (held) {
    const counts = healthy !== undefined && s.Plan ? `${healthy}/${neededHealthy(held.percent, s.Plan.MinSize)} healthy targets` : 'waiting for healthy targets';
    lines.push(row('holding', `step ${held.step} (${held.percent} %): ${counts}, ${ago(held.since)} (since ${iso(held.since)})`));
  }
  return lines;
}

/** The service's live rules: the ones its last plan named, or forwarding to one of its target groups. */
async function trafficLines(
  ctx: Context,
  s: ServiceState,
  elbs: Map<string, Promise<ElasticLoadBalancingV2Client>>,
): Promise<{ lines: string[]; healthy?: number }> {
  const listeners = s.Request.ListenerArns;
  if (!listeners.length) return { lines: [row('traffic', 'non-web service (no listener rules)')] };
  if (!elbs.has(s.Request.RoleArn)) elbs.set(s.Request.RoleArn, ctx.aws.elbAs(s.Request.RoleArn));
  try {
    const elb = await elbs.get(s.Request.RoleArn)!;
    const planned = new Set(s.Plan?.Rules.map((r) => r.ruleArn) ?? []);
    // What the ledger says the rules should send to the new version (while the rollout runs).
    const newGroups = new Set(s.Plan?.TargetGroups.map((t) => t.Arn) ?? []);
    const configured = isActiveDeploy(s.Phase) && newGroups.size ? s.Progress?.Percent : undefined;
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
        const onNew = Math.round((forwards.filter((f) => newGroups.has(f.arn)).reduce((sum, f) => sum + f.weight, 0) / total) * 100);
        const differs = configured !== undefined && planned.has(rule.RuleArn!) && onNew !== configured ? ` (configured: ${configured} % new)` : '';
        lines.push(row('traffic', `rule ${rule.Priority} on ${shortArn(listenerArn)}: ${weights}${differs}`));
      }
    }
    // A step held for capacity: the new group's healthy targets now (the ledger keeps only since when).
    const groups = heldOf(s) ? (s.Plan?.TargetGroups ?? []) : [];
    const healthy = groups.length
      ? await Promise.all(groups.map((t) => countHealthyTargets(elb, t.Arn))).then((counts) => Math.min(...counts), () => undefined)
      : undefined;
    return { lines: lines.length ? lines : [row('traffic', 'no live rule on its listeners')], healthy };
  } catch (err) {
    const why = await ctx.aws.explain(err);
    return { lines: [row('traffic', `could not read the ALB through ${s.Request.RoleArn}: ${why.message}`)] };
  }
}

const forwardOf = (r: Rule) => forwardTargets(r.Actions?.find((a) => a.Type === 'forward'));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function targetGroupNames(elb: ElasticLoadBalancingV2Client, arns: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (let i = 0; i < arns.length; i += 20) {
    const out = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns.slice(i, i + 20) }));
    for (const tg of out.TargetGroups ?? []) names.set(tg.TargetGroupArn!, tg.TargetGroupName!);
  }
  return names;
}
