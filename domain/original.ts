import { z } from 'zod';
import { AccountSlug, ServiceName } from '../events/names';
import { parseDeployTimestamp } from './naming';

/**
 * The original Deployomat (GoCarrot/terraform-aws-deployomat, Ruby + Step Functions): what it
 * leaves in an account, read by `deployomat import` to adopt its services and by start-deploy to
 * refuse deploying beside it. Its names are ours (domain/naming.ts); its state is one DynamoDB item
 * per service in its own table.
 */

/** The original's table is named after its service name, `deployomat` unless changed. */
export const ORIGINAL_TABLE = 'deployomat';

/** One item of the original's table (`id = "<slug>.<service>"`); other attributes are ignored. */
export const OriginalItem = z.object({
  id: z.string().min(3),
  deploy_id: z.string().optional(),
  deploy_asg_name: z.string().optional(),
  production_asg_name: z.string().optional(),
  undeploy_state: z.string().optional(),
  /** Set by our import: the production it handed over (the item is fenced, see {@link IMPORT_FENCE}). */
  imported_production_asg_name: z.string().optional(),
});
export type OriginalItem = z.output<typeof OriginalItem>;

/**
 * What the import writes as the item's `deploy_asg_name` once it has adopted the service: the
 * original's every deploy and undeploy requires that attribute empty, so it can no longer touch
 * the service. (Its cancel would only clear the fence: with `production_asg_name` empty and no
 * such ASG, it finds no rule and deletes nothing.)
 */
export const IMPORT_FENCE = 'imported-by-deployomat';

/** `"<slug>.<service>"`, the original's primary key. */
export const originalId = (key: { AccountCanonicalSlug: string; ServiceName: string }) => `${key.AccountCanonicalSlug}.${key.ServiceName}`;

/** The original's automatic-undeploy rule on the default bus: `"<slug>.<service>"[0, 54]-undeploy`. */
export const originalUndeployRuleName = (key: { AccountCanonicalSlug: string; ServiceName: string }) => `${originalId(key).slice(0, 54)}-undeploy`;

/**
 * The ways `id` splits into a valid account slug and service name (slugs and names may contain
 * dots); the caller keeps the one the account registry knows.
 */
export function splitOriginalId(id: string): { AccountCanonicalSlug: string; ServiceName: string }[] {
  const out: { AccountCanonicalSlug: string; ServiceName: string }[] = [];
  for (let i = id.indexOf('.'); i > 0; i = id.indexOf('.', i + 1)) {
    const slug = id.slice(0, i);
    const service = id.slice(i + 1);
    if (AccountSlug.safeParse(slug).success && ServiceName.safeParse(service).success) out.push({ AccountCanonicalSlug: slug, ServiceName: service });
  }
  return out;
}

/** Whether `name` is an ASG name the original (or we) give a deploy of `service`: `<service>-<UTC timestamp>`. */
export function isDeployAsgName(service: string, name: string): boolean {
  return name.startsWith(`${service}-`) && parseDeployTimestamp(name.slice(service.length + 1)) !== undefined;
}

/** The time a rule's `cron(M H D Mo ? Y)` (the original's one-shot schedule) fires, or undefined. */
export function cronTime(expression: string | undefined): Date | undefined {
  const m = /^cron\((\d{1,2}) (\d{1,2}) (\d{1,2}) (\d{1,2}) \? (\d{4})\)$/.exec(expression ?? '');
  if (!m) return undefined;
  const [minute, hour, day, month, year] = m.slice(1).map(Number) as [number, number, number, number, number];
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute));
  return at.getUTCMonth() === month - 1 && at.getUTCDate() === day ? at : undefined;
}

/** The command an operator runs to hand a service over from the original. */
export const importCommand = (key: { AccountCanonicalSlug: string; ServiceName: string }) =>
  `deployomat import --original-table ${ORIGINAL_TABLE} --account ${key.AccountCanonicalSlug} --service ${key.ServiceName}`;

