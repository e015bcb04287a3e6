import { Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { HandlerTrustProps } from './common';
import { OWNER_TAG } from '../../domain/aws/tags';
import {
  addStatement,
  assertAccountIds,
  assertSegment,
  DEFAULT_SERVICE_NAME,
  ENVIRONMENT_TAG,
  trustHandlers,
  MANAGED_TAG,
  SERVICE_TAG,
} from './common';

/**
 * Read-only actions allowed on every resource: they have no resource-level permissions in IAM (or
 * Deployomat looks resources up by name before it knows their ARN). docs/INFRA.md lists them.
 */
export const DEPLOY_ROLE_DESCRIBE_ACTIONS = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeLifecycleHooks',
  'autoscaling:DescribePolicies',
  'autoscaling:DescribeWarmPool',
  'autoscaling:DescribeTags',
  // Alarm-gated rollouts: the deploy's RollbackAlarms (the service owner's, any name), read by name.
  'cloudwatch:DescribeAlarms',
  'ec2:DescribeImages',
  'ec2:DescribeLaunchTemplates',
  'ec2:DescribeLaunchTemplateVersions',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeRules',
  'elasticloadbalancing:DescribeTags',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetGroupAttributes',
  'elasticloadbalancing:DescribeTargetHealth',
] as const;

/**
 * What Auto Scaling and Elastic Load Balancing do with the caller's permissions while creating a
 * group or a target group (launch from the launch template, look up the VPC): allowed only when
 * the request comes through an AWS service (`aws:ViaAWSService`), as in the original.
 */
export const DEPLOY_ROLE_VIA_SERVICE_ACTIONS = ['ec2:RunInstances', 'ec2:DescribeVpcs', 'ec2:DescribeInternetGateways'] as const;

/**
 * What Auto Scaling tags with the caller's permissions when it launches from a launch template that
 * tags its instances or volumes (most do): only as part of that launch (`ec2:CreateAction`).
 */
const LAUNCH_TAGGED_RESOURCES = ['instance', 'volume', 'network-interface', 'spot-instances-request'] as const;

/** The original's role name. */
export const DEFAULT_DEPLOY_ACCESS_ROLE_NAME = 'DeployomatDeployAccess';

export interface DeployAccessRoleProps extends HandlerTrustProps {
  /**
   * The environment of this workload account. Only a Deployomat installation of the same
   * environment (its role tagged `Environment=<environment>`) may assume the role.
   */
  readonly environment: string;
  /**
   * The organization prefix: instance roles the deploys may pass must live under
   * `/<org>/service-role/`.
   */
  readonly organizationPrefix: string;
  /**
   * Deployomat's service name: callers must be tagged `Service=<name>`, and it is the value of the
   * `Managed` tag on everything the role may create, change or delete.
   * @default 'deployomat'
   */
  readonly serviceName?: string;
  /**
   * Name of the role. Register its ARN under `/<org>/<environment>/<account>/roles/<serviceName>`
   * in the meta account.
   * @default 'DeployomatDeployAccess' (the original's name)
   */
  readonly roleName?: string;
  /**
   * Each deploy session carries the service it deploys (session tag `DeployomatService` =
   * `<account slug>/<service>`), and the role acts only on that service's things: it creates
   * resources tagged with it, changes or deletes only resources carrying it, versions only launch
   * templates and passes only instance roles (under `/<org>/service-role/`) tagged with it.
   * `false` restores the original's rules: anything tagged `Managed`, any launch template of the
   * region, any role under `/<org>/service-role/` — one service's deploy can then touch another's
   * (docs/SECURITY.md). Set Deployomat's `requireOwnerTags` the same way.
   * @default true
   */
  readonly requireOwnerTags?: boolean;
}

/**
 * In each workload account: the role Deployomat assumes to deploy (session name = deploy id,
 * session tag `DeployomatService` = the service deployed). ABAC on the `Managed` tag, as the
 * original, and on the owner tag: it may create Auto Scaling groups, target groups and listener
 * rules only tagged `Managed=<service name>` and with the session's service, and change or delete
 * only resources carrying both. It may version only the session's service's launch templates of
 * this region, and pass only the Auto Scaling service-linked role and the session's service's
 * instance roles under `/<org>/service-role/`, never an arbitrary role (`requireOwnerTags`).
 */
