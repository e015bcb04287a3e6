import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeployAccessRole } from '../../infra/cdk';
import { ACCOUNT, identityPolicies, newApp, newStack, REGION, resolve, roleId, simulate, trustPolicy, type CfnTemplate } from './helpers';

/**
 * Issue #12, findings 3, 4 and 7, in IAM: a deploy session of one service (session tag
 * `DeployomatService=acme-dev/web`) tries to act on another service's (`acme-dev/billing`)
 * instance role, launch template, groups, target groups and rules. Simulated against the
 * synthesized DeployAccessRole, by default and with the opt-out `requireOwnerTags: false`.
 */
const ORG = 'acme';
const WEB = 'acme-dev/web';
const BILLING = 'acme-dev/billing';

let strict: CfnTemplate;
let legacy: CfnTemplate;
beforeAll(() => {
  const app = newApp();
  const strictStack = newStack(app, 'Strict');
  new DeployAccessRole(strictStack, 'DeployAccess', { ciCdAccountIds: [ACCOUNT], environment: 'development', organizationPrefix: ORG });
  const legacyStack = newStack(app, 'Legacy');
  new DeployAccessRole(legacyStack, 'DeployAccess', { ciCdAccountIds: [ACCOUNT], environment: 'development', organizationPrefix: ORG, requireOwnerTags: false });
  strict = Template.fromStack(strictStack).toJSON() as CfnTemplate;
  legacy = Template.fromStack(legacyStack).toJSON() as CfnTemplate;
});

/** web's deploy session asks for `action` on `resource` (tagged as `context` says). */
const asWeb = (template: CfnTemplate, action: string, resource: string, context: Record<string, string | string[]> = {}) =>
  simulate({
    principal: resolve({ 'Fn::GetAtt': [roleId(template, 'DeployAccess'), 'Arn'] }, template) as string,
    identity: identityPolicies(template, roleId(template, 'DeployAccess')),
    action,
    resource,
    context: { 'aws:PrincipalTag/DeployomatService': WEB, ...context },
  });

const instanceRole = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${ORG}/service-role/${name}`;
const launchTemplate = (region = REGION) => `arn:aws:ec2:${region}:${ACCOUNT}:launch-template/lt-0123456789abcdef0`;
const asg = `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:11111111-2222-3333-4444-555555555555:autoScalingGroupName/billing-20260101`;
const tg = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/billing-20260101/0123456789abcdef`;
const rule = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/lb/0123456789abcdef/0123456789abcdef/0123456789abcdef`;
const passToEc2 = (owner: string) => ({ 'iam:PassedToService': 'ec2.amazonaws.com', 'aws:ViaAWSService': 'true', 'aws:ResourceTag/DeployomatService': owner });
const CHANGES = [
  ['autoscaling:UpdateAutoScalingGroup', asg],
  ['autoscaling:DeleteAutoScalingGroup', asg],
  ['autoscaling:PutScalingPolicy', asg],
  ['elasticloadbalancing:ModifyRule', rule],
  ['elasticloadbalancing:DeleteRule', rule],
  ['elasticloadbalancing:DeleteTargetGroup', tg],
  ['elasticloadbalancing:ModifyTargetGroupAttributes', tg],
] as const;

describe('Finding 3: a deploy passes only its own service\'s instance role', () => {
  it("refuses another service's instance role, passes its own", async () => {
    expect(await asWeb(strict, 'iam:PassRole', instanceRole('billing'), passToEc2(BILLING))).toBe('ImplicitlyDenied');
    expect(await asWeb(strict, 'iam:PassRole', instanceRole('untagged'), { 'iam:PassedToService': 'ec2.amazonaws.com', 'aws:ViaAWSService': 'true' })).toBe(
      'ImplicitlyDenied',
    );
    expect(await asWeb(strict, 'iam:PassRole', instanceRole('web'), passToEc2(WEB))).toBe('Allowed');
  });

  it('refuses every instance role to a session that names no service', async () => {
    const untaggedSession = await simulate({
      principal: resolve({ 'Fn::GetAtt': [roleId(strict, 'DeployAccess'), 'Arn'] }, strict) as string,
      identity: identityPolicies(strict, roleId(strict, 'DeployAccess')),
      action: 'iam:PassRole',
      resource: instanceRole('web'),
      context: passToEc2(WEB),
    });
    expect(untaggedSession).toBe('ImplicitlyDenied');
  });

  it('passes any role under /<org>/service-role/ with requireOwnerTags: false (the opt-out), still no other', async () => {
    expect(await asWeb(legacy, 'iam:PassRole', instanceRole('billing'), passToEc2(BILLING))).toBe('Allowed');
    expect(await asWeb(legacy, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/Admin`, passToEc2(WEB))).toBe('ImplicitlyDenied');
  });

  it('reads instance profiles and the tags of service roles only (for start-deploy\'s check)', async () => {
    expect(await asWeb(strict, 'iam:GetInstanceProfile', `arn:aws:iam::${ACCOUNT}:instance-profile/web-instance`)).toBe('Allowed');
    expect(await asWeb(strict, 'iam:ListRoleTags', instanceRole('web'))).toBe('Allowed');
    expect(await asWeb(strict, 'iam:ListRoleTags', `arn:aws:iam::${ACCOUNT}:role/Admin`)).toBe('ImplicitlyDenied');
  });
});

