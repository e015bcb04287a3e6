import { ArnFormat, Duration, Lazy, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_AMI_OWNERS } from '../../domain/config';
import { catalog, CLIENT_SOURCE, LIFECYCLE_SOURCE, type DetailType } from '../../events/catalog';
import {
  coreHandlers,
  handlers,
  queuedHandlers,
  rollbackOnDeadLetter,
  resourceNames,
  rules,
  timerHandler,
  type HandlerSpec,
  type ResourceNames,
} from '../../events/topology';
import { BusAuditTrail } from './audit-trail';
import { addStatement, assertExternalId, assertOrganizationId, assertPrefix, assertSegment, DEFAULT_HANDLER_RUNTIME, DEFAULT_SERVICE_NAME, ENVIRONMENT_TAG, SERVICE_TAG } from './common';
import { HandlerQueue } from './handler-queue';
import { PRINCIPAL_ENVIRONMENT, registryParameterArns } from './ssm-paths';

/** The repository root: handler entries in the topology are relative to it. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The commands a deployer may publish: every event of the catalog whose source is
 * `deployomat.client` (the catalog says who may publish what).
 */
export const CLIENT_COMMANDS: readonly DetailType[] = (Object.keys(catalog) as DetailType[]).filter(
  (type) => catalog[type].source === CLIENT_SOURCE,
);

/** Client commands that Deployomat schedules itself: the automatic undeploy (domain/undeploy-schedule.ts). */
export const SCHEDULED_COMMANDS: readonly DetailType[] = ['UndeployRequested'];

/** What a Lambda of Deployomat logs at, through Powertools (`POWERTOOLS_LOG_LEVEL`). */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** A principal ARN no caller has (an ArnNotEquals list may not be empty). */
const NOBODY = 'arn:aws:iam::000000000000:role/deployomat-nobody';

/** The attribute whose epoch-seconds value expires ledger items (deploy history). */
export const LEDGER_TTL_ATTRIBUTE = 'ExpiresAt';

