import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
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
import { elbTagsOf, elbTagsOfOne } from './elb-tags';
import { DEPLOY_ID_TAG, mergeTags, OWNER_TAG, tagQuotaProblem, tagValue, type Tag } from './tags';

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
    // 400 is the most a page may hold (a listener has at most 100 rules by default): one call, usually.
    const out = await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }));
    rules.push(...(out.Rules ?? []));
    marker = out.NextMarker;
  } while (marker);
  return rules;
}

/** The rules of each listener, as one read of them (a step that checks and then plans reads them once). */
export type ListedRules = Map<string, Rule[]>;

export async function listListenerRules(elb: ElasticLoadBalancingV2Client, listenerArns: string[]): Promise<ListedRules> {
  const listed: ListedRules = new Map();
  for (const listenerArn of listenerArns) listed.set(listenerArn, await listRules(elb, listenerArn));
  return listed;
}

/** What traffic shifting needs to know about one live rule. */
export interface LiveRule {
  listenerArn: string;
  ruleArn: string;
  /** The deploy's target group this rule shifts traffic to (the clone of its exemplar's template group). */
  newTargetGroupArn: string;
  /** Target group the rule served production from; absent if this deploy created the rule. */
  productionTargetGroupArn?: string;
  /** Stickiness settings of the rule's forward action, kept through every re-weighting. */
  stickiness?: TargetGroupStickinessConfig;
  /** The rule's other actions (e.g. authenticate-oidc), kept in place around the forward. */
  actions: Action[];
}

/** What a deploy will do to one listener rule: found by reading only (also what a dry run reports). */
export interface RuleChange {
  listenerArn: string;
  exemplarRuleArn: string;
  /** The template target group the exemplar forwards to; its clone gets the traffic. */
  templateTargetGroupArn: string;
  priority: number;
  /** `shift`: re-weight the existing live rule; `create`: a first deploy creates it from the exemplar. */
  action: 'shift' | 'create';
  /** The live rule (shift), with the production target group it forwards to now. */
  liveRuleArn?: string;
  productionTargetGroupArn?: string;
  /** This deploy already created the live rule on an earlier attempt (a redelivery). */
  ownRule?: boolean;
}

/**
 * Reads every listener and decides, without changing anything, what each rule will become. On
 * each listener every rule forwarding to one of the template target groups is an *exemplar*; the
 * live rule sits at its priority − 40000. A template ASG with several target groups (HTTP and
 * gRPC, or two load balancers) has exemplars for each; their live rules shift in lock-step.
 */
export async function planRules(
  elb: ElasticLoadBalancingV2Client,
  args: {
    listenerArns: string[];
    templateTargetGroupArns: string[];
    /** Set when planning for real: recognises what an earlier attempt of this deploy did. */
    deploy?: { deployId: string; newTargetGroupArns: string[] };
    /** The listeners' rules as this step already read them (else they are read here). */
    listed?: ListedRules;
  },
): Promise<RuleChange[]> {
  const changes: RuleChange[] = [];
  for (const listenerArn of args.listenerArns) {
    const rules = args.listed?.get(listenerArn) ?? (await listRules(elb, listenerArn));
    const exemplars = rules.filter((r) => !r.IsDefault && forwardTargets(forwardAction(r)).some((t) => args.templateTargetGroupArns.includes(t.arn)));
    if (!exemplars.length) {
      throw new DeployFailure(`No exemplar rule on listener ${listenerArn} forwards to the template target group${args.templateTargetGroupArns.length > 1 ? 's' : ''} ${args.templateTargetGroupArns.join(', ')}`);
    }
    for (const exemplar of exemplars) {
      const templates = forwardTargets(forwardAction(exemplar)).filter((t) => args.templateTargetGroupArns.includes(t.arn));
      if (templates.length !== 1) {
        throw new DeployFailure(`Exemplar rule ${exemplar.RuleArn} forwards to ${templates.length} template target groups; it must forward to exactly one`);
      }
      const priority = Number(exemplar.Priority) - EXEMPLAR_PRIORITY_OFFSET;
      if (!Number.isInteger(priority) || priority < 1) {
        throw new DeployFailure(`Exemplar rule ${exemplar.RuleArn} has priority ${exemplar.Priority}; it must be the wanted priority + ${EXEMPLAR_PRIORITY_OFFSET}`);
      }
      const base = { listenerArn, exemplarRuleArn: exemplar.RuleArn!, templateTargetGroupArn: templates[0]!.arn, priority };
      const live = rules.find((r) => r.Priority === String(priority));
      if (!live?.RuleArn) {
        changes.push({ ...base, action: 'create' });
        continue;
      }
      if (args.deploy) {
        const liveTags = await elbTagsOfOne(elb, live.RuleArn);
        if (tagValue(liveTags, DEPLOY_ID_TAG) === args.deploy.deployId) {
          // This deploy created the rule on an earlier attempt: it already forwards to the new group.
          changes.push({ ...base, action: 'shift', liveRuleArn: live.RuleArn, ownRule: true });
          continue;
        }
      }
      // A redelivery may find this deploy's new group already attached at weight 0: it is not production.
      const ours = args.deploy?.newTargetGroupArns ?? [];
      const targets = forwardTargets(forwardAction(live)).filter((t) => !ours.includes(t.arn));
      if (targets.length !== 1) {
        throw new DeployFailure(`Rule ${live.RuleArn} forwards to ${targets.length} target groups; expected exactly one production target group`);
      }
      changes.push({ ...base, action: 'shift', liveRuleArn: live.RuleArn, productionTargetGroupArn: targets[0]!.arn });
    }
  }
  return changes;
}