describe("Finding 4: a deploy changes, deletes and creates only its own service's resources", () => {
  it.each(CHANGES)("refuses %s on another service's resource, allows it on its own", async (action, resource) => {
    expect(await asWeb(strict, action, resource, { 'aws:ResourceTag/Managed': 'deployomat', 'aws:ResourceTag/DeployomatService': BILLING })).toBe('ImplicitlyDenied');
    expect(await asWeb(strict, action, resource, { 'aws:ResourceTag/Managed': 'deployomat' })).toBe('ImplicitlyDenied');
    expect(await asWeb(strict, action, resource, { 'aws:ResourceTag/Managed': 'deployomat', 'aws:ResourceTag/DeployomatService': WEB })).toBe('Allowed');
  });

  it('creates groups, target groups and rules only tagged with its own service', async () => {
    for (const [action, resource] of [
      ['autoscaling:CreateAutoScalingGroup', asg],
      ['elasticloadbalancing:CreateTargetGroup', tg],
      ['elasticloadbalancing:CreateRule', `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/lb/0123456789abcdef/0123456789abcdef`],
    ] as const) {
      expect(await asWeb(strict, action, resource, { 'aws:RequestTag/Managed': 'deployomat', 'aws:RequestTag/DeployomatService': BILLING }), action).toBe(
        'ImplicitlyDenied',
      );
      expect(await asWeb(strict, action, resource, { 'aws:RequestTag/Managed': 'deployomat', 'aws:RequestTag/DeployomatService': WEB }), action).toBe('Allowed');
    }
  });

  it("changes any Managed resource with requireOwnerTags: false (the opt-out: before 0.2)", async () => {
    expect(await asWeb(legacy, 'elasticloadbalancing:ModifyRule', rule, { 'aws:ResourceTag/Managed': 'deployomat', 'aws:ResourceTag/DeployomatService': BILLING })).toBe(
      'Allowed',
    );
  });

  it('no longer attaches target groups to groups (an unused grant)', async () => {
    expect(await asWeb(strict, 'autoscaling:AttachLoadBalancerTargetGroups', asg, { 'aws:ResourceTag/Managed': 'deployomat', 'aws:ResourceTag/DeployomatService': WEB })).toBe(
      'ImplicitlyDenied',
    );
  });
});

describe("Finding 7: a deploy versions only its own service's launch templates, in its region", () => {
  it.each(['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate'])('%s', async (action) => {
    expect(await asWeb(strict, action, launchTemplate(), { 'aws:ResourceTag/DeployomatService': BILLING })).toBe('ImplicitlyDenied');
    expect(await asWeb(strict, action, launchTemplate())).toBe('ImplicitlyDenied');
    expect(await asWeb(strict, action, launchTemplate('eu-west-3'), { 'aws:ResourceTag/DeployomatService': WEB })).toBe('ImplicitlyDenied');
    expect(await asWeb(strict, action, launchTemplate(), { 'aws:ResourceTag/DeployomatService': WEB })).toBe('Allowed');
    // The opt-out: any launch template, but still this region's only.
    expect(await asWeb(legacy, action, launchTemplate(), { 'aws:ResourceTag/DeployomatService': BILLING })).toBe('Allowed');
    expect(await asWeb(legacy, action, launchTemplate('eu-west-3'))).toBe('ImplicitlyDenied');
  });
});

describe('The deploy session carries its service', () => {
  it('lets the handlers tag the session they assume', async () => {
    const handlers = `arn:aws:iam::${ACCOUNT}:role/deployomat-handlers`;
    const decision = await simulate({
      principal: handlers,
      action: 'sts:TagSession',
      resource: resolve({ 'Fn::GetAtt': [roleId(strict, 'DeployAccess'), 'Arn'] }, strict) as string,
      resourceAccount: ACCOUNT,
      identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:TagSession', Resource: '*' }] }],
      resourcePolicy: trustPolicy(strict, roleId(strict, 'DeployAccess')),
      context: {
        'aws:PrincipalArn': handlers,
        'aws:PrincipalTag/Service': 'deployomat',
        'aws:PrincipalTag/Environment': 'development',
        'aws:RequestTag/DeployomatService': WEB,
      },
    });
    expect(decision).toBe('Allowed');
  });
});
