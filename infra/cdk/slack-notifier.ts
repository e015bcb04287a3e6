import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { NOTIFIER_ENV } from '../../domain/notify/env';
import { SLACK_TABLE } from '../../domain/notify/table';
import { isDetailType, LIFECYCLE_SOURCE, type DetailType } from '../../events/catalog';
import { featureHandlers, rules, type HandlerSpec } from '../../events/topology';
import { DEFAULT_HANDLER_RUNTIME, nagResourceName } from './common';
import type { Deployomat, LogLevel } from './deployomat';
import { HandlerQueue } from './handler-queue';

/** The repository root: handler entries in the topology are relative to it. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Environment variables the notifier receives: where to read the token, never the token. */
export const SLACK_ENV = {
  channel: NOTIFIER_ENV.channel,
  secretArn: NOTIFIER_ENV.tokenSecretArn,
  parameterName: NOTIFIER_ENV.tokenParameterName,
} as const;

/**
 * Where the Slack bot token (`xoxb-…`) is stored. Only references exist: the token itself never
 * appears in a template or an environment variable; the notifier reads it at cold start.
 */
export abstract class SlackBotToken {
  /**
   * A Secrets Manager secret whose value is the token, in the notifier's account and region. The
   * notifier reads it through Parameter Store's secret references
   * (`/aws/reference/secretsmanager/<name>`), so give the secret's complete ARN (a secret of the
   * app, or `Secret.fromSecretCompleteArn`).
   */
  public static fromSecret(secret: secretsmanager.ISecret): SlackBotToken {
    return new (class extends SlackBotToken {
      public bind(fn: lambda.Function): void {
        secret.grantRead(fn);
        fn.addEnvironment(SLACK_ENV.secretArn, secret.secretArn);
        const reference = Stack.of(fn).formatArn({ service: 'ssm', resource: 'parameter', resourceName: 'aws/reference/secretsmanager/*' });
        fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadSecretReference', actions: ['ssm:GetParameter'], resources: [reference] }));
        Validations.of(fn.role!).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagResourceName(fn, reference)}]`,
          reason:
            "Parameter Store's path to Secrets Manager secrets: it serves only secrets the role may read itself " +
            '(secretsmanager:GetSecretValue, granted on the token secret alone).',
        });
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

/** The topology's notifier: the handler of the `slack` feature (events/topology.ts). */
export function notifierSpec(): HandlerSpec {
  const specs = featureHandlers('slack');
  if (specs.length !== 1) throw new Error(`the topology must declare exactly one handler of feature "slack" (got ${specs.length})`);
  return specs[0]!;
}

/** The lifecycle events the notifier hears about (from its topology subscriptions). */
export const DEFAULT_NOTIFIED: readonly DetailType[] = (() => {
  const spec = notifierSpec();
  return spec.trigger.kind === 'events'
    ? spec.trigger.subscriptions.filter((s) => s.source === LIFECYCLE_SOURCE).flatMap((s) => s.detailTypes.filter(isDetailType))
    : [];
})();

export interface SlackNotifierProps {
  /** The installation whose deploys are notified. */
  readonly deployomat: Deployomat;
  /** Where the bot token is stored. */
  readonly token: SlackBotToken;
  /** The channel to post to: preferably its id (`C0123…`); the bot must be a member. */
  readonly channel: string;
  /**
   * Lambda runtime of the notifier.
   * @default lambda.Runtime.NODEJS_24_X (as Deployomat's handlers)
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Retention of the notifier's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group and the notifier's table when the stack is deleted.
   * @default RemovalPolicy.RETAIN (as the ledger's default)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Actions of the dead-letter queue alarm.
   * @default no actions: the alarm is visible in CloudWatch only
   */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
}

/**
 * The Slack notifier of a Deployomat installation, built from the topology's `notify-slack`
 * handler (the `slack` feature, which the `Deployomat` construct leaves out): its rules (the
 * spec's subscriptions; archive replays never match, so a replay does not post again) → its queue
 * and dead-letter queue (with an alarm) → its function (entry, timeout, memory and batch size from
 * the spec), with its own role; its own table (`<prefix>-slack`: each deploy's message and thread
 * replies), encrypted like the ledger. The role writes that table only: it reads single ledger
 * items (GetItem) and the bot token. A dead-lettered notification never rolls a deploy back.
 */
export class SlackNotifier extends Construct {
  public readonly spec: HandlerSpec;
  public readonly queue: HandlerQueue;
  public readonly rules: events.Rule[];
  public readonly role: iam.Role;
  /** Where the notifier keeps its messages: the only table it may write. */
  public readonly table: dynamodb.Table;
  public readonly logGroup: logs.LogGroup;
  public readonly handler: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: SlackNotifierProps) {
    super(scope, id);
    if (!/^[#@]?[\w.-]{1,80}$/.test(props.channel)) {
      throw new Error(`channel must be a Slack channel name or id (got "${props.channel}")`);
    }
    const spec = (this.spec = notifierSpec());
    if (spec.trigger.kind !== 'events') throw new Error(`${spec.name}: a notifier is fed by events (got ${spec.trigger.kind})`);
    if (spec.queue.visibilityTimeoutSeconds < spec.timeoutSeconds) {
      throw new Error(`${spec.name}: queue visibility timeout (${spec.queue.visibilityTimeoutSeconds} s) must be at least the Lambda timeout (${spec.timeoutSeconds} s)`);
    }
    const runtime = props.runtime ?? DEFAULT_HANDLER_RUNTIME;
    if (runtime.family !== lambda.RuntimeFamily.NODEJS) throw new Error(`runtime must be a Node.js runtime (got ${runtime.name})`);

    const { deployomat } = props;
    const names = deployomat.names;
    this.queue = new HandlerQueue(this, 'Queue', {
      queueName: names.queue(spec.name),
      deadLetterQueueName: names.deadLetterQueue(spec.name),
      visibilityTimeout: Duration.seconds(spec.queue.visibilityTimeoutSeconds),
      maxReceiveCount: spec.queue.maxReceiveCount,
      alarmActions: props.alarmActions,
    });
    this.rules = rules(names, [spec]).map(
      (rule) =>
        new events.Rule(this, rule.name, {
          ruleName: rule.name,
          eventBus: deployomat.eventBus,
          description: `${spec.name}: ${JSON.stringify(rule.pattern['detail-type'])}`.slice(0, 512),
          eventPattern: rule.pattern as events.EventPattern,
          targets: [new targets.SqsQueue(this.queue.queue, { deadLetterQueue: this.queue.deadLetterQueue })],
        }),
    );
    this.queue.acceptOnlyFrom({ ruleArns: this.rules.map((r) => r.ruleArn) });

    const functionName = `${names.bus}-${spec.name}`;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // A table of its own: with write access to the ledger, its role could rewrite service items
    // (RoleArn, Plan, ProductionAsgName). Encrypted with the ledger's key, if it has one: one key grant covers both.
    const encryptionKey = deployomat.table.encryptionKey;
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: names.slackTable,
      partitionKey: { name: SLACK_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SLACK_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: SLACK_TABLE.ttlAttribute,
      ...(encryptionKey ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey } : {}),
      removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Deployomat (${names.bus}) Slack notifier: its own table, ledger items read only, the bot token`,
    });
    this.table.grant(this.role, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    // SkipNotifications of a deploy whose request it did not see: one history or service item.
    deployomat.table.grant(this.role, 'dynamodb:GetItem');
    if (encryptionKey) {
      encryptionKey.grantEncryptDecrypt(this.role);
      for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
        Validations.of(this.role).acknowledge({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason: "CDK's standard grant for an encrypted table, on the key of its table and the ledger only.",
        });
      }
    }
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.logGroup.grantWrite(this.role);

    this.handler = new nodejs.NodejsFunction(this, 'Function', {
      functionName,
      description: `Deployomat ${spec.name} (${spec.entry})`,
      entry: `${REPO_ROOT}${spec.entry}`,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      runtime,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(spec.timeoutSeconds),
      memorySize: spec.memoryMb,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        [NOTIFIER_ENV.slackTable]: this.table.tableName,
        [NOTIFIER_ENV.ledgerTable]: deployomat.table.tableName,
        [NOTIFIER_ENV.channel]: props.channel,
        POWERTOOLS_SERVICE_NAME: deployomat.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      },
      bundling: {
        minify: true,
        target: 'node20',
        format: nodejs.OutputFormat.CJS,
        mainFields: ['module', 'main'],
        bundleAwsSDK: true,
        logLevel: nodejs.LogLevel.ERROR,
      },
    });
    this.handler.addEventSource(
      new SqsEventSource(this.queue.queue, {
        batchSize: spec.queue.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: spec.concurrency.max,
      }),
    );
    props.token.bind(this.handler);
  }
}
