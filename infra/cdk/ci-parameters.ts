import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { assertSegment } from './common';
import type { DeployerRole } from './deployer-role';
import type { Deployomat } from './deployomat';
import { accountParameterPrefix } from './ssm-paths';

export interface CiParametersProps {
  /** The installation to publish. */
  readonly deployomat: Deployomat;
  /** Name of this (CI/CD) account in the SSM hierarchy: `/<org>/<environment>/<accountName>/...`. */
  readonly accountName: string;
  /**
   * The deployer role to publish under `roles/deployer`.
   * @default no deployer role parameter
   */
  readonly deployerRole?: DeployerRole;
}

/**
 * The SSM parameters CI needs to start a deploy, where the original published its state machine
 * ARNs: under `/<org>/<environment>/<accountName>/`, `roles/deployer` (the role to assume) and
 * `config/<service name>/event_bus_name` and `event_bus_arn` (where to put the command).
 */
export class CiParameters extends Construct {
  /** `/<org>/<environment>/<accountName>` */
  public readonly prefix: string;
  public readonly eventBusName: ssm.StringParameter;
  public readonly eventBusArn: ssm.StringParameter;
  public readonly deployerRoleArn?: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: CiParametersProps) {
    super(scope, id);
    assertSegment('accountName', props.accountName);
    const d = props.deployomat;
    this.prefix = accountParameterPrefix(d.organizationPrefix, d.environment, props.accountName);
    const config = `${this.prefix}/config/${d.serviceName}`;

    this.eventBusName = new ssm.StringParameter(this, 'EventBusName', {
      parameterName: `${config}/event_bus_name`,
      stringValue: d.eventBus.eventBusName,
      description: `The bus to publish ${d.serviceName} commands (DeployRequested, ...) to`,
    });
    this.eventBusArn = new ssm.StringParameter(this, 'EventBusArn', {
      parameterName: `${config}/event_bus_arn`,
      stringValue: d.eventBus.eventBusArn,
      description: `ARN of the bus to publish ${d.serviceName} commands to`,
    });
    if (props.deployerRole) {
      this.deployerRoleArn = new ssm.StringParameter(this, 'DeployerRoleArn', {
        parameterName: `${this.prefix}/roles/deployer`,
        stringValue: props.deployerRole.role.roleArn,
        description: `The role to assume to start ${d.serviceName} deploys`,
      });
    }
  }
}
