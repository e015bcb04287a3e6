/**
 * A sample app for trying Deployomat out in ONE account, which plays every part: meta (the SSM
 * account registry), workload (the role Deployomat deploys with) and CI/CD (Deployomat itself, the
 * deployer role and the parameters CI reads). In an organization each stack goes to its own account
 * (docs/INFRA.md). `npm run synth` writes the templates to cdk.out/, offline and without credentials.
 *
 * Context (cdk.json or `-c key=value`): `organizationPrefix`, `environment`, `accountName`.
 */
import { App } from 'aws-cdk-lib';
import { buildSampleApp } from './cdk/sample-app';

const app = new App();
const context = (key: string) => app.node.tryGetContext(key) as string | undefined;
buildSampleApp(app, {
  organizationPrefix: context('organizationPrefix'),
  environment: context('environment'),
  accountName: context('accountName'),
  // With credentials (cdk deploy), the CLI sets these; without, the stacks are environment-agnostic.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
