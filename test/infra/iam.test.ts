import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, CLIENT_SOURCE, LIFECYCLE_SOURCE, type DetailType } from '../../events/catalog';
import { handlers, resourceNames } from '../../events/topology';
import { DeployAccessRole, DeployerRole, Deployomat, MetaAccessRole } from '../../infra/cdk';
import {
  ACCOUNT,
  busPolicy,
  identityPolicies,
  newApp,
  newStack,
  props,
  REGION,
  resolve,
  resourcesOf,
  roleId,
  simulate,
  trustPolicy,
  type CfnTemplate,
} from './helpers';

/**
 * The synthesized policies, evaluated with an IAM policy simulator: what each role can and cannot
 * do, decided by the policies CloudFormation would deploy (intrinsics resolved), not by reading them.
 */
const USERS = '222222222222';
const META = '333333333333';
const ORG = 'acme';
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/deployomat`;

let cicd: CfnTemplate;
let withMeta: CfnTemplate;
let workload: CfnTemplate;
let meta: CfnTemplate;

beforeAll(() => {
  const app = newApp();
  const cicdStack = newStack(app, 'CiCd');
  const deployomat = new Deployomat(cicdStack, 'Deployomat', { environment: 'development', organizationPrefix: ORG });
  new DeployerRole(cicdStack, 'Deployer', { deployomat, userAccountIds: [USERS], externalId: 'ci-secret-id' });
  const metaUser = newStack(app, 'WithMeta');
  new Deployomat(metaUser, 'Deployomat', {
    environment: 'development',
    organizationPrefix: ORG,
    prefix: 'metauser',
    metaRoleArn: `arn:aws:iam::${META}:role/DeployomatParameterAccess`,
  });
  const workloadStack = newStack(app, 'Workload');
  new DeployAccessRole(workloadStack, 'DeployAccess', { ciCdAccountIds: [ACCOUNT], environment: 'development', organizationPrefix: ORG });
  const metaStack = newStack(app, 'Meta');
  new MetaAccessRole(metaStack, 'MetaAccess', { ciCdAccountIds: [ACCOUNT], organizationPrefix: ORG });

  cicd = Template.fromStack(cicdStack).toJSON() as CfnTemplate;
  withMeta = Template.fromStack(metaUser).toJSON() as CfnTemplate;
  workload = Template.fromStack(workloadStack).toJSON() as CfnTemplate;
  meta = Template.fromStack(metaStack).toJSON() as CfnTemplate;
});

const roleArn = (template: CfnTemplate, prefix: string) =>
  resolve({ 'Fn::GetAtt': [roleId(template, prefix), 'Arn'] }, template) as string;


/** PutEvents by a role's session (the simulator takes `aws:PrincipalArn`, the role's ARN, from the context). */
function putEvents(template: CfnTemplate, rolePrefix: string, source: string, detailType: string, bus = BUS) {
  const principal = roleArn(template, rolePrefix);
  return simulate({
    principal,
    action: 'events:PutEvents',
    resource: bus,
    identity: identityPolicies(template, roleId(template, rolePrefix)),
    resourcePolicy: busPolicy(template),
    context: { 'events:source': [source], 'events:detail-type': [detailType], 'aws:PrincipalArn': principal },
  });
}

const clientCommands = (Object.keys(catalog) as DetailType[]).filter((t) => catalog[t].source === CLIENT_SOURCE);
const lifecycleEvents = (Object.keys(catalog) as DetailType[]).filter((t) => catalog[t].source === LIFECYCLE_SOURCE);

describe('Role: DeployerRole', () => {
  it.each(clientCommands)('publishes the client command %s', async (type) => {
    expect(await putEvents(cicd, 'Deployer', CLIENT_SOURCE, type)).toBe('Allowed');
  });

  it.each(lifecycleEvents)('cannot publish the lifecycle event %s, with either source', async (type) => {
    expect(await putEvents(cicd, 'Deployer', LIFECYCLE_SOURCE, type)).toBe('ExplicitlyDenied');
    expect(await putEvents(cicd, 'Deployer', CLIENT_SOURCE, type)).toBe('ImplicitlyDenied');
  });

  it('cannot publish a client command as a lifecycle event, nor to another bus', async () => {
    expect(await putEvents(cicd, 'Deployer', LIFECYCLE_SOURCE, 'DeployRequested')).toBe('ExplicitlyDenied');
    expect(await putEvents(cicd, 'Deployer', CLIENT_SOURCE, 'DeployRequested', `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`)).toBe(
      'ImplicitlyDenied',
    );
  });

  it('reads the history in the ledger but cannot write it', async () => {
    const identity = identityPolicies(cicd, roleId(cicd, 'Deployer'));
    const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/deployomat-ledger`;
    const principal = roleArn(cicd, 'Deployer');
    expect(await simulate({ principal, identity, action: 'dynamodb:Query', resource: table })).toBe('Allowed');
    expect(await simulate({ principal, identity, action: 'dynamodb:PutItem', resource: table })).toBe('ImplicitlyDenied');
  });

  it("may create and remove the CLI's temporary rule and queue (--wait, watch), and no others", async () => {
    const identity = identityPolicies(cicd, roleId(cicd, 'Deployer'));
    const principal = roleArn(cicd, 'Deployer');
    const rule = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/deployomat/${name}`;
    const queue = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
    expect(await simulate({ principal, identity, action: 'events:PutRule', resource: rule('deployomat-cli-ab12') })).toBe('Allowed');
    expect(await simulate({ principal, identity, action: 'events:PutRule', resource: rule('deployomat-start-deploy') })).toBe('ImplicitlyDenied');
    expect(await simulate({ principal, identity, action: 'sqs:CreateQueue', resource: queue('deployomat-cli-ab12') })).toBe('Allowed');
    expect(await simulate({ principal, identity, action: 'sqs:ReceiveMessage', resource: queue('deployomat-start-deploy') })).toBe('ImplicitlyDenied');
    expect(await simulate({ principal, identity, action: 'dynamodb:Scan', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/deployomat-ledger` })).toBe(
      'Allowed',
    );
  });

  it("reads the handlers' logs", async () => {
    const identity = identityPolicies(cicd, roleId(cicd, 'Deployer'));
    const stream = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/deployomat-start-deploy:log-stream:x`;
    expect(await simulate({ principal: roleArn(cicd, 'Deployer'), identity, action: 'logs:GetLogEvents', resource: stream })).toBe(
      'Allowed',
    );
  });

  it('trusts the user accounts with the external id only', async () => {
    const trust = trustPolicy(cicd, roleId(cicd, 'Deployer'));
    const assume = (principal: string, externalId?: string) =>
      simulate({
        principal,
        action: 'sts:AssumeRole',
        resource: roleArn(cicd, 'Deployer'),
        identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }],
        resourcePolicy: trust,
        // A source identity is required too (audit-trust.test.ts attacks that).
        context: { 'sts:SourceIdentity': 'alice', ...(externalId ? { 'sts:ExternalId': externalId } : {}) },
      });
    expect(await assume(`arn:aws:iam::${USERS}:role/ci`, 'ci-secret-id')).toBe('Allowed');
    expect(await assume(`arn:aws:iam::${USERS}:role/ci`)).not.toBe('Allowed');
    expect(await assume(`arn:aws:iam::444444444444:role/ci`, 'ci-secret-id')).not.toBe('Allowed');
  });
});

describe('Policy: the bus accepts lifecycle events from Deployomat only', () => {
  const admin = {
    principal: `arn:aws:iam::${ACCOUNT}:role/Administrator`,
    context: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/Administrator` },
    identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
  };

  it('denies an administrator of the account publishing BakeElapsed', async () => {
    const decision = await simulate({
      ...admin,
      action: 'events:PutEvents',
      resource: BUS,
      resourcePolicy: busPolicy(cicd),
      context: { ...admin.context, 'events:source': [LIFECYCLE_SOURCE], 'events:detail-type': ['BakeElapsed'] },
    });
    expect(decision).toBe('ExplicitlyDenied');
  });

  it.each(clientCommands)('denies an administrator of the account publishing the client command %s (only deployers may)', async (type) => {
    const decision = await simulate({
      ...admin,
      action: 'events:PutEvents',
      resource: BUS,
      resourcePolicy: busPolicy(cicd),
      context: { ...admin.context, 'events:source': [CLIENT_SOURCE], 'events:detail-type': [type] },
    });
    expect(decision).toBe('ExplicitlyDenied');
  });

  it('does not deny EventBridge itself (archive replays carry no principal ARN)', async () => {
    const decision = await simulate({
      principal: 'events.amazonaws.com',
      action: 'events:PutEvents',
      resource: BUS,
      resourcePolicy: busPolicy(cicd),
      context: { 'events:source': [LIFECYCLE_SOURCE], 'events:detail-type': ['BakeElapsed'] },
    });
    expect(decision).not.toBe('ExplicitlyDenied');
  });

  it('lets the handlers publish lifecycle events, and nothing else', async () => {
    expect(await putEvents(cicd, 'DeployomatHandlerRole', LIFECYCLE_SOURCE, 'TrafficShifted')).toBe('Allowed');
    expect(await putEvents(cicd, 'DeployomatHandlerRole', CLIENT_SOURCE, 'DeployRequested')).not.toBe('Allowed');
    // Long timers reach the bus through the timer queue and its relay, not from Scheduler.
    expect(await putEvents(cicd, 'DeployomatSchedulerRole', LIFECYCLE_SOURCE, 'BakeElapsed')).not.toBe('Allowed');
    expect(await putEvents(cicd, 'DeployomatSchedulerRole', CLIENT_SOURCE, 'DeployRequested')).not.toBe('Allowed');
  });
});

