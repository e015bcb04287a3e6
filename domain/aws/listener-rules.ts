import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ModifyRuleCommand,
  RuleNotFoundException,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Rule,
  type RuleCondition,
  type TargetGroupStickinessConfig,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeployFailure } from '../errors';
import { weightsAtPercent } from '../weights';
import { DEPLOY_ID_TAG, mergeTags, tagValue, type Tag } from './tags';

/**
 * Listener rules are where traffic shifts. The user keeps an *exemplar* rule at
 * priority + 40000 forwarding to the template target group; the live (production) rule sits at
 * the exemplar's priority − 40000 and is what Deployomat re-weights.
 */
export const EXEMPLAR_PRIORITY_OFFSET = 40000;

/** Target groups an action forwards to (AWS may return `TargetGroupArn`, `ForwardConfig`, or both). */
export function forwardTargets(action: Action | undefined): { arn: string; weight: number }[] {
  if (!action || action.Type !== 'forward') return [];
  const groups = action.ForwardConfig?.TargetGroups;
  if (groups?.length) return groups.filter((g) => g.TargetGroupArn).map((g) => ({ arn: g.TargetGroupArn!, weight: g.Weight ?? 1 }));
  return action.TargetGroupArn ? [{ arn: action.TargetGroupArn, weight: 1 }] : [];
}

const forwardAction = (rule: Rule) => rule.Actions?.find((a) => a.Type === 'forward');

/** Every rule of a listener (all pages). */
export async function listRules(elb: ElasticLoadBalancingV2Client, listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  do {
    const out = await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }));
    rules.push(...(out.Rules ?? []));
    marker = out.NextMarker;
  } while (marker);
  return rules;
}

/** What traffic shifting needs to know about one live rule. */
export interface LiveRule {
  listenerArn: string;
  ruleArn: string;
  /** Target group the rule served production from; absent if this deploy created the rule. */
  productionTargetGroupArn?: string;
  /** Stickiness settings of the rule's forward action, kept through every re-weighting. */
  stickiness?: TargetGroupStickinessConfig;
  /** The rule's other actions (e.g. authenticate-oidc), kept in place around the forward. */
  actions: Action[];
}

/**
 * For each listener: finds the exemplar (forwarding to the template target group) and the live
 * rule at priority − 40000. With a live rule, sets it to 100/0 production/new; without one
 * (first deploy), creates it as a copy of the exemplar forwarding to the new group.
 */
export async function prepareRules(
  elb: ElasticLoadBalancingV2Client,
  args: { listenerArns: string[]; templateTargetGroupArn: string; newTargetGroupArn: string; deployId: string; tags: Tag[] },
): Promise<LiveRule[]> {
  const prepared: LiveRule[] = [];
  for (const listenerArn of args.listenerArns) {
    const rules = await listRules(elb, listenerArn);
    const exemplar = rules.find((r) => forwardTargets(forwardAction(r)).some((t) => t.arn === args.templateTargetGroupArn));
    if (!exemplar?.RuleArn || exemplar.Priority === 'default') {
      throw new DeployFailure(`No exemplar rule on listener ${listenerArn} forwards to the template target group ${args.templateTargetGroupArn}`);
    }
    const livePriority = Number(exemplar.Priority) - EXEMPLAR_PRIORITY_OFFSET;
    if (!Number.isInteger(livePriority) || livePriority < 1) {
      throw new DeployFailure(`Exemplar rule ${exemplar.RuleArn} has priority ${exemplar.Priority}; it must be the wanted priority + ${EXEMPLAR_PRIORITY_OFFSET}`);
    }
    const live = rules.find((r) => r.Priority === String(livePriority));
    if (live?.RuleArn) {
      const liveTags = (await elb.send(new DescribeTagsCommand({ ResourceArns: [live.RuleArn] }))).TagDescriptions?.[0]?.Tags;
      if (tagValue(liveTags, DEPLOY_ID_TAG) === args.deployId) {
        // This deploy created the rule on an earlier attempt: it already forwards to the new group.
        prepared.push(describeLive(listenerArn, live, undefined));
        continue;
      }
      const targets = forwardTargets(forwardAction(live)).filter((t) => t.arn !== args.newTargetGroupArn);
      if (targets.length !== 1) {
        throw new DeployFailure(`Rule ${live.RuleArn} forwards to ${targets.length} target groups; expected exactly one production target group`);
      }
      const rule = describeLive(listenerArn, live, targets[0]!.arn);
      await setRuleWeights(elb, rule, args.newTargetGroupArn, 0);
      prepared.push(rule);
    } else {
      prepared.push(await createLiveRule(elb, { listenerArn, exemplar, priority: livePriority, ...args }));
    }
  }
  return prepared;
}

function describeLive(listenerArn: string, rule: Rule, productionTargetGroupArn: string | undefined): LiveRule {
  return {
    listenerArn,
    ruleArn: rule.RuleArn!,
    productionTargetGroupArn,
    stickiness: forwardAction(rule)?.ForwardConfig?.TargetGroupStickinessConfig,
    actions: (rule.Actions ?? []).filter((a) => a.Type !== 'forward'),
  };
}

