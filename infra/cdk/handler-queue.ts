import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface HandlerQueueProps {
  /** Name of the queue. */
  readonly queueName: string;
  /** Name of its dead-letter queue. */
  readonly deadLetterQueueName: string;
  /** Visibility timeout of the queue: longer than its consumer's timeout. */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /**
   * Visibility timeout of the dead-letter queue, when something consumes it.
   * @default 30 seconds (the SQS default)
   */
  readonly deadLetterVisibilityTimeout?: Duration;
  /**
   * Customer managed key for both queues.
   * @default SQS-managed server-side encryption (SSE-SQS)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Where the dead-letter alarm notifies.
   * @default no action: the alarm is visible in CloudWatch only
   */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
}

/**
 * A consumer's queue and its dead-letter queue, both encrypted and TLS-only, with an alarm as soon
 * as one message is dead-lettered: a poison message is a deploy that stopped, never noise.
 */
export class HandlerQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: HandlerQueueProps) {
    super(scope, id);
    if (!Number.isInteger(props.maxReceiveCount) || props.maxReceiveCount < 1) {
      throw new Error(`maxReceiveCount must be a positive integer (got ${props.maxReceiveCount})`);
    }
    const encryption = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };

    // Only its own queue may dead-letter into it: another queue of the account redriving here would
    // have the dead-letters handler roll back whatever deploy its messages name. By name (the
    // queue refers to this one already: a reference back would be a cycle).
    const sourceQueue = sqs.Queue.fromQueueArn(this, 'Source', Stack.of(this).formatArn({ service: 'sqs', resource: props.queueName }));
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: props.deadLetterQueueName,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: props.deadLetterVisibilityTimeout,
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.BY_QUEUE, sourceQueues: [sourceQueue] },
      enforceSSL: true,
      ...encryption,
    });
    this.queue = new sqs.Queue(this, 'Resource', {
      queueName: props.queueName,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      enforceSSL: true,
      ...encryption,
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `A message was dead-lettered in ${props.deadLetterQueueName}: a deploy step failed ${props.maxReceiveCount} times`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const action of props.alarmActions ?? []) this.deadLetterAlarm.addAlarmAction(action);
  }

  /**
   * Who may send to the queue and its dead-letter queue, as a deny for everyone else in the queues'
   * own policies (an identity policy granting `sqs:SendMessage` cannot override it): the queue
   * accepts messages only from the EventBridge rules in `ruleArns` (`aws:SourceArn`) or the roles in
   * `roleArns` (`aws:PrincipalArn`); the dead-letter queue only what those rules could not deliver
   * (SQS moves the queue's own dead letters without a SendMessage). A message dropped on either
   * would otherwise run the handler, or roll back the deploy it names.
   */
  public acceptOnlyFrom(senders: { ruleArns?: readonly string[]; roleArns?: readonly string[] }): void {
    const ruleArns = [...(senders.ruleArns ?? [])];
    const roleArns = [...(senders.roleArns ?? [])];
    if (!ruleArns.length && !roleArns.length) throw new Error('acceptOnlyFrom needs at least one rule or role');
    const deny = (sid: string, queue: sqs.Queue, conditions: Record<string, Record<string, string[]>>) =>
      queue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          // Negated operators hold when the key is absent: a sender with neither key is denied.
          ...(Object.keys(conditions).length ? { conditions } : {}),
        }),
      );
    // Both keys in one operator: denied only when neither names an allowed sender.
    deny('OnlyItsSendersSend', this.queue, {
      ArnNotEquals: { ...(ruleArns.length ? { 'aws:SourceArn': ruleArns } : {}), ...(roleArns.length ? { 'aws:PrincipalArn': roleArns } : {}) },
    });
    deny('OnlyUndeliveredEventsSend', this.deadLetterQueue, ruleArns.length ? { ArnNotEquals: { 'aws:SourceArn': ruleArns } } : {});
  }
}
