import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { catalog, LIFECYCLE_SOURCE, type DetailType } from '../../events/catalog';
import { eventPattern } from '../../events/topology';
import type { Deployomat } from './deployomat';
import { HandlerQueue } from './handler-queue';

/** Environment variables a notifier function receives: where to read the token, never the token. */
export const SLACK_ENV = {
  channel: 'SLACK_CHANNEL',
  secretArn: 'SLACK_BOT_TOKEN_SECRET_ARN',
  parameterName: 'SLACK_BOT_TOKEN_PARAMETER_NAME',
} as const;

/**
 * Where the Slack bot token (`xoxb-…`) is stored. Only references exist: the token itself never
 * appears in a template or an environment variable; the notifier reads it at run time.
 */
export abstract class SlackBotToken {
  /** A Secrets Manager secret whose value is the token. */
  public static fromSecret(secret: secretsmanager.ISecret): SlackBotToken {
    return new (class extends SlackBotToken {
      public bind(fn: lambda.Function): void {
        secret.grantRead(fn);
        fn.addEnvironment(SLACK_ENV.secretArn, secret.secretArn);
      }
    })();
  }

  /**
   * An SSM SecureString parameter, e.g. `ssm.StringParameter.fromSecureStringParameterAttributes(this,
   * 'Token', { parameterName, encryptionKey })` (give the key unless it is the account's `aws/ssm` key).
   */
  public static fromSecureStringParameter(parameter: ssm.IParameter): SlackBotToken {
    return new (class extends SlackBotToken {
      public bind(fn: lambda.Function): void {
        parameter.grantRead(fn);
        fn.addEnvironment(SLACK_ENV.parameterName, parameter.parameterName);
      }
    })();
  }

  /** Lets `fn` read the token and tells it where the token is. */
  public abstract bind(fn: lambda.Function): void;
}

/** What the notifier hears about by default: how each deploy or undeploy ended. */
export const DEFAULT_NOTIFIED: readonly DetailType[] = [
  'DeployRejected',
  'DeployCompleted',
  'DeployFailed',
  'DeployCancelled',
  'RollbackFailed',
  'UndeployCompleted',
  'UndeployFailed',
];

export interface SlackNotifierProps {
  /** The installation whose lifecycle events are notified. */
  readonly deployomat: Deployomat;
  /**
   * The function that posts to Slack. Deployomat does not ship one yet: bring your own. It receives
   * SQS batches of EventBridge events (report partial batch failures) and the environment variables
   * in {@link SLACK_ENV}.
   */
  readonly handler: lambda.Function;
  /** Where the bot token is stored. */
  readonly token: SlackBotToken;
  /** The channel to post to (the bot must be invited to it). */
  readonly channel: string;
  /**
   * Lifecycle events to notify.
   * @default DEFAULT_NOTIFIED: how each deploy or undeploy ended
   */
  readonly detailTypes?: readonly DetailType[];
}

/**
 * Subscribes a Slack notifier to Deployomat's lifecycle events: a rule (source `deployomat`, the
 * chosen detail-types, archive replays excluded so a replay does not post again) feeding a queue
 * with a dead-letter queue, consumed by `handler`, which gets read access to the bot token.
 */
export class SlackNotifier extends Construct {
  public readonly queue: HandlerQueue;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SlackNotifierProps) {
    super(scope, id);
    if (!/^[#@]?[\w.-]{1,80}$/.test(props.channel)) {
      throw new Error(`channel must be a Slack channel name or id (got "${props.channel}")`);
    }
    const detailTypes = props.detailTypes ?? DEFAULT_NOTIFIED;
    const wrong = detailTypes.filter((t) => catalog[t]?.source !== LIFECYCLE_SOURCE);
    if (detailTypes.length === 0 || wrong.length) {
      throw new Error(`detailTypes must be lifecycle events of the catalog (got ${JSON.stringify(wrong.length ? wrong : detailTypes)})`);
    }

    const { deployomat, handler } = props;
    const name = 'slack-notifier';
    const timeout = (handler.timeout ?? Duration.seconds(3)).toSeconds();
    this.queue = new HandlerQueue(this, 'Queue', {
      queueName: deployomat.names.queue(name),
      deadLetterQueueName: deployomat.names.deadLetterQueue(name),
      // AWS's advice for an SQS event source: six times the function timeout.
      visibilityTimeout: Duration.seconds(Math.min(6 * timeout, 43_200)),
      maxReceiveCount: 5,
    });
    this.rule = new events.Rule(this, 'Rule', {
      ruleName: deployomat.names.rule(name),
      eventBus: deployomat.eventBus,
      description: 'Deployomat lifecycle events for Slack',
      eventPattern: eventPattern({ source: LIFECYCLE_SOURCE, detailTypes }) as events.EventPattern,
      targets: [new targets.SqsQueue(this.queue.queue, { deadLetterQueue: this.queue.deadLetterQueue })],
    });
    handler.addEventSource(new SqsEventSource(this.queue.queue, { batchSize: 10, reportBatchItemFailures: true }));
    handler.addEnvironment(SLACK_ENV.channel, props.channel);
    props.token.bind(handler);
  }
}