export interface DeployomatProps {
  /**
   * The environment of this installation (e.g. `development`, `production`). Tags the handlers'
   * role `Environment`: it may only assume workload roles tagged with the same environment, and
   * passes it to the meta role, which scopes the SSM parameters it may read.
   */
  readonly environment: string;
  /** The organization prefix: first segment of every SSM path (`/<org>/<environment>/<account>/...`). */
  readonly organizationPrefix: string;
  /**
   * Installation prefix: names of the bus, queues, rules, ledger table and schedule group
   * (see `resourceNames` in events/topology.ts). 1-32 characters of A-Z a-z 0-9 _ -, starting and
   * ending with a letter or digit, no two of _ - in a row (the audit trail's name follows
   * CloudTrail's rules), not `default` (the account's own bus).
   * @default 'deployomat'
   */
  readonly prefix?: string;
  /**
   * Deployomat's service name: the role parameter it reads per account (`<prefix>/roles/<name>`),
   * the `Managed` tag value on what it creates, and the `Service` tag workload roles must carry.
   * @default 'deployomat'
   */
  readonly serviceName?: string;
  /**
   * A role in the meta/config account that can read the SSM account registry (see `MetaAccessRole`).
   * @default none: the handlers read the registry in this account with their own role
   */
  readonly metaRoleArn?: string;
  /**
   * The external id the handlers pass when they assume the meta role and the workload roles (the
   * original's `external_id`): give the same value as `externalId` to `MetaAccessRole` and each
   * `DeployAccessRole`, whose trust then requires it. Not a secret (it is in the functions'
   * environment): it guards roles against being assumed by a confused deputy, see docs/SECURITY.md.
   * @default none passed
   */
  readonly roleExternalId?: string;
  /**
   * The AWS Organizations id of the workload and meta accounts: the handlers may assume roles only
   * in accounts of this organization (`aws:ResourceOrgID`), whatever a registry entry names. The
   * other direction is the workload and meta roles' own `organizationId` (`aws:PrincipalOrgID`).
   * @default any account (a role is still assumable only if it carries the tags below and trusts the handlers)
   */
  readonly organizationId?: string;
  /**
   * Roles the handlers may assume in workload accounts; on top of that, a role must be tagged
   * `Service=<serviceName>` and `Environment=<environment>` (see `DeployAccessRole`).
   * @default any role in any account (`arn:<partition>:iam::*:role/*`), restricted by those tags
   */
  readonly workloadRoleArns?: readonly string[];
  /**
   * Only principals granted a client command ({@link Deployomat.grantPublishCommands}, e.g. a
   * `DeployerRole`), those in `commandPublisherArns` and the scheduler role (automatic undeploys) may
   * publish it: a deny in the bus policy (`aws:PrincipalArn`). `false` restores the behaviour before
   * 0.2: any principal of this account whose identity policy allows `events:PutEvents` on the bus
   * can deploy, cancel and undeploy (see docs/SECURITY.md for the risk).
   * @default true
   */
  readonly restrictCommandPublishers?: boolean;
  /**
   * Further role ARNs that may publish every client command, beyond those granted with
   * `grantPublishCommands` (e.g. a CI role defined in another stack, which also needs an identity
   * policy allowing `events:PutEvents` on the bus).
   * @default none
   */
  readonly commandPublisherArns?: readonly string[];
  /**
   * Owners an AMI must have to be deployed — explicit AMI ids and `$launchtemplate:` versions
   * included (DeployRejected otherwise) — and the owners `$name-prefix:` searches: account ids,
   * `self` (the workload account), `amazon`, `deployomat-account` (this stack's account).
   * @default ['self', 'deployomat-account'] (`DEFAULT_AMI_OWNERS`, the handlers' own default)
   */
  readonly amiOwners?: readonly string[];
  /**
   * Before a deploy creates anything, the service's launch template and the instance roles it
   * launches with must carry the service's owner tag (`DeployomatService=<account slug>/<service>`);
   * DeployRejected says what to tag otherwise. `false`: any launch template, and any instance
   * role under `/<org>/service-role/`, as the original. Set the workload accounts'
   * `DeployAccessRole` `requireOwnerTags` the same way (it enforces the rule in IAM).
   * @default true
   */
  readonly requireOwnerTags?: boolean;
  /**
   * Time between two health counts while waiting for new instances.
   * @default Duration.seconds(15)
   */
  readonly healthCheckInterval?: Duration;
  /** How often a bake with RollbackAlarms checks the alarms (default 30 s). */
  readonly alarmCheckInterval?: Duration;
  /**
   * How long in-flight requests drain after traffic is restored, before a rolled-back deploy's
   * group is deleted (`DEPLOYOMAT_DRAIN_SECONDS`).
   * @default Duration.seconds(15)
   */
  readonly drainTime?: Duration;
  /**
   * Slack added to a deploy's expected duration before the watchdog rolls it back
   * (`DEPLOYOMAT_DEADLINE_MARGIN_SECONDS`).
   * @default Duration.minutes(10)
   */
  readonly deadlineMargin?: Duration;
  /**
   * A failed message is retried after `retryBase` × 2^(attempt − 1) (`DEPLOYOMAT_RETRY_BASE_SECONDS`).
   * @default Duration.seconds(2)
   */
  readonly retryBase?: Duration;
  /**
   * A timer longer than 15 minutes is a Scheduler schedule that fires this long before the due
   * time and hands the event to the timer queue, which waits out the rest to the second
   * (`DEPLOYOMAT_SCHEDULER_LEAD_SECONDS`). Scheduler invokes within 60 s, so at least 61 s.
   * @default Duration.minutes(2)
   */
  readonly schedulerLead?: Duration;
  /**
   * At most one dry run per service is planned in this time (`DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS`):
   * each reads the workload account, whose API quotas all its teams' deploys share. Within it an
   * identical request is dropped and any other rejected (DeployRejected with `RetryAt`).
   * `Duration.seconds(0)` turns the limit off. Whole seconds, at most an hour.
   * @default Duration.seconds(10)
   */
  readonly dryRunInterval?: Duration;
  /**
   * A paused rollout without a `PauseTimeout` of its own rolls back after this long
   * (`DEPLOYOMAT_MAX_PAUSE_SECONDS`), and a deploy asking for a longer `PauseTimeout` is rejected:
   * a forgotten pause holds a second fleet, and the service, until then. Whole seconds, at most
   * 365 days (the way to let pauses wait for a person for as long as that).
   * @default Duration.hours(24)
   */
  readonly maxPause?: Duration;
  /**
   * How long the archive keeps Deployomat's events (for replaying history; replays never re-run a deploy).
   * @default Duration.days(30)
   */
  readonly archiveRetention?: Duration;
  /**
   * Lambda runtime of the handlers. The bundles target Node.js 20 (the version the project is
   * developed and tested on), so any later Node.js runtime runs them.
   * @default lambda.Runtime.NODEJS_24_X: Lambda deprecated Node.js 20 on 2026-04-30 and blocks creating
   * functions with it (cfn-lint E2533), so the default is the runtime AWS names as its successor
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Retention of the handlers' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Set Lambda concurrency aside for the rollback path (start-rollback, restore-traffic,
   * finish-rollback, dead-letter: the `reserved` of each in events/topology.ts, 19 in all), so a
   * rollback runs at once even while deploys or anything else in the account use up its
   * concurrency. `false` for accounts whose concurrency limit cannot spare it (new accounts may
   * have 10): a rollback then waits for free capacity like any other function.
   * @default true
   */
  readonly reserveRollbackCapacity?: boolean;
  /**
   * Powertools log level of the handlers.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * The customer managed key of everything Deployomat stores that can take one: the queues and
   * their dead-letter queues, the ledger table, the bus and its archive, the handlers' log groups
   * (and the audit trail's log files). A key of this stack, or one whose policy already lets
   * EventBridge, CloudWatch Logs (and CloudTrail) use it. `'aws-owned'`: each service's own
   * encryption instead (SSE-SQS, AWS owned keys), as before 0.2 — still encrypted, but whoever may
   * read a queue, the table or the archive reads it: no key policy as a second gate, no record of
   * decrypts (see docs/SECURITY.md).
   * @default a key of its own (`alias/<prefix>`, rotated yearly, removed with `removalPolicy`)
   */
  readonly encryptionKey?: kms.IKey | 'aws-owned';
  /**
   * Actions of the dead-letter queue alarms (e.g. an SNS topic that pages someone).
   * @default no actions: the alarms are visible in CloudWatch only
   */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
  /**
   * Record who publishes to the bus, as AWS sees it: a CloudTrail trail (`<prefix>-bus-audit`)
   * logging every PutEvents on the bus as a data event — the caller, its session and source
   * identity (see `DeployerRole`), where from, when — into an S3 bucket of its own (log file
   * validation on, files encrypted with `encryptionKey`, written by this trail only, never deleted
   * through the bucket). `{ bucket }` delivers to a bucket you keep instead (its policy must let
   * the trail write: see `BusAuditTrail`). Data events are charged ($0.10 per 100,000 in 2026:
   * every command and every lifecycle event the handlers publish is one), plus S3.
   * @default false: no trail (CloudTrail logs no data events unless asked)
   */
  readonly auditTrail?: boolean | { readonly bucket: s3.IBucket };
  /**
   * What happens to the ledger table and the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN: deploy history outlives the stack
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Deployomat's control plane, in the CI/CD account: the event bus and its archive, and — from the
 * topology declaration (events/topology.ts), the same one the local runtime is built from — per
 * handler its queue (+ dead-letter queue and alarm), the rule(s) feeding it and its Lambda; the
 * timer queue, the Scheduler group and the role it publishes with, and the ledger table.
 */
export class Deployomat extends Construct {
  /** Names of every named resource, from the installation prefix. */
  public readonly names: ResourceNames;
  public readonly serviceName: string;
  public readonly environment: string;
  public readonly organizationPrefix: string;
  public readonly eventBus: events.EventBus;
  public readonly archive: events.Archive;
  public readonly table: dynamodb.Table;
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  /** The role Scheduler assumes: long timers to the timer queue, automatic undeploys to the bus, nothing else. */
  public readonly schedulerRole: iam.Role;
  /** The role of every handler (tagged `Service` and `Environment` for the cross-account ABAC). */
  public readonly handlerRole: iam.Role;
  /** The timer queue (`DEPLOYOMAT_TIMER_QUEUE_URL`): the queue of the topology's timer handler. */
  public readonly timerQueue: sqs.IQueue;
  /** Per handler name: its Lambda. */
  public readonly functions: ReadonlyMap<string, lambda.Function>;
  /** Per handler name with a queue of its own: the queue, its dead-letter queue and alarm. */
  public readonly queues: ReadonlyMap<string, HandlerQueue>;
  /** Per handler name: its log group. */
  public readonly logGroups: ReadonlyMap<string, logs.LogGroup>;
  /** The key of every store that takes one (see `encryptionKey`); undefined with `'aws-owned'`. */
  public readonly encryptionKey?: kms.IKey;
  /** The trail of the bus's PutEvents, with `auditTrail`. */
  public readonly auditTrail?: BusAuditTrail;
  /** Per client command: the role ARNs the bus lets publish it (filled by grantPublishCommands). */
  private readonly commandPublishers = new Map<DetailType, string[]>();

