import type { Logger } from '@aws-lambda-powertools/logger';
import { PROGRESS_DETAIL_TYPE } from '../../events/progress';
import type { Ledger } from '../ledger';
import { noticeKey, replyKey, type Conversation, type Conversations, type PostKey } from './conversation';
import type { NotifyEvent } from './events';
import { renderMessage, renderNotice, renderStep, type RenderOptions } from './render';
import { isGone, type SlackPort } from './slack';
import { applyEvent, initialView, isVisible, replyStepOf, stepKey, subjectOf, type Subject } from './view';

/**
 * The Slack notifier: ONE message per deploy (or undeploy), posted on its first event, updated in
 * place as it progresses, with a thread reply per step; with SkipNotifications, only a failure.
 * Safe under at-least-once delivery (see ./conversation.ts for how).
 */

export type NotifyLog = Pick<Logger, 'info' | 'warn'>;

export interface NotifyDeps {
  slack: SlackPort;
  /** Where new messages go (a thread reply goes where its message is). */
  channel: string;
  /** How the messages link to the AWS console (its region). */
  links?: RenderOptions;
  conversations: Conversations;
  /** For SkipNotifications when the request itself was not seen. */
  ledger: Pick<Ledger, 'getDeployment' | 'getService'>;
  log: NotifyLog;
}

/** Another delivery is posting the same message right now: retry this one later. */
export class ConcurrentDeliveryError extends Error {
  override name = 'ConcurrentDeliveryError';
}

type ConversationSubject = Extract<Subject, { kind: 'deploy' | 'undeploy' }>;

const MAX_FOLD_ATTEMPTS = 8;
const MAX_SYNC_ROUNDS = 5;
/** How long a delivery waits for another one that is posting the same message before giving up (and retrying later). */
const BUSY_WAIT_MS = 3_000;
/** The same notice (e.g. a cancel rejected for the same reason) is posted at most once in this window. */
export const NOTICE_REPEAT_MS = 10 * 60_000;

export async function notify(deps: NotifyDeps, e: NotifyEvent): Promise<void> {
  const subject = subjectOf(e);
  if (!subject) {
    deps.log.info('Not an event the notifier posts about', { type: e.type });
    return;
  }
  if (subject.kind === 'notice') return postNotice(deps, e);
  // Someone else's progress lines go into a deploy's thread, never open a message: an update
  // naming a deploy this notifier has not posted (a typo, or a deploy of another installation) is dropped.
  if (e.type === PROGRESS_DETAIL_TYPE && !(await deps.conversations.get(subject))) {
    deps.log.warn('A progress update for a deploy without a Slack message: not posted', { deployId: subject.id });
    return;
  }

  const conversation = await fold(deps, subject, e);
  if (!isVisible(conversation.view)) {
    deps.log.info('SkipNotifications: nothing posted', { step: stepKey(e) });
    return;
  }
  const { message, opened } = await ensureMessage(deps, subject, conversation);
  await syncMessage(deps, subject);
  // The event that opened the message is told by the message itself; every later one gets a reply.
  // With SkipNotifications the thread stays empty: only the failure is posted.
  if (!opened && !conversation.view.skip) await replyOnce(deps, subject, e, message);
}

/** Folds the event into the conversation's view (created on the first event), at most once. */
async function fold(deps: NotifyDeps, subject: ConversationSubject, e: NotifyEvent): Promise<Conversation> {
  const step = stepKey(e);
  for (let attempt = 1; attempt <= MAX_FOLD_ATTEMPTS; attempt++) {
    const current = await deps.conversations.get(subject);
    if (current?.view.applied.includes(step)) return current;
    const base = current?.view ?? initialView(subject, await skipNotifications(deps, subject, e));
    const view = applyEvent(base, e);
    if (current) {
      if (await deps.conversations.saveView(subject, current.version, view)) return { ...current, view, version: current.version + 1 };
    } else if (await deps.conversations.create(subject, view)) {
      return { view, version: 1, sentVersion: 0 };
    }
  }
  throw new ConcurrentDeliveryError(`the Slack conversation of ${subject.id} kept changing under this delivery`);
}

/**
 * SkipNotifications of a deploy whose request this notifier did not see first: from its history
 * record in the ledger (or the service's current request). The request, when it comes, says it too.
 */
