import { Duration, type App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../domain/config';
import { catalog } from '../../events/catalog';
import { coreHandlers, queuedHandlers as queuedOf, resourceNames, rollbackOnDeadLetter, rules as rulesOf, timerHandler } from '../../events/topology';
import { Deployomat, LEDGER_TTL_ATTRIBUTE } from '../../infra/cdk';
import { ACCOUNT, newApp, newStack, props, REGION, refId, resolve, resourcesOf, type CfnResource, type CfnTemplate } from './helpers';

/**
 * The Deployomat construct against the topology declaration: counts, wiring and settings all
 * derived from events/topology.ts. This file also builds the real bundles (esbuild), once.
 */
const names = resourceNames();
// The construct installs the core of the topology; feature handlers (e.g. `slack`) have constructs of their own.
const handlers = coreHandlers();
const queuedHandlers = () => queuedOf(handlers);
const rules = (n: typeof names) => rulesOf(n, handlers);
const deadLetterSpec = handlers.find((h) => h.trigger.kind === 'dead-letters');

let app: App;
let stack: Stack;
let template: Template;
let json: CfnTemplate;

beforeAll(() => {
  app = newApp({ bundle: true });
  stack = newStack(app);
  new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme' });
  template = Template.fromStack(stack);
  json = template.toJSON() as CfnTemplate;
}, 120_000);

/** The physical name of a resource from its logical id. */
const nameOf = (value: unknown, key: string) => resolve(props(json.Resources[refId(value)!]!)[key], json);
const functionNamed = (name: string): CfnResource => {
  const found = resourcesOf(json, 'AWS::Lambda::Function').find(([, f]) => props(f).FunctionName === `deployomat-${name}`);
  if (!found) throw new Error(`no function deployomat-${name}`);
  return found[1];
};
const queueIdNamed = (name: string): string => {
  const found = resourcesOf(json, 'AWS::SQS::Queue').find(([, q]) => props(q).QueueName === name);
  if (!found) throw new Error(`no queue ${name}`);
  return found[0];
};

describe('Construct: Deployomat', () => {
  describe('resource counts follow the topology', () => {
    it('has a queue and a dead-letter queue per queued handler, and one alarm per dead-letter queue', () => {
      template.resourceCountIs('AWS::SQS::Queue', 2 * queuedHandlers().length);
      template.resourceCountIs('AWS::CloudWatch::Alarm', queuedHandlers().length);
    });

    it('has one rule per subscription and one function and log group per handler', () => {
      template.resourceCountIs('AWS::Events::Rule', rules(names).length);
      template.resourceCountIs('AWS::Lambda::Function', handlers.length);
      template.resourceCountIs('AWS::Logs::LogGroup', handlers.length);
    });

    it('maps each handler queue, and every dead-letter queue for the dead-letters handler', () => {
      const expected = handlers.length - (deadLetterSpec ? 1 : 0) + (deadLetterSpec ? rollbackOnDeadLetter(handlers).length : 0);
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', expected);
    });

    it('has the bus, its archive, the ledger table and the schedule group, once', () => {
      for (const type of ['AWS::Events::EventBus', 'AWS::Events::Archive', 'AWS::DynamoDB::Table', 'AWS::Scheduler::ScheduleGroup']) {
        template.resourceCountIs(type, 1);
      }
    });
  });

  describe('queues', () => {
    it.each(queuedHandlers().map((h) => [h.name, h] as const))('%s: visibility, redrive and encryption from the spec', (_name, spec) => {
      const queue = json.Resources[queueIdNamed(names.queue(spec.name))]!;
      // Encrypted with the installation's own key by default (audit-trust.test.ts: every store).
      const key = { 'Fn::GetAtt': [expect.stringMatching(/^DeployomatKey/), 'Arn'] };
      expect(props(queue)).toMatchObject({
        VisibilityTimeout: spec.queue.visibilityTimeoutSeconds,
        KmsMasterKeyId: key,
        RedrivePolicy: { maxReceiveCount: spec.queue.maxReceiveCount },
      });
      const dlqId = refId((props(queue).RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn);
      expect(props(json.Resources[dlqId!]!)).toMatchObject({
        QueueName: names.deadLetterQueue(spec.name),
        KmsMasterKeyId: key,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      // Only its own queue may dead-letter into it (no other queue's messages reach the dead-letters handler).
      const allow = props(json.Resources[dlqId!]!).RedriveAllowPolicy as { redrivePermission: string; sourceQueueArns: unknown[] };
      expect(allow.redrivePermission).toBe('byQueue');
      expect(allow.sourceQueueArns.map((arn) => resolve(arn, json))).toEqual([`arn:aws:sqs:${REGION}:${ACCOUNT}:${names.queue(spec.name)}`]);
    });

    it('gives the dead-letter queues the visibility timeout of the dead-letters handler that reads them', () => {
      const dlqs = queuedHandlers().map((h) => props(json.Resources[queueIdNamed(names.deadLetterQueue(h.name))]!));
      for (const dlq of dlqs) expect(dlq.VisibilityTimeout).toBe(deadLetterSpec?.queue.visibilityTimeoutSeconds);
    });

    it('refuses plain HTTP on every queue', () => {
      const policies = resourcesOf(json, 'AWS::SQS::QueuePolicy');
      const enforced = new Set(
        policies
          .filter(([, p]) =>
            (props(p).PolicyDocument as { Statement: Record<string, unknown>[] }).Statement.some(
              (s) => s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
            ),
          )
          .flatMap(([, p]) => (props(p).Queues as unknown[]).map(refId)),
      );
      expect([...enforced].sort()).toEqual(resourcesOf(json, 'AWS::SQS::Queue').map(([id]) => id).sort());
    });

    it('alarms as soon as one message is dead-lettered', () => {
      for (const spec of queuedHandlers()) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Namespace: 'AWS/SQS',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueIdNamed(names.deadLetterQueue(spec.name)), 'QueueName'] } }],
        });
      }
    });

    it('encrypts queues and the table with a customer managed key when one is given', () => {
      const kmsApp = newApp();
      const kmsStack = newStack(kmsApp, 'Kms');
      const key = new kms.Key(kmsStack, 'Key', { enableKeyRotation: true });
      new Deployomat(kmsStack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme', encryptionKey: key });
      const t = Template.fromStack(kmsStack);
      const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] };
      expect(Object.keys(t.findResources('AWS::SQS::Queue', { Properties: { KmsMasterKeyId: keyArn } }))).toHaveLength(
        2 * queuedHandlers().length,
      );
      t.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS' } });
      // EventBridge must be able to encrypt what it delivers to the queues.
      t.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: Match.arrayWith(['kms:GenerateDataKey*']) }),
          ]),
        },
      });
    });
  });

  describe('rules', () => {
    it.each(rules(names).map((r) => [r.name, r] as const))('%s feeds its handler queue with the topology pattern', (_name, rule) => {
      const [[, cfnRule]] = resourcesOf(json, 'AWS::Events::Rule').filter(([, r]) => props(r).Name === rule.name) as [[string, CfnResource]];
      expect(props(cfnRule).EventPattern).toEqual(rule.pattern);
      expect(refId(props(cfnRule).EventBusName)).toBe(resourcesOf(json, 'AWS::Events::EventBus')[0]![0]);
      const [target] = props(cfnRule).Targets as { Arn: unknown; DeadLetterConfig: { Arn: unknown } }[];
      expect(nameOf(target!.Arn, 'QueueName')).toBe(names.queue(rule.handler.name));
      expect(nameOf(target!.DeadLetterConfig.Arn, 'QueueName')).toBe(names.deadLetterQueue(rule.handler.name));
    });

    it('matches one source per rule, the one the catalog gives its detail-types, and replays only for projections', () => {
      for (const [, r] of resourcesOf(json, 'AWS::Events::Rule')) {
        const pattern = props(r).EventPattern as { source: string[]; 'detail-type': (keyof typeof catalog)[]; 'replay-name': unknown };
        const spec = rules(names).find((x) => x.name === props(r).Name)!;
        const projection = spec.handler.trigger.kind === 'events' && spec.handler.trigger.subscriptions.some((sub) => sub.replays === 'include');
        expect(pattern['replay-name']).toEqual(projection ? undefined : [{ exists: false }]);
        expect(pattern.source).toHaveLength(1);
        for (const type of pattern['detail-type']) expect(catalog[type].source).toBe(pattern.source[0]);
      }
    });
  });

  describe('functions', () => {
    it.each(handlers.map((h) => [h.name, h] as const))('%s: Node.js 24 on arm64, timeout and memory from the spec', (_name, spec) => {
      expect(props(functionNamed(spec.name))).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Timeout: spec.timeoutSeconds,
        MemorySize: spec.memoryMb,
        Handler: 'index.handler',
      });
    });

    it.each(handlers.map((h) => [h.name, h] as const))('%s: runs at most its concurrency.max at once, on reserved capacity where the spec reserves it', (_name, spec) => {
      const [fnId, fn] = resourcesOf(json, 'AWS::Lambda::Function').find(([, f]) => props(f).FunctionName === `deployomat-${spec.name}`)!;
      const mappings = resourcesOf(json, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refId(props(m).FunctionName) === fnId);
      for (const [, m] of mappings) expect(props(m).ScalingConfig).toEqual({ MaximumConcurrency: spec.concurrency.max });
      expect(props(fn).ReservedConcurrentExecutions).toBe(spec.concurrency.reserved);
    });

    it('keeps capacity for the rollback path that a flood of deploys cannot take (issue #12, finding 10)', () => {
      const reserved = (name: string) => props(functionNamed(name)).ReservedConcurrentExecutions as number | undefined;
      const maxOf = (name: string) => handlers.find((h) => h.name === name)!.concurrency.max;
      for (const name of ['start-rollback', 'restore-traffic', 'finish-rollback', 'dead-letter']) {
        expect(reserved(name), name).toBeGreaterThanOrEqual(maxOf(name));
      }
      // The deploy path is bounded instead: a flood of DeployRequested runs 5 at a time.
      expect(maxOf('start-deploy')).toBe(5);
      expect(reserved('start-deploy')).toBeUndefined();
    });

    it.each(handlers.map((h) => [h.name, h] as const))('%s: reads its trigger in batches from the spec, reporting partial failures', (_name, spec) => {
      const fnId = resourcesOf(json, 'AWS::Lambda::Function').find(([, f]) => props(f).FunctionName === `deployomat-${spec.name}`)![0];
      const mappings = resourcesOf(json, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refId(props(m).FunctionName) === fnId);
      const sources = mappings.map(([, m]) => nameOf(props(m).EventSourceArn, 'QueueName')).sort();
      const expected =
        spec.trigger.kind === 'dead-letters' ? rollbackOnDeadLetter(handlers).map((h) => names.deadLetterQueue(h.name)) : [names.queue(spec.name)];
      expect(sources).toEqual(expected.sort());
      for (const [, m] of mappings) {
        expect(props(m)).toMatchObject({ BatchSize: spec.queue.batchSize, FunctionResponseTypes: ['ReportBatchItemFailures'] });
      }
    });

    it('sets every DEPLOYOMAT_* variable of domain/config.ts on every function, and the handlers accept them', () => {
      const configSource = readFileSync(new URL('../../domain/config.ts', import.meta.url), 'utf8');
      const optional = ['DEPLOYOMAT_META_ROLE_ARN', 'DEPLOYOMAT_ROLE_EXTERNAL_ID'];
      const variables = [...new Set(configSource.match(/DEPLOYOMAT_[A-Z_]+/g))].filter((v) => !optional.includes(v));
      expect(variables.length).toBeGreaterThan(5);
      for (const spec of handlers) {
        const environment = resolve((props(functionNamed(spec.name)).Environment as { Variables: unknown }).Variables, json) as Record<
          string,
          string
        >;
        expect(Object.keys(environment)).toEqual(expect.arrayContaining([...variables, 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOG_LEVEL']));
        // Optional: set only with a meta role, or an external id (an empty value would not parse).
        expect(environment).not.toHaveProperty('DEPLOYOMAT_META_ROLE_ARN');
        expect(environment).not.toHaveProperty('DEPLOYOMAT_ROLE_EXTERNAL_ID');
        const config = loadConfig(environment);
        // The construct's defaults are the handlers' own defaults.
        const required = Object.fromEntries(
          // The installation's own facts (not defaults): names, and the environment it runs as.
          Object.entries(environment).filter(([k]) => /^DEPLOYOMAT_(BUS|TABLE|TIMER|SCHEDULE|ENVIRONMENT)/.test(k)),
        );
        expect(config).toEqual(loadConfig(required));
        expect(config).toMatchObject({
          busName: names.bus,
          busArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${names.bus}`,
          tableName: names.table,
          timerQueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${names.queue(timerHandler().name)}`,
          timerQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${names.queue(timerHandler().name)}`,
          schedulerLeadSeconds: 120,
          scheduleGroup: names.scheduleGroup,
          serviceName: 'deployomat',
          amiOwners: ['self', ACCOUNT],
          healthCheckIntervalSeconds: 15,
          dryRunIntervalSeconds: 10,
          maxPauseSeconds: 86400,
        });
        expect(environment).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'deployomat', POWERTOOLS_LOG_LEVEL: 'INFO' });
      }
    });

    it('logs to its own log group with the retention given', () => {
      for (const spec of handlers) {
        const logGroupId = refId((props(functionNamed(spec.name)).LoggingConfig as { LogGroup: unknown }).LogGroup);
        expect(props(json.Resources[logGroupId!]!)).toMatchObject({ LogGroupName: `/aws/lambda/deployomat-${spec.name}`, RetentionInDays: 30 });
      }
    });

    it('takes the optional settings from its props', () => {
      const a = newApp();
      const s = newStack(a, 'Props');
      new Deployomat(s, 'Deployomat', {
        environment: 'staging',
        organizationPrefix: 'acme',
        prefix: 'dpl',
        serviceName: 'shipit',
        metaRoleArn: 'arn:aws:iam::333333333333:role/DeployomatParameterAccess',
        roleExternalId: 'acme-deployomat-4f1c',
        amiOwners: ['self', '444444444444'],
        healthCheckInterval: Duration.seconds(5),
        drainTime: Duration.seconds(30),
        deadlineMargin: Duration.minutes(5),
        retryBase: Duration.seconds(3),
        schedulerLead: Duration.seconds(90),
        dryRunInterval: Duration.seconds(30),
        maxPause: Duration.hours(8),
        logLevel: 'DEBUG',
        runtime: lambda.Runtime.NODEJS_22_X,
        requireOwnerTags: false,
        reserveRollbackCapacity: false,
      });
      const t = Template.fromStack(s);
      for (const [, fn] of resourcesOf(t.toJSON() as CfnTemplate, 'AWS::Lambda::Function')) expect(props(fn).ReservedConcurrentExecutions).toBeUndefined();
      t.allResourcesProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Environment: {
          Variables: Match.objectLike({
            DEPLOYOMAT_META_ROLE_ARN: 'arn:aws:iam::333333333333:role/DeployomatParameterAccess',
            DEPLOYOMAT_ROLE_EXTERNAL_ID: 'acme-deployomat-4f1c',
            DEPLOYOMAT_SERVICE_NAME: 'shipit',
            DEPLOYOMAT_AMI_OWNERS: 'self,444444444444',
            DEPLOYOMAT_HEALTH_CHECK_INTERVAL: '5',
            DEPLOYOMAT_DRAIN_SECONDS: '30',
            DEPLOYOMAT_DEADLINE_MARGIN_SECONDS: '300',
            DEPLOYOMAT_RETRY_BASE_SECONDS: '3',
            DEPLOYOMAT_SCHEDULER_LEAD_SECONDS: '90',
            DEPLOYOMAT_REQUIRE_OWNER_TAGS: 'false',
            DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS: '30',
            DEPLOYOMAT_MAX_PAUSE_SECONDS: '28800',
            POWERTOOLS_LOG_LEVEL: 'DEBUG',
            POWERTOOLS_SERVICE_NAME: 'shipit',
          }),
        },
      });
      t.hasResourceProperties('AWS::Events::EventBus', { Name: 'dpl' });
      t.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'dpl-ledger' });
    });

    it('bundles each handler alone: minified, the SDK inside, only the clients it uses', () => {
      const bundles = new Map<string, string>();
      for (const spec of handlers) {
        const key = (props(functionNamed(spec.name)).Code as { S3Key: string }).S3Key;
        const file = join(app.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
        expect(existsSync(file), file).toBe(true);
        const code = readFileSync(file, 'utf8');
        // Only the optional SigV4a signers (loaded in a try/catch by the SDK, unused here) stay outside.
        const optional = ['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a'];
        const external = new Set([...code.matchAll(/require\(["'](@aws-sdk\/[^"']+)["']\)/g)].map((m) => m[1]!));
        expect([...external].filter((m) => !optional.includes(m)), spec.name).toEqual([]);
        expect(code.length / code.split('\n').length, `${spec.name} is not minified`).toBeGreaterThan(1000);
        expect(statSync(file).size).toBeLessThan(4_000_000);
        bundles.set(spec.name, code);
      }
      expect(new Set(bundles.values()).size).toBe(handlers.length);
      // Tree-shaking: the timer relay publishes to the bus and never talks to EC2.
      expect(bundles.get(timerHandler().name)!.includes('DescribeLaunchTemplateVersions')).toBe(false);
      expect(bundles.get('start-deploy')!.includes('DescribeLaunchTemplateVersions')).toBe(true);
    });
  });

  describe('state and timers', () => {
    it('keeps the ledger in a pay-per-request table with point-in-time recovery and a TTL', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: names.table,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: LEDGER_TTL_ATTRIBUTE, Enabled: true },
      });
      template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    });

    it('archives both sources of events for 30 days', () => {
      template.hasResourceProperties('AWS::Events::Archive', {
        ArchiveName: names.archive,
        EventPattern: { source: ['deployomat.client', 'deployomat'] },
        RetentionDays: 30,
      });
    });

    it('lets Scheduler send to the timer queue and publish to this bus only, for schedules of the Deployomat group', () => {
      template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: names.scheduleGroup });
      const [schedulerRoleId, schedulerRole] = resourcesOf(json, 'AWS::IAM::Role').find(([id]) => id.startsWith('DeployomatSchedulerRole'))!;
      expect(props(schedulerRole).AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': expect.anything() } },
          },
        ],
      });
      const statements = resourcesOf(json, 'AWS::IAM::Policy')
        .filter(([, p]) => (props(p).Roles as unknown[]).some((r) => refId(r) === schedulerRoleId))
        .flatMap(([, p]) => (props(p).PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
      // PutEvents on this bus (what it may publish there: iam.test.ts), sends to the timer queue.
      const timerQueueId = resourcesOf(json, 'AWS::SQS::Queue').find(([, q]) => props(q).QueueName === names.queue(timerHandler().name))![0];
      expect(statements.map((st) => st.Action)).toEqual(expect.arrayContaining(['events:PutEvents', expect.arrayContaining(['sqs:SendMessage'])]));
      for (const statement of statements) {
        if (JSON.stringify(statement.Action).includes('kms:')) {
          // The timer queue's key, to encrypt what it sends there.
          expect(statement).toMatchObject({ Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DeployomatKey/), 'Arn'] } });
        } else if (statement.Action === 'events:PutEvents') {
          expect(statement).toMatchObject({ Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DeployomatBus/), 'Arn'] } });
        } else {
          expect(statement).toMatchObject({ Effect: 'Allow', Resource: { 'Fn::GetAtt': [timerQueueId, 'Arn'] } });
          expect(statement.Action).not.toContain('sqs:ReceiveMessage');
        }
      }
    });

    it('tags the handler role with its service and environment (what workload roles trust)', () => {
      const [, role] = resourcesOf(json, 'AWS::IAM::Role').find(([id]) => id.startsWith('DeployomatHandlerRole'))!;
      expect(props(role).Tags).toEqual(
        expect.arrayContaining([
          { Key: 'Service', Value: 'deployomat' },
          { Key: 'Environment', Value: 'development' },
        ]),
      );
    });
  });

  describe('validation', () => {
    it.each([
      [
        { prefix: 'no/slash' },
        'prefix must be 1-32 characters of A-Z a-z 0-9 _ -, start and end with a letter or digit, have no two of _ - in a row, and not be "default" (got "no/slash")',
      ],
      [{ environment: 'dev*' }, 'environment must be 1-64 characters of A-Z a-z 0-9 _ . - (got "dev*")'],
      [{ organizationPrefix: '..' }, 'organizationPrefix must be 1-64 characters of A-Z a-z 0-9 _ . - (got "..")'],
      [{ amiOwners: [] }, 'amiOwners must name at least one owner (an account id, self or amazon)'],
      [{ roleExternalId: 'x' }, 'roleExternalId must be 2-1224 characters of A-Z a-z 0-9 + = , . @ : / - _ (got "x")'],
      [{ roleExternalId: 'a'.repeat(1225) }, 'roleExternalId must be 2-1224 characters'],
      [{ healthCheckInterval: Duration.seconds(0) }, 'healthCheckInterval must be a whole number of seconds, at least 1 (got 0 s)'],
      [{ drainTime: Duration.millis(1500) }, 'drainTime must be a whole number of seconds, at least 0 (got 1.5 s)'],
      [{ schedulerLead: Duration.seconds(60) }, 'schedulerLead must be a whole number of seconds, from 61 to 600 (got 60 s)'],
      [{ dryRunInterval: Duration.hours(2) }, 'dryRunInterval must be a whole number of seconds, from 0 to 3600 (got 7200 s)'],
      [{ maxPause: Duration.days(400) }, 'maxPause must be a whole number of seconds, from 1 to 31536000 (got 34560000 s)'],
      [{ runtime: lambda.Runtime.PYTHON_3_12 }, 'runtime must be a Node.js runtime (got python3.12)'],
    ])('rejects %j', (overrides, message) => {
      const s = newStack(newApp(), 'Invalid');
      expect(() => new Deployomat(s, 'Deployomat', { environment: 'development', organizationPrefix: 'acme', ...overrides })).toThrow(message);
    });
  });
});