  constructor(scope: Construct, id: string, props: DeployomatProps) {
    super(scope, id);
    const prefix = props.prefix ?? 'deployomat';
    assertPrefix('prefix', prefix);
    this.serviceName = props.serviceName ?? DEFAULT_SERVICE_NAME;
    assertSegment('serviceName', this.serviceName);
    assertSegment('environment', props.environment);
    assertSegment('organizationPrefix', props.organizationPrefix);
    assertOrganizationId(props.organizationId);
    assertExternalId(props.roleExternalId, 'roleExternalId');
    this.environment = props.environment;
    this.organizationPrefix = props.organizationPrefix;
    // Core handlers only: a feature handler (HandlerSpec.feature) is built by its own construct
    // (`slack`: SlackNotifier), so an installation without the feature has none of its resources.
    const specs = coreHandlers(handlers);
    validateTopology(specs);

    const names = (this.names = resourceNames(prefix));
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    Tags.of(this).add(SERVICE_TAG, this.serviceName);
    Tags.of(this).add(ENVIRONMENT_TAG, props.environment);

    const key = (this.encryptionKey = this.createKey(props, prefix, removalPolicy));
    this.eventBus = new events.EventBus(this, 'Bus', { eventBusName: names.bus, kmsKey: key });
    // In the bus's scope, as `eventBus.archive()` puts it (which drops kmsKey): the same logical id.
    // The bus by its ARN from its name: the archive's key policy names it, and a reference to the
    // bus itself would make the key depend on the bus that depends on the key.
    const busArn = Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: names.bus });
    const busByName = events.EventBus.fromEventBusArn(this, 'BusByName', busArn);
    this.archive = new events.Archive(this.eventBus, 'Archive', {
      sourceEventBus: busByName,
      archiveName: names.archive,
      description: 'Every Deployomat event, for replaying history (replays never re-run a deploy)',
      eventPattern: { source: [CLIENT_SOURCE, LIFECYCLE_SOURCE] },
      retention: props.archiveRetention ?? Duration.days(30),
      kmsKey: key,
    });
    this.archive.node.addDependency(this.eventBus);
    if (props.auditTrail) {
      this.auditTrail = new BusAuditTrail(this, 'AuditTrail', {
        eventBus: this.eventBus,
        trailName: names.auditTrail,
        bucket: props.auditTrail === true ? undefined : props.auditTrail.bucket,
        encryptionKey: key,
        removalPolicy,
      });
    }