describe('Role: the scheduler role', () => {
  it('publishes the automatic undeploy, and no other event', async () => {
    expect(await putEvents(cicd, 'DeployomatSchedulerRole', CLIENT_SOURCE, 'UndeployRequested')).toBe('Allowed');
    expect(await putEvents(cicd, 'DeployomatSchedulerRole', LIFECYCLE_SOURCE, 'TrafficShiftDue')).not.toBe('Allowed');
    expect(await putEvents(cicd, 'DeployomatSchedulerRole', CLIENT_SOURCE, 'DeployRequested')).not.toBe('Allowed');
  });

  it('may only publish to this bus, and send only to the timer queue', async () => {
    const identity = identityPolicies(cicd, roleId(cicd, 'DeployomatSchedulerRole'));
    const principal = roleArn(cicd, 'DeployomatSchedulerRole');
    const other = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;
    const context = { 'events:source': [LIFECYCLE_SOURCE], 'events:detail-type': ['BakeElapsed'] };
    expect(await simulate({ principal, identity, action: 'events:PutEvents', resource: other, context })).toBe('ImplicitlyDenied');
    const queue = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
    expect(await simulate({ principal, identity, action: 'sqs:SendMessage', resource: queue('deployomat-relay-timer') })).toBe('Allowed');
    expect(await simulate({ principal, identity, action: 'sqs:ReceiveMessage', resource: queue('deployomat-relay-timer') })).toBe('ImplicitlyDenied');
    expect(await simulate({ principal, identity, action: 'sqs:SendMessage', resource: queue('deployomat-shift-traffic') })).toBe('ImplicitlyDenied');
  });

  it('is assumable by Scheduler for schedules of the Deployomat group only', async () => {
    const trust = trustPolicy(cicd, roleId(cicd, 'DeployomatSchedulerRole'));
    const assume = (sourceArn: string) =>
      simulate({
        principal: 'scheduler.amazonaws.com',
        action: 'sts:AssumeRole',
        resource: roleArn(cicd, 'DeployomatSchedulerRole'),
        resourcePolicy: trust,
        context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': sourceArn },
      });
    expect(await assume(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/deployomat`)).toBe('Allowed');
    expect(await assume(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/default`)).not.toBe('Allowed');
  });
});

