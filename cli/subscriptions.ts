import { DeleteRuleCommand, ListRulesCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteQueueCommand, GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import type { Aws } from './aws';
import { isAccessDenied, SetupError } from './errors';

/**
 * The CLI's temporary subscriptions (follow.ts): one EventBridge rule `<bus>-cli-<random>` on the
 * bus and an SQS queue of the same name per following invocation (`--wait`, `watch`). A CLI that
 * is killed (kill -9, a cancelled CI job, a lost network) cannot remove them, and a bus has a
 * quota of rules (300 by default) shared with Deployomat's own. So each subscription records when
 * its follower last renewed it, any CLI that subscribes first removes those nobody renewed for
 * STALE_AFTER_MS, and at most MAX_SUBSCRIPTIONS may be live at once.
 *
 * A follow has no upper bound (a paused rollout waits for resume; steps and bakes may each last a
 * week), so the lifetime counts from the last renewal, not from the creation.
 */

/** A following CLI records the time again this often (PutRule with the same pattern). */
export const RENEW_EVERY_MS = 5 * 60_000;
/**
 * A subscription not renewed for this long has no follower (killed, or suspended that long): any
 * CLI removes it. Twelve renewals, so clocks may disagree by most of an hour.
 */
export const STALE_AFTER_MS = 60 * 60_000;
/**
 * A CLI from before renewals records no time: its rule is aged by its queue's creation (SQS's
 * clock), and may still be following after an hour; a day leaves any real follow alone.
 */
export const UNRENEWED_STALE_AFTER_MS = 24 * 60 * 60_000;
/**
 * Live subscriptions per bus at which a new one is refused. Leaves the rest of the bus's 300 rules
 * to Deployomat's own (17, and as many again while CloudFormation replaces them) and to others.
 */
export const MAX_SUBSCRIPTIONS = 100;

const MARKER = 'Temporary subscription of the deployomat CLI';
const RENEWED = /; renewed (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)/;
/** Calls at a time when sweeping (EventBridge throttles rule changes). */
const PARALLEL_CALLS = 4;

/** `<bus>-cli-`: the names of one bus's subscriptions (rule and queue), as the DeployerRole grants them. */
export const subscriptionPrefix = (bus: string) => `${bus.slice(0, 40)}-cli-`;

/** A fresh subscription name. */
export const subscriptionName = (bus: string) => `${subscriptionPrefix(bus)}${Math.random().toString(36).slice(2, 10)}`;

/** The rule's Description: what it is, and when its follower last renewed it. */
export function describeSubscription(filter: { account: string; service: string }, renewedAt: Date): string {
  return `${MARKER} (${filter.account}/${filter.service}); renewed ${renewedAt.toISOString()}; safe to delete ${STALE_AFTER_MS / 60_000} min after that`;
}

/** What the account holds under the prefix: the bus's rules (with their Description) and the queues. */
export interface Observed {
  rules: { name: string; description?: string }[];
  /** `createdAt` (SQS's CreatedTimestamp, ms) where a queue's age decides. */
  queues: { name: string; url: string; createdAt?: number }[];
}

export interface Verdict {
  /** Rules to remove (each with its target), and the same-named queue where there is one. */
  rules: { name: string; queueUrl?: string }[];
  /** Queues whose rule is gone, older than STALE_AFTER_MS. */
  queues: string[];
  /** Subscriptions that stay: followers running now (or renewed less than STALE_AFTER_MS ago). */
  live: number;
}

const ours = (prefix: string, name: string) => name.startsWith(prefix) && /^[a-z0-9]+$/.test(name.slice(prefix.length));
const isSubscriptionRule = (prefix: string, r: { name: string; description?: string }) => ours(prefix, r.name) && Boolean(r.description?.startsWith(MARKER));
const renewedAtOf = (description: string | undefined) => {
  const at = Date.parse(RENEWED.exec(description ?? '')?.[1] ?? '');
  return Number.isNaN(at) ? undefined : at;
};

/**
 * Which subscriptions are leftovers. A rule is when its recorded renewal is older than
 * STALE_AFTER_MS; a rule of a CLI from before renewals (no time recorded) when its queue was
 * created more than UNRENEWED_STALE_AFTER_MS ago — without a listed queue (ListQueues is
 * eventually consistent) its age is unknown: it is left alone, and not counted. A queue without a
 * rule is when it is older than STALE_AFTER_MS (younger, its rule may not be listed yet). Rules
 * and queues under the prefix that the CLI did not make (another name or Description) are never
 * touched.
 */
export function judge(observed: Observed, prefix: string, now: number): Verdict {
  const queues = new Map(observed.queues.filter((q) => ours(prefix, q.name)).map((q) => [q.name, q]));
  const older = (at: number | undefined, than: number) => at !== undefined && now - at > than;
  const verdict: Verdict = { rules: [], queues: [], live: 0 };
  const ruleNames = new Set(observed.rules.map((r) => r.name));
  for (const rule of observed.rules.filter((r) => isSubscriptionRule(prefix, r))) {
    const queue = queues.get(rule.name);
    const renewedAt = renewedAtOf(rule.description);
    if (renewedAt === undefined && !queue) continue;
    const stale = renewedAt !== undefined ? older(renewedAt, STALE_AFTER_MS) : older(queue?.createdAt, UNRENEWED_STALE_AFTER_MS);
    if (stale) verdict.rules.push({ name: rule.name, queueUrl: queue?.url });
    else verdict.live++;
  }
  for (const queue of queues.values()) if (!ruleNames.has(queue.name) && older(queue.createdAt, STALE_AFTER_MS)) verdict.queues.push(queue.url);
  return verdict;
}

/** Lists the bus's rules and the account's queues under the prefix; ages only the queues whose age decides. */
async function observe(aws: Aws, prefix: string): Promise<Observed> {
  const bus = aws.options.bus;
  const rules: Observed['rules'] = [];
  let ruleToken: string | undefined;
  do {
    const out = await aws.events().send(new ListRulesCommand({ EventBusName: bus, NamePrefix: prefix, NextToken: ruleToken, Limit: 100 }));
    rules.push(...(out.Rules ?? []).map((r) => ({ name: r.Name ?? '', description: r.Description })));
    ruleToken = out.NextToken;
  } while (ruleToken);
  const urls: string[] = [];
  let queueToken: string | undefined;
  do {
    const out = await aws.sqs().send(new ListQueuesCommand({ QueueNamePrefix: prefix, NextToken: queueToken, MaxResults: 1000 }));
    urls.push(...(out.QueueUrls ?? []));
    queueToken = out.NextToken;
  } while (queueToken);

  const renewed = new Set(rules.filter((r) => renewedAtOf(r.description) !== undefined).map((r) => r.name));
  const queues = await inBatches(
    urls.map((url) => ({ url, name: url.slice(url.lastIndexOf('/') + 1) })).filter((q) => ours(prefix, q.name)),
    async (q): Promise<Observed['queues'][number]> => {
      if (renewed.has(q.name)) return q; // its rule's renewal decides
      const attributes = await aws
        .sqs()
        .send(new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['CreatedTimestamp'] }))
        .then((out) => out.Attributes, ignoreMissingQueue);
      const created = Number(attributes?.CreatedTimestamp);
      return { ...q, createdAt: Number.isFinite(created) ? created * 1000 : undefined };
    },
  );
  return { rules, queues };
}

