import { PutRuleCommand, PutTargetsCommand, type PutRuleCommandInput } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { LIFECYCLE_SOURCE } from '../events/catalog';
import { EventEnvelope } from '../events/envelope';
import type { Aws } from './aws';
import { EXIT, SetupError } from './errors';
import type { Output } from './render';
import { describeSubscription, isMissingQueue, removeSubscription, RENEW_EVERY_MS, STALE_AFTER_MS, subscriptionName, sweep } from './subscriptions';

/** A lifecycle event as the follower received it (the shape describeEvent takes). */
export interface FollowEvent {
  id: string;
  detailType: string;
  detail: Record<string, unknown>;
  /** EventBridge's `time` (ISO, second precision). */
  time: string;
  receivedAt: number;
}

/**
 * A temporary subscription to one service's lifecycle events, the way infra/local/observer.ts
 * does it: an EventBridge rule on the bus targeting a fresh SQS queue, deleted on close. Opened
 * *before* a command is published, so no event of it is missed. Replayed events are excluded.
 * While it is read, the rule's Description is renewed every RENEW_EVERY_MS: one nobody renews
 * is a leftover that the next CLI removes (cli/subscriptions.ts).
 */
export class Subscription {
  private readonly buffer: FollowEvent[] = [];
  private readonly seen = new Set<string>();
  private readonly abort = new AbortController();
  private renewedAt = Date.now();
  interrupted = false;

  private constructor(
    private readonly aws: Aws,
    readonly name: string,
    private readonly queueUrl: string,
    private readonly rule: (renewedAt: Date) => PutRuleCommandInput,
  ) {}

  static async open(aws: Aws, filter: { account: string; service: string }): Promise<Subscription> {
    const bus = aws.options.bus;
    const name = subscriptionName(bus);
    const events = aws.events();
    const sqs = aws.sqs();
    let queueUrl: string | undefined;
    const pattern = {
      source: [LIFECYCLE_SOURCE],
      'replay-name': [{ exists: false }],
      detail: { AccountCanonicalSlug: [filter.account], ServiceName: [filter.service] },
    };
    const rule = (renewedAt: Date): PutRuleCommandInput => ({
      Name: name,
      EventBusName: bus,
      EventPattern: JSON.stringify(pattern),
      Description: describeSubscription(filter, renewedAt),
    });
    try {
      const { RuleArn } = await events.send(new PutRuleCommand(rule(new Date())));
      // A day of retention bounds what a killed CLI (kill -9) leaves queued.
      queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { MessageRetentionPeriod: '86400' } }))).QueueUrl!;
      const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnEquals: { 'aws:SourceArn': RuleArn } },
          },
        ],
      };
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
      await events.send(new PutTargetsCommand({ Rule: name, EventBusName: bus, Targets: [{ Id: 'cli', Arn: queueArn }] }));
      return new Subscription(aws, name, queueUrl, rule);
    } catch (err) {
      await removeSubscription(aws, name, queueUrl);
      throw await aws.explain(err, 'subscription');
    }
  }

  /** The next event, or undefined if none arrived within `timeoutMs` (or after an interrupt). */
  async next(timeoutMs: number): Promise<FollowEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!this.buffer.length && !this.interrupted && Date.now() < deadline) {
      await this.renewIfDue();
      await this.receive(Math.max(1, Math.min(5, Math.round((deadline - Date.now()) / 1000))));
    }
    return this.buffer.shift();
  }

  /** Records that this subscription still has a follower (PutRule again, same pattern, new time). */
  private async renewIfDue(): Promise<void> {
    if (Date.now() - this.renewedAt < RENEW_EVERY_MS) return;
    const renewedAt = new Date();
    try {
      await this.aws.events().send(new PutRuleCommand(this.rule(renewedAt)));
    } catch (err) {
      if (this.interrupted) return;
      throw await this.aws.explain(err, 'subscription');
    }
    this.renewedAt = renewedAt.getTime();
  }

  private async receive(waitSeconds: number): Promise<void> {
    const sqs = this.aws.sqs();
    let messages;
    try {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }), {
        abortSignal: this.abort.signal,
      });
      messages = out.Messages ?? [];
    } catch (err) {
      if (this.interrupted) return;
      if (isMissingQueue(err)) {
        throw new SetupError(
          `The temporary subscription ${this.name} was removed while following: another CLI took it for a leftover (not renewed for ${STALE_AFTER_MS / 60_000} min; was this process suspended?).`,
          ['Deployomat keeps going without it: follow again with deployomat watch <deploy-id>, or see deployomat status'],
        );
      }
      throw await this.aws.explain(err, 'subscription');
    }
    const batch: FollowEvent[] = [];
    for (const m of messages) {
      const env = EventEnvelope.safeParse(safeJson(m.Body));
      if (!env.success || this.seen.has(env.data.id)) continue; // at-least-once: drop duplicates
      this.seen.add(env.data.id);
      const detail = (typeof env.data.detail === 'object' && env.data.detail ? env.data.detail : {}) as Record<string, unknown>;
      batch.push({ id: env.data.id, detailType: env.data['detail-type'], detail, time: env.data.time, receivedAt: Date.now() });
    }
    // SQS does not keep order: within a batch, a deploy's events go by their ledger position
    // (and of one transition's events, the state it ends in last: the step, then the pause).
    batch.sort((a, b) => seqOf(a) - seqOf(b) || rankOf(a) - rankOf(b) || a.time.localeCompare(b.time));
    this.buffer.push(...batch);
    if (messages.length) {
      await sqs
        .send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }))
        .catch(() => undefined); // a message seen twice is dropped by id
    }
  }

  /** Stops waiting (Ctrl-C): the current receive is aborted. */
  interrupt(): void {
    this.interrupted = true;
    this.abort.abort();
  }

  async close(): Promise<string | undefined> {
    return removeSubscription(this.aws, this.name, this.queueUrl);
  }
}

