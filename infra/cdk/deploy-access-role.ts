import { Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { HandlerTrustProps } from './common';
import {
  addStatement,
  assertAccountIds,
  assertExternalId,
  assertSegment,
  DEFAULT_SERVICE_NAME,
  ENVIRONMENT_TAG,
  handlerCallers,
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
   * An external id callers must present.
   * @default none required. Note: Deployomat's handlers do not pass an external id yet.
   */
  readonly externalId?: string;
}

/**
 * In each workload account: the role Deployomat assumes to deploy (session name = deploy id).
 * ABAC on the `Managed` tag, as the original: it may create Auto Scaling groups, target groups and
 * listener rules only tagged `Managed=<service name>`, and change or delete only resources that
 * carry that tag. Launch templates are the service owner's: it may add versions and set the
 * default. It may pass only the Auto Scaling service-linked role and instance roles under
 * `/<org>/service-role/`, never an arbitrary role.
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
    assertExternalId(props.externalId);

    const callers = handlerCallers(this, props, {
      conditions: {
        StringEquals: {
          [`aws:PrincipalTag/${SERVICE_TAG}`]: serviceName,
          [`aws:PrincipalTag/${ENVIRONMENT_TAG}`]: props.environment,
          ...(props.externalId ? { 'sts:ExternalId': props.externalId } : {}),
        },
      },
    });
    this.role = new iam.Role(this, 'Resource', {
      roleName: props.roleName ?? DEFAULT_DEPLOY_ACCESS_ROLE_NAME,
      description: `Lets ${serviceName} (${props.environment}) deploy in this account; ABAC on the ${MANAGED_TAG} tag`,
      assumedBy: new iam.CompositePrincipal(...callers),
    });
    // Deployomat's handlers may only assume roles carrying these (see Deployomat's AssumeWorkloadRoles).
    Tags.of(this.role).add(SERVICE_TAG, serviceName);
    Tags.of(this.role).add(ENVIRONMENT_TAG, props.environment);

    const stack = Stack.of(this);
    const requestTagged = { StringEquals: { [`aws:RequestTag/${MANAGED_TAG}`]: serviceName } };
    const resourceTagged = { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG}`]: serviceName } };
    const abac = `ABAC: allowed on any resource only with the ${MANAGED_TAG}=${serviceName} tag (resource names are chosen per deploy).`;

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
          'autoscaling:AttachLoadBalancerTargetGroups',
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
        resources: [stack.formatArn({ service: 'ec2', region: '*', resource: 'launch-template', resourceName: '*' })],
      },
      'Every service has its own launch template, created outside Deployomat; the resource is limited to launch templates of this account.',
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
          StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
          Bool: { 'aws:ViaAWSService': 'true' },
        },
      },
      `Instance roles live under /${props.organizationPrefix}/service-role/ (the original's rule): only those, never e.g. an administrator role, and only to EC2 through Auto Scaling.`,
    );
  }
}