/**
 * Before a new subscription: removes the stale ones (targets first, then the rule, then its
 * queue) and refuses a new one while MAX_SUBSCRIPTIONS are live. Returns warnings for what could
 * not be looked at or removed; a role without the list permissions still follows (unbounded).
 */
export async function sweep(aws: Aws, now = Date.now()): Promise<string[]> {
  const bus = aws.options.bus;
  const prefix = subscriptionPrefix(bus);
  let observed: Observed;
  try {
    observed = await observe(aws, prefix);
  } catch (err) {
    // A role from before this check (or without it) still follows, unbounded, and is told so.
    if (!isAccessDenied(err)) throw await aws.explain(err, 'subscription');
    return [
      `could not look for stale temporary subscriptions "${prefix}*" to remove (${(err as Error).message}): that needs events:ListRules, sqs:ListQueues and sqs:GetQueueAttributes (the DeployerRole grants them)`,
    ];
  }
  const verdict = judge(observed, prefix, now);
  const warnings: string[] = [];
  let rulesLeft = 0;
  await inBatches(verdict.rules, async ({ name, queueUrl }) => {
    const left = await remove(aws, name, queueUrl);
    if (left.rule) rulesLeft++;
    if (left.warning) warnings.push(left.warning);
  });
  await inBatches(verdict.queues, async (url) => {
    const left = await remove(aws, undefined, url);
    if (left.warning) warnings.push(left.warning);
  });
  const live = verdict.live + rulesLeft;
  if (live >= MAX_SUBSCRIPTIONS) {
    throw new SetupError(`Too many temporary subscriptions on bus ${bus}: ${live} "${prefix}*" rules are in use (at most ${MAX_SUBSCRIPTIONS}); nothing was published.`, [
      `each is a running --wait or watch, or one left by a killed CLI, removed once not renewed for ${STALE_AFTER_MS / 60_000} min`,
      'publish without --wait (deploy prints the deploy id) and follow later with deployomat watch, or wait for other followers to end',
      `list them: aws events list-rules --event-bus-name ${bus} --name-prefix ${prefix}`,
      ...warnings,
    ]);
  }
  return warnings;
}

/**
 * Deletes a subscription: the rule's target, the rule, then the queue (either may be absent, and
 * may have been removed by another CLI meanwhile). Returns a warning if something is left.
 */
export async function removeSubscription(aws: Aws, name: string, queueUrl: string | undefined): Promise<string | undefined> {
  return (await remove(aws, name, queueUrl)).warning;
}

async function remove(aws: Aws, name: string | undefined, queueUrl: string | undefined): Promise<{ rule: boolean; warning?: string }> {
  const bus = aws.options.bus;
  const events = aws.events();
  const left: string[] = [];
  let rule = false;
  if (name) {
    await events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: bus, Ids: ['cli'] })).catch(() => undefined);
    await events.send(new DeleteRuleCommand({ Name: name, EventBusName: bus })).catch((err: Error) => {
      if (err.name === 'ResourceNotFoundException') return;
      rule = true;
      left.push(`rule ${name} on bus ${bus} (${err.name})`);
    });
  }
  if (queueUrl) {
    await aws
      .sqs()
      .send(new DeleteQueueCommand({ QueueUrl: queueUrl }))
      .catch(ignoreMissingQueue)
      .catch((err: Error) => left.push(`queue ${queueUrl} (${err.name})`));
  }
  return { rule, warning: left.length ? `could not delete the temporary ${left.join(' and ')}: delete it by hand` : undefined };
}

/** Whether an SQS error says the queue does not exist (deleted meanwhile). */
export const isMissingQueue = (err: unknown) => /QueueDoesNotExist|NonExistentQueue/.test(`${(err as Error)?.name} ${(err as { Code?: string })?.Code}`);

function ignoreMissingQueue(err: unknown): undefined {
  if (isMissingQueue(err)) return undefined;
  throw err;
}

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL_CALLS) out.push(...(await Promise.all(items.slice(i, i + PARALLEL_CALLS).map(fn))));
  return out;
}
