import { Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { HandlerTrustProps } from './common';
import { addStatement, assertAccountIds, assertSegment, DEFAULT_SERVICE_NAME, ENVIRONMENT_TAG, SERVICE_TAG, trustHandlers } from './common';
import { PRINCIPAL_ENVIRONMENT, registryParameterArns } from './ssm-paths';

export interface MetaAccessRoleProps extends HandlerTrustProps {
  /** The organization prefix: first segment of the SSM paths (`/<org>/<environment>/<account>/...`). */
  readonly organizationPrefix: string;
  /**
   * Deployomat's service name: callers must carry the principal tag `Service=<name>`, and the role
   * may read each account's `roles/<name>` parameter.
   * @default 'deployomat'
   */
  readonly serviceName?: string;
  /**
   * Name of the role.
   * @default 'DeployomatParameterAccess' (the original's name)
   */
  readonly roleName?: string;
  /**
   * Region of the SSM parameters.
   * @default any region, as the original
   */
  readonly parameterRegion?: string;
}

/**
 * In the meta/config account: a role Deployomat's handlers assume to read the SSM account
 * registry. As the original: the caller must be tagged `Service=<service name>` and pass its
 * `Environment` as a transitive session tag; it then reads the registry and the `config/*` and
 * `roles/<service name>` parameters of accounts of that environment only (of every environment
 * for a `production` caller).
 */
export class MetaAccessRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MetaAccessRoleProps) {
    super(scope, id);
    assertAccountIds('ciCdAccountIds', props.ciCdAccountIds);
    assertSegment('organizationPrefix', props.organizationPrefix);
    const serviceName = props.serviceName ?? DEFAULT_SERVICE_NAME;
    assertSegment('serviceName', serviceName);

    const trust = trustHandlers(this, props, {
      conditions: {
        StringEquals: {
          [`aws:PrincipalTag/${SERVICE_TAG}`]: serviceName,
          // The caller passes its own environment, and the tag follows any role chaining.
          [`aws:RequestTag/${ENVIRONMENT_TAG}`]: PRINCIPAL_ENVIRONMENT,
        },
        'ForAnyValue:StringEquals': { 'sts:TransitiveTagKeys': [ENVIRONMENT_TAG] },
      },
    });
    this.role = new iam.Role(this, 'Resource', {
      roleName: props.roleName ?? 'DeployomatParameterAccess',
      description: `Lets ${serviceName} read the account registry and account parameters of its own environment`,
      assumedBy: trust.assumedBy,
    });
    if (trust.tagSession) this.role.assumeRolePolicy!.addStatements(trust.tagSession);
    Tags.of(this.role).add(SERVICE_TAG, serviceName);

    const common = { organizationPrefix: props.organizationPrefix, serviceName, region: props.parameterRegion ?? '*' };
    const own = registryParameterArns(this, { ...common, environment: PRINCIPAL_ENVIRONMENT });
    const ownEnvironment = [own.registry, ...own.accountParameters];
    const anyEnvironment = registryParameterArns(this, { ...common, environment: '*' }).accountParameters;
    const why =
      'Accounts and services are looked up at run time: the paths are limited to the registry and to config/* and ' +
      "roles/<service> of accounts in the caller's environment (its Environment session tag), of all environments only for production.";
    addStatement(this.role, { sid: 'ReadOwnEnvironment', actions: ['ssm:GetParameter'], resources: ownEnvironment }, why);
    addStatement(
      this.role,
      {
        sid: 'ProductionReadsEveryEnvironment',
        actions: ['ssm:GetParameter'],
        resources: anyEnvironment,
        conditions: { StringEquals: { [`aws:PrincipalTag/${ENVIRONMENT_TAG}`]: 'production' } },
      },
      why,
    );
  }
}