export class DeployAccessRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DeployAccessRoleProps) {
    super(scope, id);
    assertAccountIds('ciCdAccountIds', props.ciCdAccountIds);
    assertSegment('environment', props.environment);
    assertSegment('organizationPrefix', props.organizationPrefix);
    const serviceName = props.serviceName ?? DEFAULT_SERVICE_NAME;
    assertSegment('serviceName', serviceName);

    const requireOwnerTags = props.requireOwnerTags ?? true;
    const trust = trustHandlers(this, props, {
      conditions: {
        StringEquals: {
          [`aws:PrincipalTag/${SERVICE_TAG}`]: serviceName,
          [`aws:PrincipalTag/${ENVIRONMENT_TAG}`]: props.environment,
        },
      },
    });
    this.role = new iam.Role(this, 'Resource', {
      roleName: props.roleName ?? DEFAULT_DEPLOY_ACCESS_ROLE_NAME,
      description: `Lets ${serviceName} (${props.environment}) deploy in this account; ABAC on the ${MANAGED_TAG} tag`,
      // Session tags: the handlers name the service each session deploys (DeployomatService).
      assumedBy: trust.assumedBy,
    });
    if (trust.tagSession) this.role.assumeRolePolicy!.addStatements(trust.tagSession);
    // Deployomat's handlers may only assume roles carrying these (see Deployomat's AssumeWorkloadRoles).
    Tags.of(this.role).add(SERVICE_TAG, serviceName);
    Tags.of(this.role).add(ENVIRONMENT_TAG, props.environment);

    const stack = Stack.of(this);
    // The session's service, as the handlers tagged it when assuming the role.
    const sessionOwner = `\${aws:PrincipalTag/${OWNER_TAG}}`;
    const owned = (kind: 'RequestTag' | 'ResourceTag') => (requireOwnerTags ? { [`aws:${kind}/${OWNER_TAG}`]: sessionOwner } : {});
    const requestTagged = { StringEquals: { [`aws:RequestTag/${MANAGED_TAG}`]: serviceName, ...owned('RequestTag') } };
    const resourceTagged = { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG}`]: serviceName, ...owned('ResourceTag') } };
    const abac = requireOwnerTags
      ? `ABAC: allowed on any resource only with the ${MANAGED_TAG}=${serviceName} tag and the session's ${OWNER_TAG} tag (resource names are chosen per deploy).`
      : `ABAC: allowed on any resource only with the ${MANAGED_TAG}=${serviceName} tag (resource names are chosen per deploy).`;