/** What the import read of one service, in the original's item, the ledger and AWS. */
export interface ImportFacts {
  item: OriginalItem;
  /** Our ledger's item: absent, at rest without production, or anything else (then refused). */
  ledger: 'none' | 'free' | { phase: string; productionAsgName: string };
  /** The production ASG the item names (absent: it is gone). */
  asg?: { name: string; targetGroupArns: string[] };
  /** Whether the service has listener rules to shift (listener_arns). */
  web: boolean;
  /** Each live rule at one of the service's priorities: where it forwards, with weights. */
  liveRules: { ruleArn: string; targets: { arn: string; weight: number }[] }[];
  /** The original's automatic-undeploy rule, if it has one. */
  undeployRule?: { name: string; at?: Date };
}

export type ImportDecision =
  | { kind: 'import'; productionAsgName: string; targetGroupArns: string[]; ruleArns: string[]; undeployState: 'allow' | ''; automaticUndeployAt?: Date; resumed: boolean }
  | { kind: 'refuse'; reasons: string[] }
  | { kind: 'nothing'; reason: string };

/**
 * Whether a service can be adopted, and what to write: pure, from what the import read (`now`
 * decides whether the original's automatic undeploy is still ahead).
 */
export function decideImport(f: ImportFacts, now: Date): ImportDecision {
  const { item } = f;
  // Fenced by an earlier import that did not finish: carry on with the production it handed over.
  const resumed = item.deploy_asg_name === IMPORT_FENCE;
  const production = resumed ? item.imported_production_asg_name : item.production_asg_name;
  if (!resumed && item.deploy_asg_name) {
    return { kind: 'refuse', reasons: [`a deploy is in progress in the original Deployomat (${item.deploy_asg_name}): let it finish or cancel it there, then import again`] };
  }
  if (item.undeploy_state === 'undeploying') return { kind: 'refuse', reasons: ['an undeploy is in progress in the original Deployomat: let it finish, then import again'] };
  if (!production) return { kind: 'nothing', reason: 'nothing in production (never deployed, or undeployed): its next deploy here is a first deploy' };

  const reasons: string[] = [];
  // An import that wrote the ledger but stopped before the end finds its own item: carry on.
  const ours = typeof f.ledger === 'object' && resumed && f.ledger.phase === 'Completed' && f.ledger.productionAsgName === production;
  if (typeof f.ledger === 'object' && !ours) {
    reasons.push(`Deployomat already runs it (phase ${f.ledger.phase}${f.ledger.productionAsgName ? `, production ${f.ledger.productionAsgName}` : ''}): nothing to import`);
  }
  if (!f.asg) reasons.push(`its production ASG ${production} is gone: nothing to adopt (undeploy it in the original, or delete its item)`);
  const groups = f.asg?.targetGroupArns ?? [];
  if (f.asg && f.web && !groups.length) reasons.push(`${production} has no target group, but the service has listener rules`);
  if (f.asg && f.web && !f.liveRules.length) reasons.push(`no live rule at the service's priority forwards to ${production}'s target group`);
  for (const rule of f.liveRules) {
    const serving = rule.targets.filter((t) => t.weight > 0).map((t) => t.arn);
    if (serving.length > 1) reasons.push(`rule ${rule.ruleArn} is split between ${serving.join(' and ')} (a deploy left half way): finish or cancel it in the original first`);
    else if (f.asg && serving.some((arn) => !groups.includes(arn))) reasons.push(`rule ${rule.ruleArn} forwards to ${serving.join(', ')}, not to ${production}'s target group`);
  }
  const at = f.undeployRule?.at;
  if (f.undeployRule && !at) reasons.push(`its automatic-undeploy rule ${f.undeployRule.name} has a schedule the import does not read: delete the rule or wait for it`);
  else if (at && at.getTime() <= now.getTime()) reasons.push(`its automatic undeploy was due at ${at.toISOString()} and has not run (rule ${f.undeployRule!.name}): check the original's undeploy first`);
  if (reasons.length) return { kind: 'refuse', reasons };
  return {
    kind: 'import',
    productionAsgName: production,
    targetGroupArns: groups,
    ruleArns: f.liveRules.map((r) => r.ruleArn),
    undeployState: item.undeploy_state === 'allow' ? 'allow' : '',
    automaticUndeployAt: at,
    resumed,
  };
}
