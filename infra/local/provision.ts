import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-eventbridge';
import { CreateScheduleGroupCommand, ListScheduleGroupsCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NOTIFIER_ENV } from '../../domain/notify/env';
import { SLACK_TABLE } from '../../domain/notify/table';
import { installedHandlers, queuedHandlers, resourceNames, rules, timerHandler, type Feature } from '../../events/topology';

/** What the local runtime provisioned: names, URLs, and the environment the handlers need. */
export interface LocalInstallation {
  prefix: string;
  region: string;
  accountId: string;
  busName: string;
  busArn: string;
  tableName: string;
  /** The Slack notifier's own table, when the `slack` feature is provisioned. */
  slackTableName?: string;
  scheduleGroup: string;
  schedulerRoleArn: string;
  queueUrls: Record<string, string>;
  deadLetterQueueUrls: Record<string, string>;
  timerQueueUrl: string;
  timerQueueArn: string;
  /** Optional features provisioned (their handlers' queues and rules exist, so the runtime runs them). */
  features: Feature[];
  /** Environment variables for the handlers, as the CDK stack sets them on each Lambda. */
  env: Record<string, string>;
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: attrs.Attributes!.QueueArn! };
}

/** A `pk`/`sk` string-keyed table, as the ledger and the notifier's table are (safe to run again). */
async function createTable(dynamo: DynamoDBClient, name: string, key: { partitionKey: string; sortKey: string }) {
  await ignore(
    dynamo.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: key.partitionKey, AttributeType: 'S' },
          { AttributeName: key.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: key.partitionKey, KeyType: 'HASH' },
          { AttributeName: key.sortKey, KeyType: 'RANGE' },
        ],
      }),
    ),
    ResourceInUseException,
  );
}

const ignore = async (p: Promise<unknown>, ...errors: (new (...a: never[]) => Error)[]) => {
  try {
    await p;
  } catch (err) {
    if (!errors.some((e) => err instanceof e)) throw err;
  }
};

/** The local installation's environment (the `Deployomat` construct's `environment`): seeded accounts are `development`. */
export const LOCAL_ENVIRONMENT = 'development';

/**
 * Features switched on by the environment: `slack` when `DEPLOYOMAT_SLACK_CHANNEL` is set (the
 * notifier then also needs `SLACK_BOT_TOKEN`, and `SLACK_API_URL` to talk to a stand-in).
 */
export function featuresFromEnv(env: NodeJS.ProcessEnv = process.env): Feature[] {
  return env.DEPLOYOMAT_SLACK_CHANNEL ? ['slack'] : [];
}

/**
 * Creates Deployomat's control plane in the emulator from the topology declaration — the same
 * list the CDK stack is built from: bus + archive, per handler a queue with its DLQ and the rule
 * that feeds it, the ledger table and the schedule group (and the tables of the features provisioned:
 * `slack`, the notifier's). Safe to run again.
 */
export async function provision(opts: {
  prefix?: string;
  region: string;
  accountId: string;
  /** Optional features to provision too. @default featuresFromEnv() */
  features?: readonly Feature[];
  /** The installation's environment (the construct's `environment`). @default LOCAL_ENVIRONMENT */
  environment?: string;
}): Promise<LocalInstallation> {
  const names = resourceNames(opts.prefix);
  const features = [...(opts.features ?? featuresFromEnv())];
  const specs = installedHandlers(features);
  const events = new EventBridgeClient({});
  const sqs = new SQSClient({});
  const dynamo = new DynamoDBClient({});
  const scheduler = new SchedulerClient({});

  await ignore(events.send(new CreateEventBusCommand({ Name: names.bus })), ResourceAlreadyExistsException);
  const busArn = `arn:aws:events:${opts.region}:${opts.accountId}:event-bus/${names.bus}`;
  await ignore(
    events.send(new CreateArchiveCommand({ ArchiveName: names.archive, EventSourceArn: busArn, RetentionDays: 30 })),
    ResourceAlreadyExistsException,
  );

  const queueUrls: Record<string, string> = {};
  const deadLetterQueueUrls: Record<string, string> = {};
  const queueArns: Record<string, string> = {};
  for (const spec of queuedHandlers(specs)) {
    const dlq = await createQueue(sqs, names.deadLetterQueue(spec.name), {
      MessageRetentionPeriod: String(14 * 24 * 3600),
      // As the CDK's: only its own queue may dead-letter into it.
      RedriveAllowPolicy: JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [`arn:aws:sqs:${opts.region}:${opts.accountId}:${names.queue(spec.name)}`] }),
    });
    const queue = await createQueue(sqs, names.queue(spec.name), {
      VisibilityTimeout: String(spec.queue.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: spec.queue.maxReceiveCount }),
    });
    queueUrls[spec.name] = queue.url;
    queueArns[spec.name] = queue.arn;
    deadLetterQueueUrls[spec.name] = dlq.url;
  }
  for (const rule of rules(names, specs)) {
    await events.send(new PutRuleCommand({ Name: rule.name, EventBusName: names.bus, EventPattern: JSON.stringify(rule.pattern) }));
    await events.send(
      new PutTargetsCommand({ Rule: rule.name, EventBusName: names.bus, Targets: [{ Id: 'queue', Arn: queueArns[rule.handler.name] }] }),
    );
  }

  await createTable(dynamo, names.table, { partitionKey: 'pk', sortKey: 'sk' });
  // The notifier's own table, as SlackNotifier creates it (it never writes the ledger).
  const slack = features.includes('slack');
  if (slack) await createTable(dynamo, names.slackTable, SLACK_TABLE);

  // Look first: the emulator silently replaces an existing group and drops its schedules.
  const groups = await scheduler.send(new ListScheduleGroupsCommand({ NamePrefix: names.scheduleGroup }));
  if (!groups.ScheduleGroups?.some((g) => g.Name === names.scheduleGroup)) {
    await scheduler.send(new CreateScheduleGroupCommand({ Name: names.scheduleGroup }));
  }

  const schedulerRoleArn = `arn:aws:iam::${opts.accountId}:role/${names.bus}-scheduler`;
  const timerQueueUrl = queueUrls[timerHandler().name]!;
  const timerQueueArn = queueArns[timerHandler().name]!;
  return {
    prefix: opts.prefix ?? 'deployomat',
    region: opts.region,
    accountId: opts.accountId,
    busName: names.bus,
    busArn,
    tableName: names.table,
    ...(slack ? { slackTableName: names.slackTable } : {}),
    scheduleGroup: names.scheduleGroup,
    schedulerRoleArn,
    queueUrls,
    deadLetterQueueUrls,
    timerQueueUrl,
    timerQueueArn,
    features,
    env: {
      DEPLOYOMAT_BUS_NAME: names.bus,
      DEPLOYOMAT_BUS_ARN: busArn,
      DEPLOYOMAT_TABLE_NAME: names.table,
      DEPLOYOMAT_TIMER_QUEUE_URL: timerQueueUrl,
      DEPLOYOMAT_TIMER_QUEUE_ARN: timerQueueArn,
      DEPLOYOMAT_SCHEDULE_GROUP: names.scheduleGroup,
      DEPLOYOMAT_SCHEDULER_ROLE_ARN: schedulerRoleArn,
      // As the CDK construct always sets it (its required `environment`): the meta role's session tag.
      DEPLOYOMAT_ENVIRONMENT: opts.environment ?? LOCAL_ENVIRONMENT,
      ...(slack ? { [NOTIFIER_ENV.slackTable]: names.slackTable } : {}),
    },
  };
}
