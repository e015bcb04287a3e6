import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expiresAt } from '../ledger';
import { SLACK_TABLE } from './table';
import { View, type Subject } from './view';

/**
 * The Slack side of a deploy, in the notifier's own table (./table.ts), never in the ledger: the
 * notifier's role may only read the ledger, so it cannot rewrite control-plane state. The keys
 * are the ones these items had in the ledger, where they used to live:
 *
 * | pk | sk | what |
 * |---|---|---|
 * | `<slug>#<service>` | `SLACK#<deployId>` (`SLACK#undeploy:<id>`) | the message: `View` + `Version`, its `Ts`/`Channel` once posted, `SentVersion` |
 * | `<slug>#<service>` | `SLACK#<deployId>\|<step>` | one thread reply: claimed, then its `Ts` |
 * | `SLACK#NOTICE` | `SLACK#notice:<type>:<hash of its detail>` | a stand-alone notice (the same one at most once per window) |
 *
 * (`:` and `|` cannot occur in a deploy id, so the keys never collide.) Every write is
 * conditional, so at-least-once delivery and concurrent deliveries cannot post twice:
 * - the view changes by optimistic locking on `Version`;
 * - a post (the message, a reply, a notice) is *claimed* first; a claim older than the notifier's
 *   Lambda timeout belongs to an invocation that died and may be taken over. A delivery that dies
 *   between Slack's answer and recording `Ts` leaves the one case of a duplicate post;
 * - an update is sent while `SentVersion < Version`, and repeating one is harmless.
 */

export interface Conversation {
  view: View;
  version: number;
  /** The version of the view Slack shows (0: none). */
  sentVersion: number;
  ts?: string;
  channel?: string;
}

export type Claim = 'won' | 'posted' | 'busy';

export interface PostKey {
  pk: string;
  sk: string;
}

type ConversationSubject = Extract<Subject, { kind: 'deploy' | 'undeploy' }>;

const pkOf = (s: ConversationSubject) => `${s.account}#${s.service}`;
const messageSk = (s: ConversationSubject) => (s.kind === 'deploy' ? `SLACK#${s.id}` : `SLACK#undeploy:${s.id}`);

export const replyKey = (s: ConversationSubject, step: string): PostKey => ({ pk: pkOf(s), sk: `${messageSk(s)}|${step}` });
/**
 * A notice is keyed by what it says, not by its event: a rejection carries no request id, and a
 * redelivered request is rejected again by a new event with the same content.
 */
export const noticeKey = (type: string, detail: unknown): PostKey => ({
  pk: 'SLACK#NOTICE',
  sk: `SLACK#notice:${type}:${createHash('sha256').update(JSON.stringify(detail)).digest('hex').slice(0, 32)}`,
});

const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException;

export class Conversations {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** A claim older than this is abandoned (longer than the notifier's Lambda timeout). */
    private readonly claimTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private key(s: ConversationSubject) {
    return { pk: pkOf(s), sk: messageSk(s) };
  }

  async get(s: ConversationSubject): Promise<Conversation | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: this.key(s), ConsistentRead: true }));
    return out.Item ? toConversation(out.Item) : undefined;
  }

  /** Creates the conversation with its first view (version 1). False if it exists already. */
  async create(s: ConversationSubject, view: View): Promise<boolean> {
    const now = new Date(this.now()).toISOString();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...this.key(s), Kind: s.kind, View: view, Version: 1, SentVersion: 0, UpdatedAt: now, [SLACK_TABLE.ttlAttribute]: expiresAt(now) },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Replaces the view if it is still at `version`. False if someone else changed it meanwhile. */
  async saveView(s: ConversationSubject, version: number, view: View): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(s),
          ConditionExpression: '#version = :version',
          UpdateExpression: 'SET #view = :view, #version = :next, #updated = :now',
          ExpressionAttributeNames: { '#view': 'View', '#version': 'Version', '#updated': 'UpdatedAt' },
          ExpressionAttributeValues: { ':view': view, ':version': version, ':next': version + 1, ':now': new Date(this.now()).toISOString() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Claims posting the message itself. `won` comes with the conversation to render. */
  async claimMessage(s: ConversationSubject): Promise<{ claim: 'won'; conversation: Conversation } | { claim: 'posted' } | { claim: 'busy' }> {
    const now = this.now();
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(s),
          ConditionExpression: 'attribute_exists(sk) AND attribute_not_exists(#ts) AND (attribute_not_exists(#claimed) OR #claimed < :stale)',
          UpdateExpression: 'SET #claimed = :now',
          ExpressionAttributeNames: { '#ts': 'Ts', '#claimed': 'ClaimedAt' },
          ExpressionAttributeValues: { ':now': now, ':stale': now - this.claimTtlMs },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { claim: 'won', conversation: toConversation(out.Attributes!) };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return (await this.get(s))?.ts ? { claim: 'posted' } : { claim: 'busy' };
    }
  }

  /** Records the posted message, showing `version` of the view. */
  async messagePosted(s: ConversationSubject, ts: string, channel: string, version: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.key(s),
        UpdateExpression: 'SET #ts = :ts, #channel = :channel, #sent = :version',
        ExpressionAttributeNames: { '#ts': 'Ts', '#channel': 'Channel', '#sent': 'SentVersion' },
        ExpressionAttributeValues: { ':ts': ts, ':channel': channel, ':version': version },
      }),
    );
  }

  /** Records that Slack shows `version` (never goes back to an older one). */
  async sent(s: ConversationSubject, version: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(s),
          ConditionExpression: '#sent < :version',
          UpdateExpression: 'SET #sent = :version',
          ExpressionAttributeNames: { '#sent': 'SentVersion' },
          ExpressionAttributeValues: { ':version': version },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /**
   * Claims one post (a thread reply or a notice), recorded as an item of its own. With
   * `repostAfterMs`, the same post may be made again once that long has passed since the last.
   */
  async claimPost(key: PostKey, repostAfterMs?: number): Promise<Claim> {
    const now = this.now();
    const iso = new Date(now).toISOString();
    const again = repostAfterMs === undefined ? '' : ' OR #claimed < :again';
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key, ClaimedAt: now, [SLACK_TABLE.ttlAttribute]: expiresAt(iso) },
          ConditionExpression: `attribute_not_exists(sk) OR (attribute_not_exists(#ts) AND #claimed < :stale)${again}`,
          ExpressionAttributeNames: { '#ts': 'Ts', '#claimed': 'ClaimedAt' },
          ExpressionAttributeValues: {
            ':stale': now - this.claimTtlMs,
            ...(repostAfterMs === undefined ? {} : { ':again': now - repostAfterMs }),
          },
        }),
      );
      return 'won';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      return out.Item?.Ts ? 'posted' : 'busy';
    }
  }

  async posted(key: PostKey, ts: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET #ts = :ts',
        ExpressionAttributeNames: { '#ts': 'Ts' },
        ExpressionAttributeValues: { ':ts': ts },
      }),
    );
  }
}

function toConversation(item: Record<string, unknown>): Conversation {
  return {
    view: View.parse(item.View),
    version: Number(item.Version),
    sentVersion: Number(item.SentVersion ?? 0),
    ts: typeof item.Ts === 'string' ? item.Ts : undefined,
    channel: typeof item.Channel === 'string' ? item.Channel : undefined,
  };
}