/**
 * Reads only: every live rule at this service's priorities that is not this service's — tagged
 * for another service, or (untagged, made before owner tags) forwarding to a target group that
 * is neither tagged for this service nor recorded as its production. A deploy would re-weight
 * such a rule, i.e. take another service's traffic: the reasons to reject it.
 */
export async function foreignLiveRules(
  elb: ElasticLoadBalancingV2Client,
  a: { listed: ListedRules; templateTargetGroupArns: string[]; owner: string; productionTargetGroupArns: string[] },
): Promise<string[]> {
  const live: { listenerArn: string; rule: Rule }[] = [];
  for (const [listenerArn, rules] of a.listed) {
    for (const exemplar of rules) {
      if (exemplar.IsDefault || !forwardTargets(forwardAction(exemplar)).some((t) => a.templateTargetGroupArns.includes(t.arn))) continue;
      const rule = rules.find((r) => r.Priority === String(Number(exemplar.Priority) - EXEMPLAR_PRIORITY_OFFSET));
      if (rule?.RuleArn) live.push({ listenerArn, rule });
    }
  }
  if (!live.length) return [];
  const targetsOf = (rule: Rule) => forwardTargets(forwardAction(rule)).map((t) => t.arn);
  const tags = await elbTagsOf(elb, [...new Set(live.flatMap(({ rule }) => [rule.RuleArn!, ...targetsOf(rule)]))]);
  const reasons: string[] = [];
  for (const { listenerArn, rule } of live) {
    const at = `Rule ${rule.RuleArn} at priority ${rule.Priority} on listener ${listenerArn}`;
    const ruleOwner = tagValue(tags.get(rule.RuleArn!), OWNER_TAG);
    if (ruleOwner === a.owner) continue;
    if (ruleOwner !== undefined) {
      reasons.push(`${at} belongs to ${ruleOwner} (${OWNER_TAG} tag), not ${a.owner}: choose another priority for the exemplar rule`);
      continue;
    }
    const foreign = targetsOf(rule).filter((arn) => !a.productionTargetGroupArns.includes(arn) && tagValue(tags.get(arn), OWNER_TAG) !== a.owner);
    if (foreign.length) {
      reasons.push(
        `${at} forwards to ${foreign.join(', ')}, which ${foreign.length > 1 ? 'are' : 'is'} not ${a.owner}'s: move the exemplar rule, or tag the rule ${OWNER_TAG}=${a.owner} if it is this service's`,
      );
    }
  }
  return reasons;
}

/**
 * Applies a rule plan: live rules go to 100/0 production/new; missing ones (first deploy) are
 * created as copies of their exemplar forwarding to the new group. `newTargetGroupOf` maps a
 * template target group to this deploy's clone of it.
 */
export async function prepareRules(
  elb: ElasticLoadBalancingV2Client,
  args: { changes: RuleChange[]; newTargetGroupOf: (templateArn: string) => string; tags: Tag[] },
): Promise<LiveRule[]> {
  const prepared: LiveRule[] = [];
  const rulesByListener = new Map<string, Rule[]>();
  const rulesOf = async (listenerArn: string) => {
    if (!rulesByListener.has(listenerArn)) rulesByListener.set(listenerArn, await listRules(elb, listenerArn));
    return rulesByListener.get(listenerArn)!;
  };
  for (const change of args.changes) {
    const newTargetGroupArn = args.newTargetGroupOf(change.templateTargetGroupArn);
    const rules = await rulesOf(change.listenerArn);
    if (change.action === 'create') {
      const exemplar = rules.find((r) => r.RuleArn === change.exemplarRuleArn);
      if (!exemplar) throw new DeployFailure(`Exemplar rule ${change.exemplarRuleArn} disappeared while the deploy started`);
      prepared.push(await createLiveRule(elb, { listenerArn: change.listenerArn, exemplar, priority: change.priority, newTargetGroupArn, tags: args.tags }));
      continue;
    }
    const live = rules.find((r) => r.RuleArn === change.liveRuleArn);
    if (!live) throw new DeployFailure(`Live rule ${change.liveRuleArn} disappeared while the deploy started`);
    const rule = describeLive(change.listenerArn, live, newTargetGroupArn, change.productionTargetGroupArn);
    if (!change.ownRule) await setRuleWeights(elb, rule, 0);
    prepared.push(rule);
  }
  return prepared;
}

