import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIFECYCLE_SOURCE } from '../../events/catalog';
import {
  CiParameters,
  DEFAULT_NOTIFIED,
  DeployAccessRole,
  DeployerRole,
  Deployomat,
  HandlerQueue,
  MetaAccessRole,
  SLACK_ENV,
  SlackBotToken,
  SlackNotifier,
  type SlackNotifierProps,
} from '../../infra/cdk';
import { handlers, resourceNames, rules } from '../../events/topology';
import { allStatements, asList, newApp, newStack, props, resourcesOf, type CfnTemplate } from './helpers';

/** The account-role constructs, the CI parameters and the Slack wiring, as templates. */
const CICD = '555555555555';

let cicd: Template;

beforeAll(() => {
  const cicdStack = newStack(newApp(), 'CiCd');
  const deployomat = new Deployomat(cicdStack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme' });
  const deployer = new DeployerRole(cicdStack, 'Deployer', { deployomat, userAccountIds: ['222222222222', '333333333333'] });
  new CiParameters(cicdStack, 'Parameters', { deployomat, accountName: 'cicd', deployerRole: deployer });
  cicd = Template.fromStack(cicdStack);
});

describe('Construct: MetaAccessRole', () => {
  const synth = (externalId?: string) => {
    const stack = newStack(newApp(), 'Meta');
    new MetaAccessRole(stack, 'MetaAccess', { ciCdAccountIds: [CICD], organizationPrefix: 'acme', externalId });
    return Template.fromStack(stack);
  };

  it('requires the external id to assume it when one is set, on top of the Environment session tag; not to tag the session', () => {
    synth('meta-7c2e').hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Condition: Match.objectLike({
              StringEquals: Match.objectLike({ 'sts:ExternalId': 'meta-7c2e', 'aws:RequestTag/Environment': '${aws:PrincipalTag/Environment}' }),
            }),
          }),
          Match.objectLike({
            Action: 'sts:TagSession',
            Condition: Match.objectLike({ StringEquals: Match.not(Match.objectLike({ 'sts:ExternalId': Match.anyValue() })) }),
          }),
        ],
      },
    });
  });

  it('requires no external id when none is set', () => {
    const trust = JSON.stringify(props(resourcesOf(synth().toJSON() as CfnTemplate, 'AWS::IAM::Role')[0]![1]).AssumeRolePolicyDocument);
    expect(trust).not.toContain('sts:ExternalId');
  });

  it('rejects an external id STS would refuse', () => {
    expect(() => synth('x')).toThrow('externalId must be 2-1224 characters of A-Z a-z 0-9 + = , . @ : / - _ (got "x")');
    expect(() => synth('has space')).toThrow('externalId must be 2-1224 characters');
  });

  it('is named as the original, tagged with the service, and trusts the CI/CD accounts with the Environment session tag', () => {
    synth().hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'DeployomatParameterAccess',
      Tags: [{ Key: 'Service', Value: 'deployomat' }],
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${CICD}:root`]] } },
            Condition: {
              StringEquals: { 'aws:PrincipalTag/Service': 'deployomat', 'aws:RequestTag/Environment': '${aws:PrincipalTag/Environment}' },
              'ForAnyValue:StringEquals': { 'sts:TransitiveTagKeys': ['Environment'] },
            },
          },
        ],
      },
    });
  });

  it('may only read SSM parameters', () => {
    const actions = allStatements(synth().toJSON() as CfnTemplate)
      .filter(({ resource }) => resource.startsWith('MetaAccess') && !resource.endsWith('Role') && resource.includes('Policy'))
      .flatMap(({ statement }) => asList(statement.Action));
    expect(new Set(actions)).toEqual(new Set(['ssm:GetParameter']));
  });

  it.each([
    [[], 'ciCdAccountIds must name at least one AWS account id'],
    [['12345'], 'ciCdAccountIds must be 12-digit AWS account ids (got "12345")'],
  ])('rejects ciCdAccountIds %j', (ids, message) => {
    expect(() => new MetaAccessRole(newStack(newApp()), 'M', { ciCdAccountIds: ids, organizationPrefix: 'acme' })).toThrow(message);
  });
});

describe('Construct: DeployAccessRole', () => {
  const synth = (externalId?: string) => {
    const stack = newStack(newApp(), 'Workload');
    new DeployAccessRole(stack, 'DeployAccess', { ciCdAccountIds: [CICD], environment: 'staging', organizationPrefix: 'acme', externalId });
    return Template.fromStack(stack);
  };

  it('carries the tags Deployomat may assume it by, and trusts its service in its environment', () => {
    synth().hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'DeployomatDeployAccess',
      Tags: Match.arrayWith([
        { Key: 'Environment', Value: 'staging' },
        { Key: 'Service', Value: 'deployomat' },
      ]),
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Condition: { StringEquals: { 'aws:PrincipalTag/Service': 'deployomat', 'aws:PrincipalTag/Environment': 'staging' } },
          }),
        ],
      },
    });
  });

  it('requires the external id to assume it when one is set; not to tag the session (TagSession has no sts:ExternalId)', () => {
    synth('deploy-4f1c').hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({ Action: 'sts:AssumeRole', Condition: Match.objectLike({ StringEquals: Match.objectLike({ 'sts:ExternalId': 'deploy-4f1c' }) }) }),
          Match.objectLike({
            Action: 'sts:TagSession',
            Condition: Match.objectLike({ StringEquals: { 'aws:PrincipalTag/Service': 'deployomat', 'aws:PrincipalTag/Environment': 'staging' } }),
          }),
        ],
      },
    });
  });

  it('conditions every create on the Managed request tag, and every change on the Managed resource tag', () => {
    const statements = allStatements(synth().toJSON() as CfnTemplate).map(({ statement }) => statement);
    const creates = statements.filter((s) => asList(s.Action).some((a) => /:Create(AutoScalingGroup|TargetGroup|Rule)$/.test(String(a))));
    const changes = statements.filter((s) => asList(s.Action).some((a) => /:(Delete|Modify|Update)(AutoScalingGroup|TargetGroup|Rule)/.test(String(a))));
    expect(creates.length).toBeGreaterThan(0);
    expect(changes.length).toBeGreaterThan(0);
    for (const s of creates) expect(s.Condition).toMatchObject({ StringEquals: { 'aws:RequestTag/Managed': 'deployomat' } });
    for (const s of changes) expect(s.Condition).toMatchObject({ StringEquals: { 'aws:ResourceTag/Managed': 'deployomat' } });
  });

  it('rejects an external id STS would refuse', () => {
    expect(() => synth('x')).toThrow('externalId must be 2-1224 characters of A-Z a-z 0-9 + = , . @ : / - _ (got "x")');
  });
});

describe('Construct: DeployerRole', () => {
  it('lives under /<org>/ci-service-role/ and trusts the user accounts', () => {
    cicd.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'DeployomatDeployer',
      Path: '/acme/ci-service-role/',
      AssumeRolePolicyDocument: {
        Statement: Match.arrayWith(
          ['222222222222', '333333333333'].map((account) =>
            Match.objectLike({ Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:root`]] } } }),
          ),
        ),
      },
    });
  });
});