    addStatement(
      this.role,
      {
        sid: 'CreateManagedGroups',
        actions: ['autoscaling:CreateAutoScalingGroup'],
        resources: ['*'],
        conditions: requestTagged,
      },
      abac,
    );
    addStatement(
      this.role,
      {
        sid: 'ChangeManagedGroups',
        actions: [
          'autoscaling:UpdateAutoScalingGroup',
          'autoscaling:DeleteAutoScalingGroup',
          'autoscaling:PutScalingPolicy',
          'autoscaling:PutWarmPool',
          'autoscaling:EnableMetricsCollection',
        ],
        resources: ['*'],
        conditions: resourceTagged,
      },
      abac,
    );
    addStatement(
      this.role,
      {
        sid: 'CreateManagedTargetGroupsAndRules',
        actions: ['elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:CreateRule'],
        resources: ['*'],
        conditions: requestTagged,
      },
      abac,
    );
    addStatement(
      this.role,
      {
        // Elastic Load Balancing authorizes the tags of a create request as AddTags.
        sid: 'TagOnCreateOnly',
        actions: ['elasticloadbalancing:AddTags'],
        resources: ['*'],
        conditions: {
          ...requestTagged,
          'ForAnyValue:StringEquals': {
            'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateRule'],
          },
        },
      },
      abac,
    );
    addStatement(
      this.role,
      {
        sid: 'ChangeManagedTargetGroupsAndRules',
        actions: [
          'elasticloadbalancing:ModifyRule',
          'elasticloadbalancing:DeleteRule',
          'elasticloadbalancing:ModifyTargetGroupAttributes',
          'elasticloadbalancing:DeleteTargetGroup',
        ],
        resources: ['*'],
        conditions: resourceTagged,
      },
      abac,
    );
    addStatement(
      this.role,
      {
        // The service owner's launch templates: a version per deploy with the new AMI, then the default.
        sid: 'VersionLaunchTemplates',
        actions: ['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate'],
        resources: [stack.formatArn({ service: 'ec2', resource: 'launch-template', resourceName: '*' })],
        ...(requireOwnerTags ? { conditions: { StringEquals: owned('ResourceTag') } } : {}),
      },
      requireOwnerTags
        ? `Every service has its own launch template, created outside Deployomat and tagged ${OWNER_TAG}=<account slug>/<service>: only the session's service's, in this account and region.`
        : 'Every service has its own launch template, created outside Deployomat; the resource is limited to launch templates of this account and region.',
    );
    addStatement(
      this.role,
      {
        sid: 'ReadInstanceProfiles',
        actions: ['iam:GetInstanceProfile'],
        resources: [stack.formatArn({ service: 'iam', region: '', resource: 'instance-profile', resourceName: '*' })],
      },
      "start-deploy reads the launch template's instance profile (any name the service owner chose) to check its roles before a deploy creates anything.",
    );
    addStatement(
      this.role,
      {
        sid: 'ReadServiceRoleTags',
        actions: ['iam:ListRoleTags'],
        resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${props.organizationPrefix}/service-role/*` })],
      },
      `start-deploy checks the ${OWNER_TAG} tag of the instance roles under /${props.organizationPrefix}/service-role/ before a deploy creates anything.`,
    );
    addStatement(
      this.role,
      {
        sid: 'ReadImageParameters',
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: '*' }),
          stack.formatArn({ service: 'ssm', account: '', resource: 'parameter', resourceName: 'aws/service/*' }),
        ],
      },
      'AmiId resolve:ssm:<parameter> (as a launch template takes it): start-deploy reads the AMI id the parameter holds, any name in this account or AWS\'s public ones, to check the image before anything changes. SecureString values stay encrypted (no kms:Decrypt).',
    );
    addStatement(
      this.role,
      { sid: 'ReadOnlyDescribes', actions: [...DEPLOY_ROLE_DESCRIBE_ACTIONS], resources: ['*'] },
      'Read-only describes without resource-level permissions, or of resources found by name (listed in docs/INFRA.md).',
    );
    addStatement(
      this.role,
      {
        sid: 'LaunchThroughAutoScalingOnly',
        actions: [...DEPLOY_ROLE_VIA_SERVICE_ACTIONS],
        resources: ['*'],
        conditions: { Bool: { 'aws:ViaAWSService': 'true' } },
      },
      'Only through an AWS service (aws:ViaAWSService): Auto Scaling launching from the launch template, ELB looking up the VPC.',
    );
    addStatement(
      this.role,
      {
        sid: 'TagWhatAutoScalingLaunches',
        actions: ['ec2:CreateTags'],
        resources: LAUNCH_TAGGED_RESOURCES.map((resource) => stack.formatArn({ service: 'ec2', resource, resourceName: '*' })),
        conditions: { Bool: { 'aws:ViaAWSService': 'true' }, StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
      },
      'Launched resources are named by EC2; only through an AWS service (Auto Scaling), and only as part of RunInstances.',
    );
    addStatement(
      this.role,
      {
        sid: 'PassAutoScalingServiceLinkedRole',
        actions: ['iam:PassRole'],
        resources: [
          stack.formatArn({
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: 'aws-service-role/autoscaling.amazonaws.com/*',
          }),
        ],
        conditions: { StringEquals: { 'iam:PassedToService': 'autoscaling.amazonaws.com' } },
      },
      'The Auto Scaling service-linked roles (AWSServiceRoleForAutoScaling and its custom-suffix variants) of this account, passed to Auto Scaling only.',
    );
    addStatement(
      this.role,
      {
        sid: 'PassServiceRoles',
        actions: ['iam:PassRole'],
        resources: [
          stack.formatArn({
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: `${props.organizationPrefix}/service-role/*`,
          }),
        ],
        conditions: {
          StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com', ...owned('ResourceTag') },
          Bool: { 'aws:ViaAWSService': 'true' },
        },
      },
      `Instance roles live under /${props.organizationPrefix}/service-role/ (the original's rule): only those, never e.g. an administrator role, ` +
        (requireOwnerTags ? `only the session's service's (${OWNER_TAG} tag), ` : '') +
        'and only to EC2 through Auto Scaling.',
    );
  }
}
