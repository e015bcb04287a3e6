import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SERVICE_NAME } from '../../events/names';
import { findLeftovers } from '../../infra/local/leftovers';
import { DEPLOY_ROLE_ARN, seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/**
 * Issue #14, item 2: every input the original accepted and acted on deploys — image ids a launch
 * template takes (`resolve:ssm:<parameter>`), `$launchtemplate:$LatestMinus:0`, service names
 * longer than 64 characters.
 */
describe('Inputs the original accepted (emulator)', () => {
  const slug = 'acme-inputs';
  let t: TestDeployomat;
  let web: SeededService;

  /** The workload account's SSM, as the service owner's pipeline writes its AMI parameter there. */
  const workloadSsm = async () => {
    const c = (await new STSClient({}).send(new AssumeRoleCommand({ RoleArn: DEPLOY_ROLE_ARN, RoleSessionName: 'pipeline' }))).Credentials!;
    return new SSMClient({ credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken } });
  };
  const deploy = async (service: string, amiId: string, deployId: string) => {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: amiId, DeployId: deployId, DeployConfig: FAST });
    return t.observer.outcome(deployId, 90_000);
  };

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v01', 'web-v02'] });
  });
  afterAll(async () => t?.stop());

  it('deploys resolve:ssm:<parameter>, read in the workload account before anything changes; the version records the AMI it checked', async () => {
    // Prepare
    await (await workloadSsm()).send(new PutParameterCommand({ Name: '/acme/web/ami', Value: web.amis['web-v02']!, Type: 'String', DataType: 'aws:ec2:image' }));

    // Act
    const outcome = await deploy('web', 'resolve:ssm:/acme/web/ami', 'ssm-1');

    // Assess
    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    const { ec2 } = await workloadClients();
    const latest = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: web.launchTemplateId, Versions: ['$Latest'] }))).LaunchTemplateVersions![0]!;
    expect(latest.LaunchTemplateData?.ImageId).toBe(web.amis['web-v02']);
  });

  it('rejects resolve:ssm: of a parameter that is missing, or holds no AMI id, naming it', async () => {
    // Prepare
    await (await workloadSsm()).send(new PutParameterCommand({ Name: '/acme/web/not-an-ami', Value: 'hello', Type: 'String' }));

    // Act
    const missing = await deploy('web', 'resolve:ssm:/acme/web/missing', 'ssm-2');
    const notAmi = await deploy('web', 'resolve:ssm:/acme/web/not-an-ami', 'ssm-3');

    // Assess
    expect(missing.detailType).toBe('DeployRejected');
    expect(missing.detail.Reasons).toEqual(['AmiId resolve:ssm:/acme/web/missing: there is no such SSM parameter in the workload account']);
    expect(notAmi.detail.Reasons).toEqual(['AmiId resolve:ssm:/acme/web/not-an-ami: the parameter holds "hello", not an AMI id']);
  });

  it('deploys $launchtemplate:$LatestMinus:0, the latest version, as the original does', async () => {
    // Act
    const outcome = await deploy('web', '$launchtemplate:$LatestMinus:0', 'lt-0');

    // Assess
    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
  });

  it(`deploys a service whose name is ${MAX_SERVICE_NAME} characters long`, async () => {
    // Prepare
    const name = `long-${'s'.repeat(MAX_SERVICE_NAME - 5)}`;
    const long = await seedService(t.account, { service: name, web: true, priority: 20, amis: ['long-v01'] });

    // Act
    const outcome = await deploy(name, long.amis['long-v01']!, 'long-1');

    // Assess
    expect(outcome.detailType, JSON.stringify(outcome.detail)).toBe('DeployCompleted');
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  });
});