async function skipNotifications(deps: NotifyDeps, subject: ConversationSubject, e: NotifyEvent): Promise<boolean> {
  if (subject.kind !== 'deploy' || e.type === 'DeployRequested') return false;
  const key = { AccountCanonicalSlug: subject.account, ServiceName: subject.service };
  const history = await deps.ledger.getDeployment(key, subject.id);
  const config = history?.Config as { SkipNotifications?: unknown } | undefined;
  if (config && typeof config.SkipNotifications === 'boolean') return config.SkipNotifications;
  try {
    const service = await deps.ledger.getService(key);
    return service?.ActiveDeployId === subject.id ? service.Request.Config.SkipNotifications : false;
  } catch {
    return false; // a service record this version cannot read: notify rather than stay silent
  }
}

/** Posts the message if it has not been posted yet. `opened`: this delivery posted it. */
async function ensureMessage(
  deps: NotifyDeps,
  subject: ConversationSubject,
  conversation: Conversation,
): Promise<{ message: { ts: string; channel: string }; opened: boolean }> {
  if (conversation.ts && conversation.channel) return { message: { ts: conversation.ts, channel: conversation.channel }, opened: false };
  const claimed = await deps.conversations.claimMessage(subject);
  if (claimed.claim !== 'won') {
    // Posted, or being posted by another delivery right now (usually done within a second).
    const posted = await waitFor(async () => {
      const c = await deps.conversations.get(subject);
      return c?.ts && c.channel ? { ts: c.ts, channel: c.channel } : undefined;
    }, claimed.claim === 'posted' ? 0 : BUSY_WAIT_MS);
    if (!posted) throw new ConcurrentDeliveryError(`another delivery is posting the message of ${subject.id}`);
    return { message: posted, opened: false };
  }
  const { view, version } = claimed.conversation;
  const message = await deps.slack.post({ channel: deps.channel, ...renderMessage(view, deps.links) });
  await deps.conversations.messagePosted(subject, message.ts, message.channel, version);
  deps.log.info('Posted the Slack message', { ts: message.ts, channel: message.channel, version });
  return { message, opened: true };
}

/**
 * Brings the message up to the latest view. Looks again after each update, so that of two
 * deliveries racing, the one that wrote the newer view also sends it.
 */
async function syncMessage(deps: NotifyDeps, subject: ConversationSubject): Promise<void> {
  for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
    const c = await deps.conversations.get(subject);
    if (!c?.ts || !c.channel || c.sentVersion >= c.version) return;
    try {
      await deps.slack.update({ channel: c.channel, ts: c.ts, ...renderMessage(c.view, deps.links) });
    } catch (err) {
      if (!isGone(err)) throw err;
      deps.log.warn('The Slack message can no longer be updated; leaving it as it is', { error: String(err) });
    }
    await deps.conversations.sent(subject, c.version);
  }
}

async function replyOnce(deps: NotifyDeps, subject: ConversationSubject, e: NotifyEvent, message: { ts: string; channel: string }) {
  const text = renderStep(e);
  if (!text) return;
  await postOnce(deps, replyKey(subject, replyStepOf(e)), () => deps.slack.post({ channel: message.channel, text, threadTs: message.ts }));
}

async function postNotice(deps: NotifyDeps, e: NotifyEvent): Promise<void> {
  const rendered = renderNotice(e, deps.links);
  if (!rendered) return;
  await postOnce(deps, noticeKey(e.type, e.detail), () => deps.slack.post({ channel: deps.channel, ...rendered }), NOTICE_REPEAT_MS);
}

async function postOnce(deps: NotifyDeps, key: PostKey, post: () => Promise<{ ts: string }>, repostAfterMs?: number): Promise<void> {
  let claim = await deps.conversations.claimPost(key, repostAfterMs);
  if (claim === 'busy') {
    // A duplicate delivery is posting it: done once that one records it (or, had it died, ours to take over).
    const settled = await waitFor(async () => {
      const again = await deps.conversations.claimPost(key, repostAfterMs);
      return again === 'busy' ? undefined : again;
    }, BUSY_WAIT_MS);
    if (!settled) throw new ConcurrentDeliveryError(`another delivery is posting ${key.sk}`);
    claim = settled;
  }
  if (claim === 'posted') return;
  const { ts } = await post();
  await deps.conversations.posted(key, ts);
}

/** Polls `check` until it yields a value or `ms` have passed (at least one try). */
async function waitFor<T>(check: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}