const seqOf = (e: FollowEvent) => (typeof e.detail.Seq === 'number' ? e.detail.Seq : 0);
const rankOf = (e: FollowEvent) => (e.detailType === 'RolloutPaused' ? 1 : 0);

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

export interface FollowOptions {
  /** Called for each event; returns an exit code once the outcome arrived. */
  onEvent(e: FollowEvent): number | undefined;
  /** Called about once a second (status redraw). */
  onTick?(): void;
  /** Called after `quietMs` without events: may find a missed outcome in the ledger. */
  onQuiet?(): Promise<number | undefined>;
  quietMs?: number;
}

/** Reads events until onEvent (or onQuiet) returns an exit code, or Ctrl-C (EXIT.interrupted). */
export async function follow(sub: Subscription, opts: FollowOptions): Promise<number> {
  let lastEvent = Date.now();
  for (;;) {
    const e = await sub.next(1000);
    if (sub.interrupted) return EXIT.interrupted;
    opts.onTick?.();
    if (e) {
      lastEvent = Date.now();
      const code = opts.onEvent(e);
      if (code !== undefined) return code;
    } else if (opts.onQuiet && Date.now() - lastEvent >= (opts.quietMs ?? 20_000)) {
      lastEvent = Date.now();
      const code = await opts.onQuiet();
      if (code !== undefined) return code;
    }
  }
}

/**
 * Removes stale subscriptions, opens one, runs `fn` with it and always removes it again — also on
 * Ctrl-C/SIGTERM, which interrupt the wait, or, while it is being opened, let the opening finish
 * and then remove it without running `fn`. A second Ctrl-C exits at once (what it leaves, the
 * next CLI removes once stale).
 */
export async function withSubscription(
  aws: Aws,
  filter: { account: string; service: string },
  stderr: Output,
  fn: (sub: Subscription) => Promise<number>,
): Promise<number> {
  let sub: Subscription | undefined;
  let interrupted = false;
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(EXIT.interrupted);
    interrupted = true;
    stderr.write(
      sub
        ? `\nInterrupted: removing the temporary subscription ${sub.name} (the command itself keeps running in Deployomat)\n`
        : '\nInterrupted: nothing was published; removing the temporary subscription being set up\n',
    );
    sub?.interrupt();
  };
  // Before anything is created: a signal in between would otherwise kill the process and leave it.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (const warning of await sweep(aws)) stderr.write(`warning: ${warning}\n`);
    if (interrupted) return EXIT.interrupted;
    sub = await Subscription.open(aws, filter);
    if (interrupted) return EXIT.interrupted;
    return await fn(sub);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const warning = await sub?.close();
    if (warning) stderr.write(`warning: ${warning}\n`);
  }
}