describe('Role: the handlers', () => {
  const handlerRequest = (action: string, resource: string, context: Record<string, string | string[]> = {}, t = () => cicd) =>
    simulate({
      principal: roleArn(t(), 'DeployomatHandlerRole'),
      identity: identityPolicies(t(), roleId(t(), 'DeployomatHandlerRole')),
      action,
      resource,
      context,
    });

  it('passes the scheduler role to Scheduler only, and no other role', async () => {
    const scheduler = roleArn(cicd, 'DeployomatSchedulerRole');
    expect(await handlerRequest('iam:PassRole', scheduler, { 'iam:PassedToService': 'scheduler.amazonaws.com' })).toBe('Allowed');
    expect(await handlerRequest('iam:PassRole', scheduler, { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe('ImplicitlyDenied');
    expect(
      await handlerRequest('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/Admin`, { 'iam:PassedToService': 'scheduler.amazonaws.com' }),
    ).toBe('ImplicitlyDenied');
  });

  it('creates and deletes schedules in its group only', async () => {
    const own = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/deployomat/BakeElapsed-x`;
    const other = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/BakeElapsed-x`;
    expect(await handlerRequest('scheduler:CreateSchedule', own)).toBe('Allowed');
    expect(await handlerRequest('scheduler:DeleteSchedule', own)).toBe('Allowed');
    expect(await handlerRequest('scheduler:CreateSchedule', other)).toBe('ImplicitlyDenied');
  });

  it('consumes every handler queue and every dead-letter queue but a projection\'s, and retries with a shorter visibility', async () => {
    // A projection's dead letters wait for an operator: nothing consumes them.
    const unread = new Set(handlers.filter((h) => h.projection).map((h) => resourceNames().deadLetterQueue(h.name)));
    const queues = resourcesOf(cicd, 'AWS::SQS::Queue')
      .map(([, q]) => String(props(q).QueueName))
      .filter((name) => !unread.has(name))
      .map((name) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`);
    expect(queues.length).toBeGreaterThan(2);
    for (const queue of queues) {
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl']) {
        expect(await handlerRequest(action, queue), `${action} ${queue}`).toBe('Allowed');
      }
    }
  });

  it('writes to its log groups only', async () => {
    const stream = (group: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:log-stream:2026/01/01/[$LATEST]abc`;
    const groups = resourcesOf(cicd, 'AWS::Logs::LogGroup').map(([, g]) => String(props(g).LogGroupName));
    for (const group of groups) expect(await handlerRequest('logs:PutLogEvents', stream(group)), group).toBe('Allowed');
    expect(await handlerRequest('logs:PutLogEvents', stream('/aws/lambda/other'))).toBe('ImplicitlyDenied');
  });

  it('sends to the timer queue and uses the ledger', async () => {
    expect(await handlerRequest('sqs:SendMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:deployomat-relay-timer`)).toBe('Allowed');
    expect(await handlerRequest('sqs:SendMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:deployomat-start-deploy`)).toBe('ImplicitlyDenied');
    expect(await handlerRequest('dynamodb:UpdateItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/deployomat-ledger`)).toBe('Allowed');
    expect(await handlerRequest('dynamodb:UpdateItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/other`)).toBe('ImplicitlyDenied');
  });

  it('assumes only workload roles tagged with its service and environment (ABAC)', async () => {
    const role = 'arn:aws:iam::444444444444:role/DeployomatDeployAccess';
    const tags = (service: string, environment: string) => ({
      'aws:ResourceTag/Service': service,
      'aws:ResourceTag/Environment': environment,
      'aws:PrincipalTag/Environment': 'development',
    });
    expect(await handlerRequest('sts:AssumeRole', role, tags('deployomat', 'development'))).toBe('Allowed');
    expect(await handlerRequest('sts:AssumeRole', role, tags('deployomat', 'production'))).toBe('ImplicitlyDenied');
    expect(await handlerRequest('sts:AssumeRole', role, tags('billing', 'development'))).toBe('ImplicitlyDenied');
    expect(await handlerRequest('sts:AssumeRole', role, { 'aws:PrincipalTag/Environment': 'development' })).toBe('ImplicitlyDenied');
  });

  it('reads the account registry itself when no meta role is given, and only it', async () => {
    const parameter = (path: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${path}`;
    expect(await handlerRequest('ssm:GetParameter', parameter('/omat/account_registry/acme-dev'))).toBe('Allowed');
    expect(await handlerRequest('ssm:GetParameter', parameter(`/${ORG}/development/workload/config/web/listener_arns`))).toBe('Allowed');
    expect(await handlerRequest('ssm:GetParameter', parameter(`/${ORG}/development/workload/roles/deployomat`))).toBe('Allowed');
    expect(await handlerRequest('ssm:GetParameter', parameter(`/${ORG}/production/workload/roles/deployomat`))).toBe('ImplicitlyDenied');
    expect(await handlerRequest('ssm:GetParameter', parameter(`/${ORG}/development/workload/secrets/db`))).toBe('ImplicitlyDenied');
  });

  it('with a meta role: assumes it with its Environment session tag, and reads no parameter itself', async () => {
    const metaRole = `arn:aws:iam::${META}:role/DeployomatParameterAccess`;
    const withTag = { 'aws:PrincipalTag/Environment': 'development', 'aws:RequestTag/Environment': 'development', 'sts:TransitiveTagKeys': ['Environment'] };
    expect(await handlerRequest('sts:AssumeRole', metaRole, withTag, () => withMeta)).toBe('Allowed');
    expect(await handlerRequest('sts:AssumeRole', metaRole, { 'aws:PrincipalTag/Environment': 'development' }, () => withMeta)).toBe(
      'ImplicitlyDenied',
    );
    expect(
      await handlerRequest('ssm:GetParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/omat/account_registry/x`, {}, () => withMeta),
    ).toBe('ImplicitlyDenied');
  });
});

describe('Role: DeployAccessRole', () => {
  // A deploy session of acme-dev/web (its DeployomatService session tag); resources below are web's.
  const OWNER = 'acme-dev/web';
  const deploy = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
    simulate({
      principal: roleArn(workload, 'DeployAccess'),
      identity: identityPolicies(workload, roleId(workload, 'DeployAccess')),
      action,
      resource,
      context: { 'aws:PrincipalTag/DeployomatService': OWNER, ...context },
    });
  const asg = `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:11111111-2222-3333-4444-555555555555:autoScalingGroupName/web-20260101`;

  it('cannot pass an administrator role', async () => {
    const admin = `arn:aws:iam::${ACCOUNT}:role/Admin`;
    for (const service of ['ec2.amazonaws.com', 'autoscaling.amazonaws.com']) {
      expect(await deploy('iam:PassRole', admin, { 'iam:PassedToService': service, 'aws:ViaAWSService': 'true' })).toBe('ImplicitlyDenied');
    }
  });

  it('passes instance roles under /<org>/service-role/ to EC2, and the Auto Scaling service-linked role', async () => {
    const instanceRole = `arn:aws:iam::${ACCOUNT}:role/${ORG}/service-role/x`;
    const web = { 'aws:ResourceTag/DeployomatService': OWNER, 'aws:ViaAWSService': 'true' };
    expect(await deploy('iam:PassRole', instanceRole, { 'iam:PassedToService': 'ec2.amazonaws.com', ...web })).toBe('Allowed');
    expect(await deploy('iam:PassRole', instanceRole, { 'iam:PassedToService': 'lambda.amazonaws.com', ...web })).toBe('ImplicitlyDenied');
    expect(await deploy('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/other/service-role/x`, { 'iam:PassedToService': 'ec2.amazonaws.com', ...web })).toBe(
      'ImplicitlyDenied',
    );
    const linked = `arn:aws:iam::${ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
    expect(await deploy('iam:PassRole', linked, { 'iam:PassedToService': 'autoscaling.amazonaws.com' })).toBe('Allowed');
  });

  it('creates an Auto Scaling group only with the Managed request tag', async () => {
    expect(await deploy('autoscaling:CreateAutoScalingGroup', asg)).toBe('ImplicitlyDenied');
    expect(await deploy('autoscaling:CreateAutoScalingGroup', asg, { 'aws:RequestTag/Managed': 'other' })).toBe('ImplicitlyDenied');
    expect(
      await deploy('autoscaling:CreateAutoScalingGroup', asg, {
        'aws:RequestTag/Managed': 'deployomat',
        'aws:RequestTag/DeployomatService': OWNER,
        'aws:TagKeys': ['Managed', 'DeployomatService'],
      }),
    ).toBe('Allowed');
  });

  it('changes and deletes only groups, target groups and rules tagged Managed', async () => {
    const tg = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web-20260101/0123456789abcdef`;
    const rule = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/lb/0123456789abcdef/0123456789abcdef/0123456789abcdef`;
    for (const [action, resource] of [
      ['autoscaling:DeleteAutoScalingGroup', asg],
      ['autoscaling:UpdateAutoScalingGroup', asg],
      ['elasticloadbalancing:DeleteTargetGroup', tg],
      ['elasticloadbalancing:ModifyRule', rule],
    ] as const) {
      expect(await deploy(action, resource, { 'aws:ResourceTag/Managed': 'deployomat', 'aws:ResourceTag/DeployomatService': OWNER }), action).toBe('Allowed');
      expect(await deploy(action, resource), action).toBe('ImplicitlyDenied');
    }
  });

  it('creates target groups only with the Managed request tag', async () => {
    const tg = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web-20260101/0123456789abcdef`;
    expect(await deploy('elasticloadbalancing:CreateTargetGroup', tg)).toBe('ImplicitlyDenied');
    expect(await deploy('elasticloadbalancing:CreateTargetGroup', tg, { 'aws:RequestTag/Managed': 'deployomat', 'aws:RequestTag/DeployomatService': OWNER })).toBe(
      'Allowed',
    );
  });

  it("versions this account's launch templates only", async () => {
    const lt = (account: string) => `arn:aws:ec2:${REGION}:${account}:launch-template/lt-0123456789abcdef0`;
    const web = { 'aws:ResourceTag/DeployomatService': OWNER };
    expect(await deploy('ec2:CreateLaunchTemplateVersion', lt(ACCOUNT), web)).toBe('Allowed');
    expect(await deploy('ec2:ModifyLaunchTemplate', lt(ACCOUNT), web)).toBe('Allowed');
    expect(await deploy('ec2:CreateLaunchTemplateVersion', lt('444444444444'), web)).toBe('ImplicitlyDenied');
  });

  it('launches instances only through an AWS service', async () => {
    const instance = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`;
    expect(await deploy('ec2:RunInstances', instance, { 'aws:ViaAWSService': 'true' })).toBe('Allowed');
    expect(await deploy('ec2:RunInstances', instance, { 'aws:ViaAWSService': 'false' })).toBe('ImplicitlyDenied');
  });

  it('is assumable by the Deployomat handlers of its environment only', async () => {
    const trust = trustPolicy(workload, roleId(workload, 'DeployAccess'));
    const assume = (principalAccount: string, tags: Record<string, string>, role = 'deployomat-handlers') =>
      simulate({
        principal: `arn:aws:iam::${principalAccount}:role/${role}`,
        action: 'sts:AssumeRole',
        resource: roleArn(workload, 'DeployAccess'),
        resourceAccount: ACCOUNT,
        identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }],
        resourcePolicy: trust,
        context: {
          ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
          'aws:PrincipalArn': `arn:aws:iam::${principalAccount}:role/${role}`,
        },
      });
    expect(await assume(ACCOUNT, { Service: 'deployomat', Environment: 'development' })).toBe('Allowed');
    // Any other role of the CI/CD account carrying the same tags (anyone who can tag a role there).
    expect(await assume(ACCOUNT, { Service: 'deployomat', Environment: 'development' }, 'ci-build')).not.toBe('Allowed');
    expect(await assume(ACCOUNT, { Service: 'deployomat', Environment: 'production' })).not.toBe('Allowed');
    expect(await assume(ACCOUNT, { Service: 'other', Environment: 'development' })).not.toBe('Allowed');
    expect(await assume('444444444444', { Service: 'deployomat', Environment: 'development' })).not.toBe('Allowed');
  });
});

describe('Role: MetaAccessRole', () => {
  const read = (path: string, environment: string) =>
    simulate({
      principal: roleArn(meta, 'MetaAccess'),
      identity: identityPolicies(meta, roleId(meta, 'MetaAccess')),
      action: 'ssm:GetParameter',
      resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${path}`,
      context: { 'aws:PrincipalTag/Environment': environment },
    });

  it("reads the registry and the parameters of its caller's environment only", async () => {
    expect(await read('/omat/account_registry/acme-dev', 'development')).toBe('Allowed');
    expect(await read(`/${ORG}/development/workload/config/web/listener_arns`, 'development')).toBe('Allowed');
    expect(await read(`/${ORG}/development/workload/roles/deployomat`, 'development')).toBe('Allowed');
    expect(await read(`/${ORG}/production/workload/config/web/listener_arns`, 'development')).toBe('ImplicitlyDenied');
    expect(await read(`/${ORG}/development/workload/roles/admin`, 'development')).toBe('ImplicitlyDenied');
  });

  it('reads every environment for a production caller', async () => {
    expect(await read(`/${ORG}/development/workload/config/web/listener_arns`, 'production')).toBe('Allowed');
  });

  it('requires the Environment session tag, transitive, matching the caller', async () => {
    const trust = trustPolicy(meta, roleId(meta, 'MetaAccess'));
    const assume = (action: string, context: Record<string, string | string[]>) =>
      simulate({
        principal: `arn:aws:iam::${ACCOUNT}:role/deployomat-handlers`,
        action,
        resource: roleArn(meta, 'MetaAccess'),
        identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:*', Resource: '*' }] }],
        resourcePolicy: trust,
        context: {
          'aws:PrincipalTag/Service': 'deployomat',
          'aws:PrincipalTag/Environment': 'development',
          'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/deployomat-handlers`,
          ...context,
        },
      });
    const tagged = { 'aws:RequestTag/Environment': 'development', 'sts:TransitiveTagKeys': ['Environment'] };
    expect(await assume('sts:AssumeRole', tagged)).toBe('Allowed');
    expect(await assume('sts:TagSession', tagged)).toBe('Allowed');
    expect(await assume('sts:AssumeRole', { ...tagged, 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/ci-build` })).not.toBe('Allowed');
    expect(await assume('sts:AssumeRole', {})).not.toBe('Allowed');
    expect(await assume('sts:AssumeRole', { 'aws:RequestTag/Environment': 'production', 'sts:TransitiveTagKeys': ['Environment'] })).not.toBe(
      'Allowed',
    );
  });
});
