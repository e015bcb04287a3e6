import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { assumeRole, workloadCredentials } from '../../../../domain/aws/clients';

const sts = mockClient(STSClient);
const credentials = (expiresInMs: number) => ({
  Credentials: { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + expiresInMs) },
});

describe('Function: assumeRole', () => {
  afterEach(() => sts.reset());

  it('passes session tags as transitive tags (the meta role reads by the Environment tag)', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(credentials(3600_000));

    // Act
    await assumeRole({ roleArn: 'arn:aws:iam::111111111111:role/meta', sessionName: 'tagged', tags: { Environment: 'production' } });

    // Assess
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toMatchObject({
      RoleArn: 'arn:aws:iam::111111111111:role/meta',
      RoleSessionName: 'tagged',
      Tags: [{ Key: 'Environment', Value: 'production' }],
      TransitiveTagKeys: ['Environment'],
    });
  });

  it('sends no tags when none are given', async () => {
    sts.on(AssumeRoleCommand).resolves(credentials(3600_000));

    await assumeRole({ roleArn: 'arn:aws:iam::222222222222:role/deploy', sessionName: 'untagged' });

    const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(input.Tags).toBeUndefined();
    expect(input.TransitiveTagKeys).toBeUndefined();
  });

  it('passes no external id unless given one', async () => {
    sts.on(AssumeRoleCommand).resolves(credentials(3600_000));

    await assumeRole({ roleArn: 'arn:aws:iam::222222222222:role/deploy', sessionName: 'no-external-id' });

    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.ExternalId).toBeUndefined();
  });

  it("assumes a workload role with the installation's external id and the service's session tag", async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(credentials(3600_000));

    // Act
    await workloadCredentials('arn:aws:iam::222222222222:role/deploy', 'deploy-1', { AccountCanonicalSlug: 'acme-dev', ServiceName: 'web' }, 'acme-4f1c');

    // Assess
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toMatchObject({
      RoleArn: 'arn:aws:iam::222222222222:role/deploy',
      RoleSessionName: 'deploy-1',
      ExternalId: 'acme-4f1c',
      Tags: [{ Key: 'DeployomatService', Value: 'acme-dev/web' }],
    });
  });

  it('reuses credentials with time left, and refreshes those about to expire', async () => {
    sts.on(AssumeRoleCommand).resolvesOnce(credentials(3600_000)).resolvesOnce(credentials(60_000)).resolves(credentials(3600_000));

    await assumeRole({ roleArn: 'arn:aws:iam::222222222222:role/deploy', sessionName: 'cached' });
    await assumeRole({ roleArn: 'arn:aws:iam::222222222222:role/deploy', sessionName: 'cached' });
    await assumeRole({ roleArn: 'arn:aws:iam::222222222222:role/deploy', sessionName: 'short' });
    await assumeRole({ roleArn: 'arn:aws:iam::222222222222:role/deploy', sessionName: 'short' });

    // 'cached' once; 'short' twice (its first credentials had under 5 minutes left).
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleSessionName)).toEqual(['cached', 'short', 'short']);
  });
});