describe('Construct: CiParameters', () => {
  it('publishes the bus and the deployer role under /<org>/<environment>/<account>/', () => {
    const json = cicd.toJSON() as CfnTemplate;
    const params = new Map(resourcesOf(json, 'AWS::SSM::Parameter').map(([, p]) => [props(p).Name, props(p).Value]));
    expect(params).toEqual(
      new Map<unknown, unknown>([
        ['/acme/development/cicd/config/deployomat/event_bus_name', { Ref: expect.stringMatching(/^DeployomatBus/) }],
        ['/acme/development/cicd/config/deployomat/event_bus_arn', { 'Fn::GetAtt': [expect.stringMatching(/^DeployomatBus/), 'Arn'] }],
        ['/acme/development/cicd/roles/deployer', { 'Fn::GetAtt': [expect.stringMatching(/^DeployerRole|^Deployer/), 'Arn'] }],
      ]),
    );
  });

  it('publishes no deployer role parameter without a deployer role', () => {
    const stack = newStack(newApp(), 'NoDeployer');
    new CiParameters(stack, 'Parameters', {
      deployomat: new Deployomat(stack, 'Deployomat', { environment: 'production', organizationPrefix: 'acme' }),
      accountName: 'cicd',
    });
    const names = Object.values(Template.fromStack(stack).findResources('AWS::SSM::Parameter')).map((p) => p.Properties.Name);
    expect(names.sort()).toEqual(['/acme/production/cicd/config/deployomat/event_bus_arn', '/acme/production/cicd/config/deployomat/event_bus_name']);
  });
});