async function createLiveRule(
  elb: ElasticLoadBalancingV2Client,
  a: { listenerArn: string; exemplar: Rule; priority: number; newTargetGroupArn: string; tags: Tag[] },
): Promise<LiveRule> {
  const exemplarTags = (await elb.send(new DescribeTagsCommand({ ResourceArns: [a.exemplar.RuleArn!] }))).TagDescriptions?.[0]?.Tags;
  const base = describeLive(a.listenerArn, a.exemplar, undefined);
  const out = await elb.send(
    new CreateRuleCommand({
      ListenerArn: a.listenerArn,
      Priority: a.priority,
      Conditions: a.exemplar.Conditions?.map(copyCondition),
      Actions: actionsWithForward(base, [{ TargetGroupArn: a.newTargetGroupArn, Weight: 100 }]),
      Tags: mergeTags(exemplarTags, a.tags),
    }),
  );
  const ruleArn = out.Rules?.[0]?.RuleArn;
  if (!ruleArn) throw new Error(`CreateRule at priority ${a.priority} on ${a.listenerArn} returned no ARN`);
  return { ...base, ruleArn };
}

/** Conditions come back with both the legacy `Values` and the typed config; send only the config. */
function copyCondition(c: RuleCondition): RuleCondition {
  const typed = c.HostHeaderConfig || c.PathPatternConfig || c.HttpHeaderConfig || c.QueryStringConfig || c.HttpRequestMethodConfig || c.SourceIpConfig;
  return typed ? { ...c, Values: undefined } : c;
}

function actionsWithForward(rule: LiveRule, groups: { TargetGroupArn: string; Weight: number }[]): Action[] {
  const forward: Action = {
    Type: 'forward',
    Order: rule.actions.reduce((max, a) => Math.max(max, a.Order ?? 0), 0) + 1,
    ForwardConfig: { TargetGroups: groups, TargetGroupStickinessConfig: rule.stickiness },
  };
  return [...rule.actions, forward];
}

/**
 * Absolute weights: `percent` on the new group, the rest on production. Applying the same step
 * twice is harmless. Rules created by this deploy have no production group and stay at 100.
 */
export async function setRuleWeights(elb: ElasticLoadBalancingV2Client, rule: LiveRule, newTargetGroupArn: string, percent: number) {
  const w = weightsAtPercent(percent);
  const groups = rule.productionTargetGroupArn
    ? [
        { TargetGroupArn: rule.productionTargetGroupArn, Weight: w.production },
        { TargetGroupArn: newTargetGroupArn, Weight: w.next },
      ]
    : [{ TargetGroupArn: newTargetGroupArn, Weight: 100 }];
  await elb.send(new ModifyRuleCommand({ RuleArn: rule.ruleArn, Actions: actionsWithForward(rule, groups) }));
}

/** The end of a rollout: the rule forwards to the new group only, stickiness kept. */
export async function coalesceRule(elb: ElasticLoadBalancingV2Client, rule: LiveRule, newTargetGroupArn: string) {
  await elb.send(
    new ModifyRuleCommand({ RuleArn: rule.ruleArn, Actions: actionsWithForward(rule, [{ TargetGroupArn: newTargetGroupArn, Weight: 100 }]) }),
  );
}

/**
 * Puts every rule on the listeners that forwards to `deployingTargetGroupArn` back on production:
 * 100 % to `productionTargetGroupArn` (stickiness and other actions kept), or — when there is no
 * production (a first deploy) — deletes the rule. Safe to repeat.
 */
export async function restoreRules(
  elb: ElasticLoadBalancingV2Client,
  args: { listenerArns: string[]; deployingTargetGroupArn: string; productionTargetGroupArn?: string },
): Promise<{ restored: string[]; deleted: string[] }> {
  const restored: string[] = [];
  const deleted: string[] = [];
  for (const listenerArn of args.listenerArns) {
    for (const rule of await listRules(elb, listenerArn)) {
      if (rule.IsDefault || !forwardTargets(forwardAction(rule)).some((t) => t.arn === args.deployingTargetGroupArn)) continue;
      if (args.productionTargetGroupArn) {
        const live = describeLive(listenerArn, rule, undefined);
        await coalesceRule(elb, live, args.productionTargetGroupArn);
        restored.push(rule.RuleArn!);
      } else {
        await deleteRule(elb, rule.RuleArn!);
        deleted.push(rule.RuleArn!);
      }
    }
  }
  return { restored, deleted };
}

/** Deletes every non-default rule on the listeners that forwards to any of `targetGroupArns`. */
export async function deleteRulesForwardingTo(elb: ElasticLoadBalancingV2Client, listenerArns: string[], targetGroupArns: string[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const listenerArn of listenerArns) {
    for (const rule of await listRules(elb, listenerArn)) {
      if (rule.IsDefault || !forwardTargets(forwardAction(rule)).some((t) => targetGroupArns.includes(t.arn))) continue;
      await deleteRule(elb, rule.RuleArn!);
      deleted.push(rule.RuleArn!);
    }
  }
  return deleted;
}

async function deleteRule(elb: ElasticLoadBalancingV2Client, ruleArn: string) {
  try {
    await elb.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
  } catch (err) {
    if (!(err instanceof RuleNotFoundException)) throw err;
  }
}