function describeLive(listenerArn: string, rule: Rule, newTargetGroupArn: string, productionTargetGroupArn: string | undefined): LiveRule {
  return {
    listenerArn,
    ruleArn: rule.RuleArn!,
    newTargetGroupArn,
    productionTargetGroupArn,
    stickiness: forwardAction(rule)?.ForwardConfig?.TargetGroupStickinessConfig,
    actions: (rule.Actions ?? []).filter((a) => a.Type !== 'forward'),
  };
}

async function createLiveRule(
  elb: ElasticLoadBalancingV2Client,
  a: { listenerArn: string; exemplar: Rule; priority: number; newTargetGroupArn: string; tags: Tag[] },
): Promise<LiveRule> {
  const exemplarTags = await elbTagsOfOne(elb, a.exemplar.RuleArn!);
  const tooMany = tagQuotaProblem(`Exemplar rule ${a.exemplar.RuleArn}`, exemplarTags, a.tags);
  if (tooMany) throw new DeployFailure(tooMany);
  const base = describeLive(a.listenerArn, a.exemplar, a.newTargetGroupArn, undefined);
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

function actionsWithForward(rule: Pick<LiveRule, 'actions' | 'stickiness'>, groups: { TargetGroupArn: string; Weight: number }[]): Action[] {
  const forward: Action = {
    Type: 'forward',
    Order: rule.actions.reduce((max, a) => Math.max(max, a.Order ?? 0), 0) + 1,
    ForwardConfig: { TargetGroups: groups, TargetGroupStickinessConfig: rule.stickiness },
  };
  return [...rule.actions, forward];
}

/**
 * Absolute weights: `percent` on the rule's new group, the rest on production. Applying the same
 * step twice is harmless. Rules created by this deploy have no production group and stay at 100.
 */
export async function setRuleWeights(elb: ElasticLoadBalancingV2Client, rule: LiveRule, percent: number) {
  const w = weightsAtPercent(percent);
  const groups = rule.productionTargetGroupArn
    ? [
        { TargetGroupArn: rule.productionTargetGroupArn, Weight: w.production },
        { TargetGroupArn: rule.newTargetGroupArn, Weight: w.next },
      ]
    : [{ TargetGroupArn: rule.newTargetGroupArn, Weight: 100 }];
  await elb.send(new ModifyRuleCommand({ RuleArn: rule.ruleArn, Actions: actionsWithForward(rule, groups) }));
}

/** The end of a rollout: the rule forwards to its new group only, stickiness kept. */
export async function coalesceRule(elb: ElasticLoadBalancingV2Client, rule: LiveRule) {
  await forwardOnly(elb, rule, rule.newTargetGroupArn);
}

async function forwardOnly(elb: ElasticLoadBalancingV2Client, rule: Pick<LiveRule, 'ruleArn' | 'actions' | 'stickiness'>, targetGroupArn: string) {
  await elb.send(
    new ModifyRuleCommand({ RuleArn: rule.ruleArn, Actions: actionsWithForward(rule, [{ TargetGroupArn: targetGroupArn, Weight: 100 }]) }),
  );
}

/** What a rule forwards now, read back from the load balancer: the new groups' share of its weight. */
export interface RuleWeights {
  RuleArn: string;
  /** Percentage of the rule's weight on this deploy's target groups (0-100), as the ALB reports it. */
  NewPercent: number;
}

/** Reads the rules back, so TrafficShifted reports what the ALB says rather than what was asked. */
export async function readRuleWeights(elb: ElasticLoadBalancingV2Client, ruleArns: string[], newTargetGroupArns: string[]): Promise<RuleWeights[]> {
  const out: RuleWeights[] = [];
  for (let i = 0; i < ruleArns.length; i += 20) {
    const page = await elb.send(new DescribeRulesCommand({ RuleArns: ruleArns.slice(i, i + 20) }));
    for (const rule of page.Rules ?? []) {
      const targets = forwardTargets(forwardAction(rule));
      const total = targets.reduce((sum, t) => sum + t.weight, 0);
      const onNew = targets.filter((t) => newTargetGroupArns.includes(t.arn)).reduce((sum, t) => sum + t.weight, 0);
      out.push({ RuleArn: rule.RuleArn!, NewPercent: total ? Math.round((onNew / total) * 1000) / 10 : 0 });
    }
  }
  return out;
}

/**
 * Puts every rule on the listeners that forwards to one of the deploy's target groups back on
 * production: 100 % to the production group the rule still forwards to, or — for a rule already
 * coalesced onto the new group — to the production group `productionOf` names for it; a rule with
 * neither (created by a first deploy) is deleted. Stickiness and other actions are kept; safe to repeat.
 */
export async function restoreRules(
  elb: ElasticLoadBalancingV2Client,
  args: {
    listenerArns: string[];
    deployingTargetGroupArns: string[];
    productionOf: (deployingArn: string) => string | undefined;
    /** Whether the deploy created this rule (only such a rule is ever deleted). */
    createdByDeploy: (ruleArn: string) => Promise<boolean>;
    /**
     * Rules the deploy recorded as created. ELB reads are eventually consistent: a rule created a
     * moment ago may be missing from the listing, so one of these that is not listed is deleted by ARN.
     */
    recordedCreated?: string[];
  },
): Promise<{ restored: string[]; deleted: string[] }> {
  const restored: string[] = [];
  const deleted: string[] = [];
  const listed = new Set<string>();
  for (const listenerArn of args.listenerArns) {
    for (const rule of await listRules(elb, listenerArn)) {
      listed.add(rule.RuleArn!);
      const targets = forwardTargets(forwardAction(rule));
      const ours = targets.filter((t) => args.deployingTargetGroupArns.includes(t.arn));
      if (rule.IsDefault || !ours.length) continue;
      const production = targets.find((t) => !args.deployingTargetGroupArns.includes(t.arn))?.arn ?? args.productionOf(ours[0]!.arn);
      if (production) {
        await forwardOnly(elb, { ruleArn: rule.RuleArn!, actions: (rule.Actions ?? []).filter((a) => a.Type !== 'forward'), stickiness: forwardAction(rule)?.ForwardConfig?.TargetGroupStickinessConfig }, production);
        restored.push(rule.RuleArn!);
      } else if (await args.createdByDeploy(rule.RuleArn!)) {
        await deleteRule(elb, rule.RuleArn!);
        deleted.push(rule.RuleArn!);
      }
    }
  }
  for (const ruleArn of args.recordedCreated ?? []) {
    if (listed.has(ruleArn)) continue;
    if (await deleteRule(elb, ruleArn)) deleted.push(ruleArn);
  }
  return { restored, deleted };
}

/**
 * Deletes the recorded rules (`ruleArns`) that still forward to the recorded target groups only;
 * a rule someone re-pointed elsewhere meanwhile is left alone (it serves someone else now).
 */
export async function deleteRecordedRules(
  elb: ElasticLoadBalancingV2Client,
  a: { listenerArns: string[]; ruleArns: string[]; targetGroupArns: string[] },
): Promise<{ deleted: string[]; kept: string[] }> {
  const deleted: string[] = [];
  const kept: string[] = [];
  for (const listenerArn of a.listenerArns) {
    for (const rule of await listRules(elb, listenerArn)) {
      if (rule.IsDefault || !a.ruleArns.includes(rule.RuleArn!)) continue;
      const targets = forwardTargets(forwardAction(rule));
      if (!targets.length || targets.some((t) => !a.targetGroupArns.includes(t.arn))) {
        kept.push(rule.RuleArn!);
        continue;
      }
      await deleteRule(elb, rule.RuleArn!);
      deleted.push(rule.RuleArn!);
    }
  }
  return { deleted, kept };
}

/** Whether a rule carries this deploy's id tag (it created the rule). */
export async function ruleCreatedBy(elb: ElasticLoadBalancingV2Client, ruleArn: string, deployId: string): Promise<boolean> {
  return tagValue(await elbTagsOfOne(elb, ruleArn), DEPLOY_ID_TAG) === deployId;
}

/** Deletes a rule; false if it was already gone. */
async function deleteRule(elb: ElasticLoadBalancingV2Client, ruleArn: string): Promise<boolean> {
  try {
    await elb.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
    return true;
  } catch (err) {
    if (!(err instanceof RuleNotFoundException)) throw err;
    return false;
  }
}