describe('Construct: SlackNotifier', () => {
  const synth = (token: (stack: Stack) => SlackBotToken, extra: Partial<SlackNotifierProps> = {}) => {
    const stack = newStack(newApp(), 'Slack');
    const d = new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme' });
    const notifier = new SlackNotifier(stack, 'Slack', { deployomat: d, token: token(stack), channel: '#deploys', ...extra });
    return { t: Template.fromStack(stack), notifier, deployomat: d };
  };
  const spec = handlers.find((h) => h.feature === 'slack')!;

  it("builds the topology's notifier, which the Deployomat construct leaves out", () => {
    const { t, deployomat } = synth((stack) => SlackBotToken.fromSecret(new secretsmanager.Secret(stack, 'Token')));
    expect(spec).toMatchObject({ name: 'notify-slack', entry: 'handlers/notify-slack.ts' });
    expect(deployomat.functions.has(spec.name)).toBe(false);
    expect(deployomat.queues.has(spec.name)).toBe(false);
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'deployomat-notify-slack',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: spec.timeoutSeconds,
      MemorySize: spec.memoryMb,
      Environment: {
        Variables: Match.objectLike({
          DEPLOYOMAT_SLACK_CHANNEL: '#deploys',
          DEPLOYOMAT_SLACK_TABLE_NAME: { Ref: Match.stringLikeRegexp('^SlackTable') },
          DEPLOYOMAT_TABLE_NAME: { Ref: Match.stringLikeRegexp('^DeployomatLedger') },
        }),
      },
    });
  });

  it('keeps its messages in a table of its own, kept and expired as the ledger, encrypted with its key', () => {
    const { t } = synth((stack) => SlackBotToken.fromSecret(new secretsmanager.Secret(stack, 'Token')));
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        TableName: 'deployomat-slack',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'ExpiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });

    const stack = newStack(newApp(), 'SlackKey');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const d = new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme', encryptionKey: key });
    new SlackNotifier(stack, 'Slack', { deployomat: d, token: SlackBotToken.fromSecret(new secretsmanager.Secret(stack, 'Token')), channel: '#deploys' });
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'deployomat-slack',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
    });
  });

  it("subscribes to the spec's events (never to replays) through a queue with a dead-letter queue", () => {
    const { t, notifier } = synth((stack) => SlackBotToken.fromSecret(new secretsmanager.Secret(stack, 'Token')));
    const expected = rules(resourceNames(), [spec]);
    expect(expected.map((r) => r.name)).toEqual(['deployomat-notify-slack', 'deployomat-notify-slack-2', 'deployomat-notify-slack-3']);
    expect(notifier.rules).toHaveLength(expected.length);
    for (const rule of expected) {
      t.hasResourceProperties('AWS::Events::Rule', {
        Name: rule.name,
        EventPattern: { ...rule.pattern, 'replay-name': [{ exists: false }] },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SlackQueue'), 'Arn'] } })],
      });
    }
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: [LIFECYCLE_SOURCE], 'detail-type': [...DEFAULT_NOTIFIED], 'replay-name': [{ exists: false }] },
    });
    expect(DEFAULT_NOTIFIED).toEqual(expect.arrayContaining(['DeployCompleted', 'DeployFailed', 'DeployCancelled', 'DeployRejected', 'UndeployCompleted']));
    // The progress updates others publish, under the original's source and detail-type.
    t.hasResourceProperties('AWS::Events::Rule', {
      Name: 'deployomat-notify-slack-3',
      EventPattern: { source: ['omat.deploy.update'], 'detail-type': ['Deployomat Update'], 'replay-name': [{ exists: false }] },
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'deployomat-notify-slack',
      VisibilityTimeout: spec.queue.visibilityTimeoutSeconds,
      RedrivePolicy: { maxReceiveCount: spec.queue.maxReceiveCount },
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('^SlackFunction') },
      BatchSize: spec.queue.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gives the function a Secrets Manager token by reference, and read access to it only', () => {
    const { t } = synth((stack) => SlackBotToken.fromSecret(new secretsmanager.Secret(stack, 'Token')));
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ [SLACK_ENV.channel]: '#deploys', [SLACK_ENV.secretArn]: { Ref: Match.stringLikeRegexp('^Token') } }),
      },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: { Ref: Match.stringLikeRegexp('^Token') },
          }),
        ]),
      },
    });
    const variables = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => JSON.stringify(f.Properties.Environment));
    expect(variables.some((v) => v.includes('xoxb'))).toBe(false);
  });

  it('or an SSM SecureString by name, with decryption by its key', () => {
    const { t } = synth((stack) =>
      SlackBotToken.fromSecureStringParameter(
        ssm.StringParameter.fromSecureStringParameterAttributes(stack, 'Token', {
          parameterName: '/acme/slack/bot_token',
          encryptionKey: new kms.Key(stack, 'TokenKey', { enableKeyRotation: true }),
        }),
      ),
    );
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [SLACK_ENV.channel]: '#deploys', [SLACK_ENV.parameterName]: '/acme/slack/bot_token' }) },
    });
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    expect(statements.some((s) => asList(s.Action).includes('ssm:GetParameter') && JSON.stringify(s.Resource).includes(':parameter/acme/slack/bot_token'))).toBe(true);
    expect(statements.some((s) => asList(s.Action).includes('kms:Decrypt'))).toBe(true);
  });

  it.each([[{ channel: 'deploys and more' }, 'channel must be a Slack channel name or id (got "deploys and more")']])('rejects %j', (overrides, message) => {
    const stack = newStack(newApp(), 'SlackInvalid');
    const d = new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme' });
    const token = SlackBotToken.fromSecret(new secretsmanager.Secret(stack, 'Token'));
    expect(() => new SlackNotifier(stack, 'Slack', { deployomat: d, token, ...overrides })).toThrow(message);
  });
});

describe('Construct: HandlerQueue', () => {
  it('rejects a receive count that would dead-letter at once or never', () => {
    const stack = newStack(newApp(), 'Queue');
    expect(
      () => new HandlerQueue(stack, 'Q', { queueName: 'q', deadLetterQueueName: 'q-dlq', visibilityTimeout: Duration.seconds(30), maxReceiveCount: 0 }),
    ).toThrow('maxReceiveCount must be a positive integer (got 0)');
  });
});
