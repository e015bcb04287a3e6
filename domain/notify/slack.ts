import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { WebAPIPlatformError, WebClient } from '@slack/web-api';
import { z } from 'zod';
import { ConfigError } from '../errors';
import { NOTIFIER_ENV } from './env';
import type { Block } from './render';

export { NOTIFIER_ENV };

export interface NotifierConfig {
  /** Where the notifier keeps its messages (read and written). */
  slackTableName: string;
  /** The ledger (read only). */
  ledgerTableName: string;
  channel: string;
  apiUrl?: string;
  /** The region the notifier runs in (Lambda's `AWS_REGION`): its AWS console links. */
  region?: string;
  token: { kind: 'value'; value: string } | { kind: 'parameter'; name: string } | { kind: 'secret'; arn: string };
}

const Env = z.object({
  [NOTIFIER_ENV.slackTable]: z.string().min(1),
  [NOTIFIER_ENV.ledgerTable]: z.string().min(1),
  [NOTIFIER_ENV.channel]: z.string().min(1),
  [NOTIFIER_ENV.token]: z.string().min(1).optional(),
  [NOTIFIER_ENV.tokenParameterName]: z.string().min(1).optional(),
  [NOTIFIER_ENV.tokenSecretArn]: z.string().min(1).optional(),
  [NOTIFIER_ENV.apiUrl]: z.url().optional(),
  AWS_REGION: z.string().min(1).optional(),
});

export function loadNotifierConfig(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`The Slack notifier is misconfigured: check ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  const e = parsed.data;
  const token = e[NOTIFIER_ENV.token]
    ? { kind: 'value' as const, value: e[NOTIFIER_ENV.token]! }
    : e[NOTIFIER_ENV.tokenParameterName]
      ? { kind: 'parameter' as const, name: e[NOTIFIER_ENV.tokenParameterName]! }
      : e[NOTIFIER_ENV.tokenSecretArn]
        ? { kind: 'secret' as const, arn: e[NOTIFIER_ENV.tokenSecretArn]! }
        : undefined;
  if (!token) {
    throw new ConfigError(
      `The Slack notifier has no bot token: set ${NOTIFIER_ENV.tokenSecretArn} or ${NOTIFIER_ENV.tokenParameterName} (or ${NOTIFIER_ENV.token} locally)`,
    );
  }
  return {
    slackTableName: e[NOTIFIER_ENV.slackTable]!,
    ledgerTableName: e[NOTIFIER_ENV.ledgerTable]!,
    channel: e[NOTIFIER_ENV.channel]!,
    apiUrl: e[NOTIFIER_ENV.apiUrl],
    region: e.AWS_REGION,
    token,
  };
}

/** `arn:…:secret:deploys/slack-AbCdEf` → `deploys/slack` (Secrets Manager appends 6 characters to the name). */
export function secretNameFromArn(arn: string): string {
  const name = arn.split(':secret:')[1];
  if (!name) throw new ConfigError(`${NOTIFIER_ENV.tokenSecretArn} is not a Secrets Manager secret ARN: ${arn}`);
  return name.replace(/-[A-Za-z0-9?]{6}$/, '');
}

/** Reads the bot token where the configuration says it is. The token never leaves this process. */
export async function resolveToken(token: NotifierConfig['token'], ssm: () => SSMClient): Promise<string> {
  if (token.kind === 'value') return token.value;
  // Parameter Store also serves Secrets Manager secrets under /aws/reference/secretsmanager/<name>.
  const name = token.kind === 'parameter' ? token.name : `/aws/reference/secretsmanager/${secretNameFromArn(token.arn)}`;
  const out = await ssm().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = out.Parameter?.Value?.trim();
  if (!value) throw new ConfigError(`The Slack bot token at ${name} is empty`);
  return value;
}

export interface SlackMessage {
  channel: string;
  text: string;
  blocks?: Block[];
  /** Post as a reply in this message's thread. */
  threadTs?: string;
}

/** The two Slack calls the notifier makes. */
export interface SlackPort {
  post(message: SlackMessage): Promise<{ ts: string; channel: string }>;
  update(message: { channel: string; ts: string; text: string; blocks?: Block[] }): Promise<void>;
}

/** The message can no longer be updated (deleted, or too old): not worth retrying. */
export function isGone(err: unknown): boolean {
  const code = err instanceof WebAPIPlatformError ? err.data.error : undefined;
  return code === 'message_not_found' || code === 'cant_update_message' || code === 'edit_window_closed';
}

/**
 * The official client. Slack's own retries are kept short (the Lambda has 30 s) and a rate limit
 * fails the delivery instead of sleeping through it: SQS redelivers it later.
 */
export function webClient(token: string, apiUrl?: string): WebClient {
  return new WebClient(token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    timeout: 10_000,
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2_000 },
    rejectRateLimitedCalls: true,
  });
}

export function slackPort(client: WebClient): SlackPort {
  return {
    async post(m) {
      const out = await client.chat.postMessage({
        channel: m.channel,
        text: m.text,
        ...(m.blocks ? { blocks: m.blocks } : {}),
        ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
        unfurl_links: false,
        unfurl_media: false,
      });
      if (!out.ts || !out.channel) throw new Error('chat.postMessage answered without ts or channel');
      return { ts: out.ts, channel: out.channel };
    },
    async update(m) {
      await client.chat.update({ channel: m.channel, ts: m.ts, text: m.text, ...(m.blocks ? { blocks: m.blocks } : {}) });
    },
  };
}
