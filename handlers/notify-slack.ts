import { controlPlaneClients } from '../domain/aws/clients';
import { Ledger } from '../domain/ledger';
import { Conversations } from '../domain/notify/conversation';
import { parseNotifyEvent } from '../domain/notify/events';
import { notify, type NotifyDeps } from '../domain/notify/notify';
import { loadNotifierConfig, resolveToken, slackPort, webClient } from '../domain/notify/slack';
import { handlers } from '../events/topology';
import { sqsHandler } from './sqs-handler';

const NAME = 'notify-slack';
/** A claim outlives any invocation that made it: the Lambda timeout plus a margin. */
const CLAIM_TTL_MS = ((handlers.find((h) => h.name === NAME)?.timeoutSeconds ?? 30) + 15) * 1000;

/** Built once per container (cold start): configuration, the bot token, clients. */
let deps: Promise<Omit<NotifyDeps, 'log'>> | undefined;

async function build(): Promise<Omit<NotifyDeps, 'log'>> {
  const cfg = loadNotifierConfig();
  const cp = controlPlaneClients();
  const token = await resolveToken(cfg.token, () => cp.ssm);
  return {
    slack: slackPort(webClient(token, cfg.apiUrl)),
    channel: cfg.channel,
    links: { region: cfg.region },
    conversations: new Conversations(cp.dynamo, cfg.slackTableName, CLAIM_TTL_MS),
    // Read only (its role may only GetItem there): the notifier never writes control-plane state.
    ledger: new Ledger(cp.dynamo, cfg.ledgerTableName),
  };
}

/** Lifecycle events (and deploy/undeploy requests) → one Slack message per deploy, with its thread. */
export const handler = sqsHandler(NAME, async (record, log) => {
  const parsed = parseNotifyEvent(record.body);
  if (!parsed.ok) {
    log.warn('Not notified', { reason: parsed.reason });
    return;
  }
  const e = parsed.event;
  log.appendKeys({ eventId: e.id, detailType: e.type });
  deps ??= build().catch((err: unknown) => {
    deps = undefined; // try again on the next message (e.g. the token could not be read)
    throw err;
  });
  await notify({ ...(await deps), log }, e);
});