    this.table = new dynamodb.Table(this, 'Ledger', {
      tableName: names.table,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
      ...(key ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key } : {}),
      removalPolicy,
    });

    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: names.scheduleGroup,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedulerRole = this.createSchedulerRole();
    // The trust policies of workload and meta roles check these tags: only the handler role carries them.
    Tags.of(this.schedulerRole).remove(SERVICE_TAG);
    Tags.of(this.schedulerRole).remove(ENVIRONMENT_TAG);

    this.handlerRole = new iam.Role(this, 'HandlerRole', {
      // A known name: workload and meta roles trust exactly this role (aws:PrincipalArn).
      roleName: names.handlerRole,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Deployomat (${prefix}) handlers: ledger, bus, timers, and roles tagged ${SERVICE_TAG}=${this.serviceName}`,
    });
    this.grantHandlerPermissions(props);
    this.restrictLifecyclePublishers();
    this.restrictCommandPublishers(props);

    // Queues: one per handler with a trigger of its own; the dead-letters handler reads the others' DLQs.
    const deadLetterSpec = specs.find((h) => h.trigger.kind === 'dead-letters');
    const queues = new Map<string, HandlerQueue>();
    for (const spec of queuedHandlers().filter((h) => !h.feature)) {
      queues.set(
        spec.name,
        new HandlerQueue(this, `${spec.name}-queue`, {
          queueName: names.queue(spec.name),
          deadLetterQueueName: names.deadLetterQueue(spec.name),
          visibilityTimeout: Duration.seconds(spec.queue.visibilityTimeoutSeconds),
          maxReceiveCount: spec.queue.maxReceiveCount,
          deadLetterVisibilityTimeout: deadLetterSpec
            ? Duration.seconds(deadLetterSpec.queue.visibilityTimeoutSeconds)
            : undefined,
          encryptionKey: key,
          alarmActions: props.alarmActions,
        }),
      );
    }
    this.queues = queues;
    this.timerQueue = queues.get(timerHandler().name)!.queue;
    this.timerQueue.grantSendMessages(this.handlerRole);
    // A long timer's schedule hands its event to the timer queue shortly before it is due (domain/emit.ts).
    this.timerQueue.grantSendMessages(this.schedulerRole);
    if (key) {
      for (const role of [this.handlerRole, this.schedulerRole]) {
        for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
          Validations.of(role).acknowledge({
            id: `AwsSolutions-IAM5[Action::${action}]`,
            reason: "CDK's standard grant for encrypted queues and tables, on the given key only.",
          });
        }
      }
    }

    const ruleArns = new Map<string, string[]>();
    for (const rule of rules(names, specs)) {
      const queue = queues.get(rule.handler.name)!;
      const created = new events.Rule(this, rule.name, {
        ruleName: rule.name,
        eventBus: this.eventBus,
        description: `${rule.handler.name}: ${JSON.stringify(rule.pattern['detail-type'])}`.slice(0, 512),
        // The topology's pattern verbatim (source, detail-types, replays excluded).
        eventPattern: rule.pattern as events.EventPattern,
        // An event EventBridge cannot deliver lands in the handler's dead-letter queue, not nowhere.
        targets: [new targets.SqsQueue(queue.queue, { deadLetterQueue: queue.deadLetterQueue })],
      });
      ruleArns.set(rule.handler.name, [...(ruleArns.get(rule.handler.name) ?? []), created.ruleArn]);
    }
    // Each queue takes messages from its own rules only; the timer queue from the handlers and
    // Scheduler only. Nobody else can drop a message that a handler would act on.
    for (const [name, queue] of queues) {
      if (name === timerHandler().name) queue.acceptOnlyFrom({ roleArns: [this.handlerRole.roleArn, this.schedulerRole.roleArn] });
      else queue.acceptOnlyFrom({ ruleArns: ruleArns.get(name) });
    }

    const environment = this.handlerEnvironment(props);
    const runtime = props.runtime ?? DEFAULT_HANDLER_RUNTIME;
    if (runtime.family !== lambda.RuntimeFamily.NODEJS) throw new Error(`runtime must be a Node.js runtime (got ${runtime.name})`);
    const functions = new Map<string, lambda.Function>();
    const logGroups = new Map<string, logs.LogGroup>();
    for (const spec of specs) {
      const functionName = `${prefix}-${spec.name}`;
      const logGroup = new logs.LogGroup(this, `${spec.name}-logs`, {
        logGroupName: `/aws/lambda/${functionName}`,
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy,
        encryptionKey: key,
      });
      logGroup.grantWrite(this.handlerRole);
      const fn = new nodejs.NodejsFunction(this, spec.name, {
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
        role: this.handlerRole,
        logGroup,
        environment,
        reservedConcurrentExecutions: props.reserveRollbackCapacity === false ? undefined : spec.concurrency.reserved,
        bundling: {
          minify: true,
          target: 'node20',
          format: nodejs.OutputFormat.CJS,
          // ESM builds first: esbuild tree-shakes them (the SDK v3 clients ship both).
          mainFields: ['module', 'main'],
          // Bundle the SDK rather than use the runtime's: we run the versions we tested, and a
          // tree-shaken, minified bundle loads faster than the runtime's full SDK packages.
          bundleAwsSDK: true,
          logLevel: nodejs.LogLevel.ERROR,
        },
      });
      if (spec.trigger.kind === 'dead-letters') {
        const rollbackOn = new Set(rollbackOnDeadLetter(specs).map((h) => h.name));
        for (const [name, q] of queues) {
          if (!rollbackOn.has(name)) continue; // a projection's dead letters wait for an operator
          fn.addEventSource(
            new SqsEventSource(q.deadLetterQueue, { batchSize: spec.queue.batchSize, reportBatchItemFailures: true, maxConcurrency: spec.concurrency.max }),
          );
        }
      } else {
        fn.addEventSource(
          new SqsEventSource(queues.get(spec.name)!.queue, {
            batchSize: spec.queue.batchSize,
            reportBatchItemFailures: true,
            // A flood of one command runs at most this many at once (see HandlerSpec.concurrency).
            maxConcurrency: spec.concurrency.max,
          }),
        );
      }
      functions.set(spec.name, fn);
      logGroups.set(spec.name, logGroup);
    }
    this.functions = functions;
    this.logGroups = logGroups;
  }

  /**
   * Lets `grantee` publish the client `commands` — and nothing else — to the bus: source
   * `deployomat.client`, detail-type one of `commands`. The bus policy denies each command to every
   * principal it was not granted to (unless `restrictCommandPublishers` is false), so the grant is
   * what makes a role a deployer: `events:PutEvents` on `*` in some CI role is not enough.
   * @param commands @default every client command ({@link CLIENT_COMMANDS})
   */
  public grantPublishCommands(grantee: iam.IRole, commands: readonly DetailType[] = CLIENT_COMMANDS): iam.Grant {
    const unknown = commands.filter((c) => !CLIENT_COMMANDS.includes(c));
    if (unknown.length || !commands.length) {
      throw new Error(`commands must be client commands, at least one of ${CLIENT_COMMANDS.join(', ')} (got ${commands.join(', ') || 'none'})`);
    }
    for (const command of commands) this.commandPublishers.get(command)!.push(grantee.roleArn);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['events:PutEvents'],
      resourceArns: [this.eventBus.eventBusArn],
      conditions: {
        // Both keys are multivalued (one value per entry of the PutEvents call): every entry must match.
        'ForAllValues:StringEquals': { 'events:source': [CLIENT_SOURCE], 'events:detail-type': [...commands] },
        // ForAllValues also holds for a missing key: require both.
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    });
  }

  /**
   * Lets `grantee` read deploy history: query and get ledger items (the table only, no writes), and
   * decrypt them with the table's key, through DynamoDB only.
   */
  public grantReadHistory(grantee: iam.IGrantable): iam.Grant {
    if (this.encryptionKey) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      });
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DescribeTable'],
      resourceArns: [this.table.tableArn],
    });
  }

  /** Lets `grantee` read the handlers' logs. */
  public grantReadLogs(grantee: iam.IGrantable): iam.Grant {
    const arns = [...this.logGroups.values()].map((g) => g.logGroupArn);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['logs:DescribeLogStreams', 'logs:GetLogEvents', 'logs:FilterLogEvents'],
      resourceArns: arns,
    });
  }

  /**
   * The installation's key: the one given, or a key of its own. CloudWatch Logs may use it for the
   * handlers' log groups only (EventBridge's and CloudTrail's statements are added where they are used).
   */
  private createKey(props: DeployomatProps, prefix: string, removalPolicy: RemovalPolicy): kms.IKey | undefined {
    if (props.encryptionKey === 'aws-owned') return undefined;
    const stack = Stack.of(this);
    // Kept as long as the table it encrypts: a deleted key would make a retained table unreadable.
    const key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        alias: `alias/${prefix}`,
        description: `Deployomat (${prefix}): queues, ledger, bus, archive and logs`,
        enableKeyRotation: true,
        removalPolicy,
      });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsTheHandlersLogs',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: `/aws/lambda/${prefix}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return key;
  }

  private createSchedulerRole(): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler hands Deployomat's long timers to its timer queue and publishes automatic undeploys to the ${this.names.bus} bus`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          // Confused deputy: only schedules of this account's Deployomat group may use it.
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: { 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
    });
    // Long timers go to the timer queue (granted once it exists); the automatic undeploy is the
    // one event a schedule publishes (domain/undeploy-schedule.ts). Nothing else, and to no other bus.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeliverAutomaticUndeploys',
        actions: ['events:PutEvents'],
        resources: [this.eventBus.eventBusArn],
        conditions: {
          'ForAllValues:StringEquals': { 'events:source': [CLIENT_SOURCE], 'events:detail-type': [...SCHEDULED_COMMANDS] },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      }),
    );
    return role;
  }

  private allow(statement: iam.PolicyStatementProps, why?: string): void {
    addStatement(this.handlerRole, statement, why);
  }

  private grantHandlerPermissions(props: DeployomatProps): void {
    const role = this.handlerRole;
    const stack = Stack.of(this);
    // Cross-account assumes stay in the organization, when one is given.
    const inOrganization = props.organizationId ? { 'aws:ResourceOrgID': props.organizationId } : {};
    Tags.of(role).add(SERVICE_TAG, this.serviceName);
    Tags.of(role).add(ENVIRONMENT_TAG, props.environment);

    // Handlers publish lifecycle events (the next step, timers when due), never client commands.
    this.allow({
      sid: 'PublishLifecycleEvents',
      actions: ['events:PutEvents'],
      resources: [this.eventBus.eventBusArn],
      conditions: {
        'ForAllValues:StringEquals': { 'events:source': [LIFECYCLE_SOURCE] },
        Null: { 'events:source': 'false' },
      },
    });
    this.table.grantReadWriteData(role);

    // Long timers: one-time schedules in Deployomat's group only, delivered with the scheduler role.
    this.allow(
      {
        sid: 'ManageTimerSchedules',
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
        resources: [
          stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.names.scheduleGroup}/*` }),
        ],
      },
      'Schedules are named per deploy and step at run time; the resource is limited to Deployomat\'s own schedule group.',
    );
    this.allow({
      sid: 'PassSchedulerRole',
      actions: ['iam:PassRole'],
      resources: [this.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });

    if (props.metaRoleArn) {
      // The meta role scopes what it reads by the Environment session tag (see MetaAccessRole).
      this.allow({
        sid: 'AssumeMetaRole',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [props.metaRoleArn],
        conditions: {
          StringEquals: { [`aws:RequestTag/${ENVIRONMENT_TAG}`]: PRINCIPAL_ENVIRONMENT, ...inOrganization },
          'ForAnyValue:StringEquals': { 'sts:TransitiveTagKeys': [ENVIRONMENT_TAG] },
        },
      });
    } else {
      const { registry, accountParameters } = registryParameterArns(this, {
        organizationPrefix: props.organizationPrefix,
        // As the original: a production installation may deploy to accounts of any environment.
        environment: props.environment === 'production' ? '*' : props.environment,
        serviceName: this.serviceName,
      });
      this.allow(
        {
          sid: 'ReadAccountRegistry',
          actions: ['ssm:GetParameter'],
          resources: [registry, ...accountParameters],
        },
        'The account registry and each account\'s config/ and roles/<service> parameters are looked up by account slug and ' +
          'service at run time; the paths are limited to the registry and this environment\'s accounts.',
      );
    }

    this.allow(
      {
        sid: 'AssumeWorkloadRoles',
        // TagSession: each session names the service it deploys (DeployomatService), see DeployAccessRole.
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [...(props.workloadRoleArns ?? [`arn:${stack.partition}:iam::*:role/*`])],
        conditions: {
          StringEquals: {
            [`aws:ResourceTag/${SERVICE_TAG}`]: this.serviceName,
            [`aws:ResourceTag/${ENVIRONMENT_TAG}`]: PRINCIPAL_ENVIRONMENT,
            ...inOrganization,
          },
        },
      },
      'Workload accounts are registered at run time (SSM); as in the original, only roles tagged Service=<service name> ' +
        'and Environment=<this environment> can be assumed (ABAC on aws:ResourceTag).',
    );
  }

  /**
   * Only Deployomat's own roles publish lifecycle events (source `deployomat`): a deny on the bus
   * itself, so not even an administrator of this account can forge `BakeElapsed`.
   */
  private restrictLifecyclePublishers(): void {
    this.eventBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyDeployomatPublishesLifecycleEvents',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.eventBus.eventBusArn],
        conditions: {
          'ForAnyValue:StringEquals': { 'events:source': [LIFECYCLE_SOURCE] },
          ArnNotEquals: { 'aws:PrincipalArn': [this.handlerRole.roleArn] },
          // IAM principals only: EventBridge itself (archive replays) carries no principal ARN.
          Null: { 'aws:PrincipalArn': 'false' },
        },
      }),
    );
  }

  /**
   * Per client command, a deny on the bus for every principal it was not granted to
   * ({@link grantPublishCommands}, `commandPublisherArns`; the scheduler role for the automatic
   * undeploy). Resolved at synth, so grants made after the construct count.
   */
  private restrictCommandPublishers(props: DeployomatProps): void {
    for (const command of CLIENT_COMMANDS) {
      this.commandPublishers.set(command, [
        ...(props.commandPublisherArns ?? []),
        ...(SCHEDULED_COMMANDS.includes(command) ? [this.schedulerRole.roleArn] : []),
      ]);
    }
    if (props.restrictCommandPublishers === false) return;
    for (const command of CLIENT_COMMANDS) {
      // Nobody granted the command: a placeholder no principal has, so the deny covers everyone.
      const allowed = Lazy.list({ produce: () => (this.commandPublishers.get(command)!.length ? this.commandPublishers.get(command)! : [NOBODY]) });
      this.eventBus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Only${command}Publishers`,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.eventBus.eventBusArn],
          conditions: {
            'ForAnyValue:StringEquals': { 'events:source': [CLIENT_SOURCE], 'events:detail-type': [command] },
            ArnNotEquals: { 'aws:PrincipalArn': allowed },
            Null: { 'aws:PrincipalArn': 'false' },
          },
        }),
      );
    }
  }

  private handlerEnvironment(props: DeployomatProps): Record<string, string> {
    const amiOwners = props.amiOwners ?? DEFAULT_AMI_OWNERS;
    if (amiOwners.length === 0) throw new Error('amiOwners must name at least one owner (an account id, self or amazon)');
    const seconds = (name: string, value: Duration | undefined, fallback: Duration, min: number, max = Infinity) => {
      const n = (value ?? fallback).toSeconds({ integral: false });
      if (!Number.isInteger(n) || n < min || n > max) {
        const range = max === Infinity ? `at least ${min}` : `from ${min} to ${max}`;
        throw new Error(`${name} must be a whole number of seconds, ${range} (got ${n} s)`);
      }
      return String(n);
    };
    return {
      DEPLOYOMAT_BUS_NAME: this.eventBus.eventBusName,
      DEPLOYOMAT_BUS_ARN: this.eventBus.eventBusArn,
      DEPLOYOMAT_TABLE_NAME: this.table.tableName,
      DEPLOYOMAT_TIMER_QUEUE_URL: this.timerQueue.queueUrl,
      DEPLOYOMAT_TIMER_QUEUE_ARN: this.timerQueue.queueArn,
      DEPLOYOMAT_SCHEDULE_GROUP: this.scheduleGroup.scheduleGroupName,
      DEPLOYOMAT_SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
      ...(props.metaRoleArn ? { DEPLOYOMAT_META_ROLE_ARN: props.metaRoleArn } : {}),
      ...(props.roleExternalId ? { DEPLOYOMAT_ROLE_EXTERNAL_ID: props.roleExternalId } : {}),
      DEPLOYOMAT_ENVIRONMENT: props.environment,
      DEPLOYOMAT_SERVICE_NAME: this.serviceName,
      DEPLOYOMAT_AMI_OWNERS: amiOwners.join(','),
      DEPLOYOMAT_REQUIRE_OWNER_TAGS: String(props.requireOwnerTags ?? true),
      DEPLOYOMAT_HEALTH_CHECK_INTERVAL: seconds('healthCheckInterval', props.healthCheckInterval, Duration.seconds(15), 1),
      DEPLOYOMAT_ALARM_CHECK_INTERVAL: seconds('alarmCheckInterval', props.alarmCheckInterval, Duration.seconds(30), 1),
      DEPLOYOMAT_DRAIN_SECONDS: seconds('drainTime', props.drainTime, Duration.seconds(15), 0),
      DEPLOYOMAT_DEADLINE_MARGIN_SECONDS: seconds('deadlineMargin', props.deadlineMargin, Duration.minutes(10), 0),
      DEPLOYOMAT_RETRY_BASE_SECONDS: seconds('retryBase', props.retryBase, Duration.seconds(2), 1),
      DEPLOYOMAT_SCHEDULER_LEAD_SECONDS: seconds('schedulerLead', props.schedulerLead, Duration.minutes(2), 61, 600),
      DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS: seconds('dryRunInterval', props.dryRunInterval, Duration.seconds(10), 0, 3600),
      DEPLOYOMAT_MAX_PAUSE_SECONDS: seconds('maxPause', props.maxPause, Duration.hours(24), 1, 365 * 86400),
      POWERTOOLS_SERVICE_NAME: this.serviceName,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
    };
  }
}

/** What CloudFormation or Lambda would only reject at deploy time, rejected at synth time. */
function validateTopology(specs: readonly HandlerSpec[]): void {
  const deadLetters = specs.filter((h) => h.trigger.kind === 'dead-letters');
  if (deadLetters.length > 1) {
    throw new Error(`at most one handler may consume the dead-letter queues (got ${deadLetters.map((h) => h.name).join(', ')})`);
  }
  for (const spec of specs) {
    if (spec.queue.visibilityTimeoutSeconds < spec.timeoutSeconds) {
      throw new Error(
        `${spec.name}: queue visibility timeout (${spec.queue.visibilityTimeoutSeconds} s) must be at least the Lambda timeout (${spec.timeoutSeconds} s)`,
      );
    }
    const { max, reserved } = spec.concurrency;
    if (!Number.isInteger(max) || max < 2 || max > 1000) throw new Error(`${spec.name}: concurrency.max must be 2-1000, SQS's range (got ${max})`);
    if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < max)) {
      throw new Error(`${spec.name}: concurrency.reserved must be a whole number of at least concurrency.max (${max}), or the queue is throttled (got ${reserved})`);
    }
    if (!Number.isInteger(spec.queue.batchSize) || spec.queue.batchSize < 1 || spec.queue.batchSize > 10) {
      throw new Error(`${spec.name}: batchSize must be 1-10 without a batching window (got ${spec.queue.batchSize})`);
    }
  }
}
