import { RemovalPolicy, Stack, type App, type Environment } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { CiParameters } from './ci-parameters';
import { DEFAULT_DEPLOY_ACCESS_ROLE_NAME, DeployAccessRole } from './deploy-access-role';
import { DeployerRole } from './deployer-role';
import { Deployomat } from './deployomat';
import { MetaAccessRole } from './meta-access-role';
import { ACCOUNT_REGISTRY_PATH, accountParameterPrefix } from './ssm-paths';

export interface SampleAppOptions {
  /** @default 'acme' */
  readonly organizationPrefix?: string;
  /** @default 'development' */
  readonly environment?: string;
  /** The account's name in the registry and the SSM paths. @default 'sandbox' */
  readonly accountName?: string;
  /** @default environment-agnostic stacks */
  readonly env?: Environment;
}

/**
 * The sample installation (infra/app.ts): ONE account plays every part, each part in its own stack
 * as it would be in its own account. Kept apart from app.ts so tests check exactly what it deploys.
 */
export function buildSampleApp(app: App, opts: SampleAppOptions = {}) {
  const organizationPrefix = opts.organizationPrefix ?? 'acme';
  const environment = opts.environment ?? 'development';
  const accountName = opts.accountName ?? 'sandbox';
  const env = opts.env;

  // Workload account: the role Deployomat assumes to deploy there.
  const workload = new Stack(app, 'DeployomatWorkload', { env, description: 'Deployomat: the role it deploys with' });
  const deployAccess = new DeployAccessRole(workload, 'DeployAccessRole', {
    ciCdAccountIds: [workload.account],
    environment,
    organizationPrefix,
  });

  // Meta account: the account registry that resolves `AccountCanonicalSlug` (normally Accountomat's).
  const meta = new Stack(app, 'DeployomatMeta', { env, description: 'Deployomat: account registry' });
  const metaAccess = new MetaAccessRole(meta, 'MetaAccessRole', { ciCdAccountIds: [meta.account], organizationPrefix });
  const accountPrefix = accountParameterPrefix(organizationPrefix, environment, accountName);
  new ssm.StringParameter(meta, 'RegistryEntry', {
    parameterName: `${ACCOUNT_REGISTRY_PATH}/${accountName}`,
    stringValue: JSON.stringify({ prefix: accountPrefix, name: accountName, environment }),
    description: `Registry entry of ${accountName}`,
  });
  new ssm.StringParameter(meta, 'DeployRoleParameter', {
    parameterName: `${accountPrefix}/roles/deployomat`,
    // By name, as across accounts (no cross-stack reference).
    stringValue: meta.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: DEFAULT_DEPLOY_ACCESS_ROLE_NAME }),
    description: `The role Deployomat assumes to deploy in ${accountName}`,
  });

  // CI/CD account: Deployomat, the role deployers assume, and the parameters CI reads.
  const cicd = new Stack(app, 'DeployomatCiCd', { env, description: 'Deployomat: bus, queues, handlers, ledger' });
  const deployomat = new Deployomat(cicd, 'Deployomat', {
    environment,
    organizationPrefix,
    // One account: the handlers read the registry with their own role. Across accounts, pass the
    // MetaAccessRole's ARN as metaRoleArn (they assume it with their Environment session tag).
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const deployer = new DeployerRole(cicd, 'DeployerRole', { deployomat, userAccountIds: [cicd.account] });
  const parameters = new CiParameters(cicd, 'CiParameters', { deployomat, accountName, deployerRole: deployer });

  return { workload, meta, cicd, deployAccess, metaAccess, deployomat, deployer, parameters };
}
