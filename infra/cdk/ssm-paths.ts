import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Where Accountomat registers accounts (read by domain/aws/accounts.ts). */
export const ACCOUNT_REGISTRY_PATH = '/omat/account_registry';

/** IAM policy variable: the `Environment` tag of the calling principal (or its session). */
export const PRINCIPAL_ENVIRONMENT = '${aws:PrincipalTag/Environment}';

/**
 * ARNs of the SSM parameters Deployomat reads to resolve an account: the registry, each account's
 * `config/*` (listener ARNs) and its `roles/<service name>` (the workload role ARN), under
 * `/<org>/<environment>/<account>/`. `environment` is a literal or {@link PRINCIPAL_ENVIRONMENT}.
 */
export function registryParameterArns(
  scope: IConstruct,
  opts: { organizationPrefix: string; environment: string; serviceName: string; region?: string },
): { registry: string; accountParameters: string[] } {
  const stack = Stack.of(scope);
  const base = `arn:${stack.partition}:ssm:${opts.region ?? stack.region}:${stack.account}:parameter`;
  const accounts = `${base}/${opts.organizationPrefix}/${opts.environment}/*`;
  return {
    registry: `${base}${ACCOUNT_REGISTRY_PATH}/*`,
    accountParameters: [`${accounts}/config/*`, `${accounts}/roles/${opts.serviceName}`],
  };
}

/**
 * The SSM path of the CI/CD account's own parameters, as the original published them:
 * `/<org>/<environment>/<account name>`.
 */
export function accountParameterPrefix(organizationPrefix: string, environment: string, accountName: string): string {
  return `/${organizationPrefix}/${environment}/${accountName}`;
}
