import { PutRuleCommand, PutTargetsCommand, EventBridgeClient, RemoveTargetsCommand, DeleteRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventEnvelope } from '../../events/envelope';
import { LIFECYCLE_SOURCE } from '../../events/catalog';

const OUTCOMES = ['DeployCompleted', 'DeployFailed', 'DeployCancelled', 'DeployRejected', 'DeployPlanned'];

export interface ObservedEvent {
  id: string;
  detailType: string;
  detail: Record<string, unknown>;
  receivedAt: number;
}

/**
 * Subscribes a queue to every lifecycle event on the bus (the way the CLI's watch and the Slack
 * notifier do) and collects them, for the demo's progress output and for tests.
 */
export class Observer {
  readonly events: ObservedEvent[] = [];
  private running = true;
  /** Ends the long poll in progress when the observer stops. */
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  private listeners: ((e: ObservedEvent) => void)[] = [];

  private constructor(
    private readonly sqs: SQSClient,
    private readonly bus: string,
    private readonly name: string,
    private readonly queueUrl: string,
  ) {}

  static async start(busName: string, name = `observer-${Math.random().toString(36).slice(2, 8)}`): Promise<Observer> {
    const sqs = new SQSClient({});
    const events = new EventBridgeClient({});
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${busName}-${name}` }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await events.send(
      new PutRuleCommand({ Name: `${busName}-${name}`, EventBusName: busName, EventPattern: JSON.stringify({ source: [LIFECYCLE_SOURCE] }) }),
    );
    await events.send(new PutTargetsCommand({ Rule: `${busName}-${name}`, EventBusName: busName, Targets: [{ Id: 'q', Arn: arn }] }));
    const o = new Observer(sqs, busName, name, QueueUrl!);
    o.loop = o.poll();
    return o;
  }

  onEvent(listener: (e: ObservedEvent) => void): void {
    this.listeners.push(listener);
  }

  private async poll() {
    while (this.running) {
      const out = await this.sqs
        .send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 }), { abortSignal: this.stopping.signal })
        .catch(() => ({ Messages: [] }));
      const messages = out.Messages ?? [];
      for (const m of messages) {
        const env = EventEnvelope.safeParse(JSON.parse(m.Body ?? '{}'));
        if (!env.success) continue;
        const e: ObservedEvent = {
          id: env.data.id,
          detailType: env.data['detail-type'],
          detail: env.data.detail as Record<string, unknown>,
          receivedAt: Date.now(),
        };
        this.events.push(e);
        for (const l of this.listeners) l(e);
      }
      if (messages.length) {
        await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    }
  }

  /** Events of one deploy, in arrival order. */
  of(deployId: string): ObservedEvent[] {
    return this.events.filter((e) => e.detail.DeployId === deployId);
  }

  /** Resolves with the first event (seen so far or later) that matches, or rejects after `timeoutMs`. */
  async waitFor(match: (e: ObservedEvent) => boolean, timeoutMs: number, what = 'event'): Promise<ObservedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = this.events.map((e) => `${e.detailType}(${String(e.detail.DeployId ?? '')})`).join(', ');
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; seen: ${seen || 'nothing'}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The deploy's final event: DeployCompleted, DeployFailed, DeployCancelled, DeployRejected (or, for a dry run, DeployPlanned). */
  async outcome(deployId: string, timeoutMs: number): Promise<ObservedEvent> {
    return this.waitFor(
      (e) => e.detail.DeployId === deployId && OUTCOMES.includes(e.detailType),
      timeoutMs,
      `the outcome of deploy ${deployId}`,
    );
  }

  /** The undeploy's final event: UndeployCompleted, UndeployRejected or UndeployFailed. */
  async undeployOutcome(undeployId: string, timeoutMs: number): Promise<ObservedEvent> {
    return this.waitFor(
      (e) => e.detail.UndeployId === undeployId && ['UndeployCompleted', 'UndeployRejected', 'UndeployFailed'].includes(e.detailType),
      timeoutMs,
      `the outcome of undeploy ${undeployId}`,
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await this.loop;
    const events = new EventBridgeClient({});
    await events.send(new RemoveTargetsCommand({ Rule: `${this.bus}-${this.name}`, EventBusName: this.bus, Ids: ['q'] })).catch(() => {});
    await events.send(new DeleteRuleCommand({ Name: `${this.bus}-${this.name}`, EventBusName: this.bus })).catch(() => {});
    await this.sqs.send(new DeleteQueueCommand({ QueueUrl: this.queueUrl })).catch(() => {});
  }
}
