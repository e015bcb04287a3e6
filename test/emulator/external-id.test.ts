import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_ROLE_ARN, META_ACCOUNT, META_ROLE_ARN, seedService, WORKLOAD_ACCOUNT, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { IamCallLog, type RecordedCall } from '../helpers/iam-calls';
import { replay } from '../helpers/iam-replay';

/**
 * Issue #14, item 3c: with `roleExternalId` (DEPLOYOMAT_ROLE_EXTERNAL_ID), every handler passes the
 * external id when it assumes the meta and the workload roles, as the original passed
 * ROLE_EXTERNAL_ID. The recorded AssumeRole calls are replayed through the IAM simulator against
 * MetaAccessRole and DeployAccessRole synthesized with `externalId`: allowed as made, denied
 * without the external id.
 */
const EXTERNAL_ID = 'acme-deployomat-4f1c';

describe('External id on the meta and workload roles (emulator + IAM simulator)', () => {
  const slug = 'acme-external';
  let t: TestDeployomat;
  let log: IamCallLog;
  let svc: SeededService;

  beforeAll(async () => {
    log = IamCallLog.start({ [DEPLOY_ROLE_ARN]: 'deploy', [META_ROLE_ARN]: 'meta' });
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_ROLE_EXTERNAL_ID: EXTERNAL_ID } });
    svc = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2'] });
  });
  afterAll(async () => {
    log?.stop();
    await t?.stop();
  });

  const assumes = () => log.calls.filter((c) => c.principal === 'handlers' && c.operation === 'AssumeRole');
  const withoutExternalId = (calls: RecordedCall[]) =>
    calls.map((c) => (c.operation === 'AssumeRole' ? { ...c, input: Object.fromEntries(Object.entries(c.input).filter(([k]) => k !== 'ExternalId')) } : c));

  it('passes the external id on every assume of the meta and workload roles, through a deploy and a cancelled one', async () => {
    // Prepare / Act: a first deploy, then a blue/green one cancelled mid-shift (the rollback's steps assume too).
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: svc.amis['web-v1'], DeployId: 'ext-1', DeployConfig: FAST });
    expect((await t.observer.outcome('ext-1', 60_000)).detailType).toBe('DeployCompleted');
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: svc.amis['web-v2'], DeployId: 'ext-2', DeployConfig: { ...FAST, WaitPerStep: 30 } });
    await t.observer.waitFor((e) => e.detailType === 'TrafficShifted' && e.detail.DeployId === 'ext-2', 60_000);
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', Reason: 'external id' });
    expect((await t.observer.outcome('ext-2', 60_000)).detailType).toBe('DeployCancelled');

    // Assess
    const calls = assumes();
    expect([...new Set(calls.map((c) => c.input.RoleArn))].sort()).toEqual([DEPLOY_ROLE_ARN, META_ROLE_ARN].sort());
    expect(calls.map((c) => [c.input.RoleArn, c.input.RoleSessionName, c.input.ExternalId])).toEqual(calls.map((c) => [c.input.RoleArn, c.input.RoleSessionName, EXTERNAL_ID]));
  });

  it('is allowed by roles that require the external id, and would be denied without it', async () => {
    // Act
    const calls = log.calls.filter((c) => c.ok);
    const asMade = await replay(calls, t.local.install.schedulerRoleArn, { externalId: EXTERNAL_ID });
    const without = await replay(withoutExternalId(calls), t.local.install.schedulerRoleArn, { externalId: EXTERNAL_ID });

    // Assess
    expect(asMade.denied).toEqual([]);
    const deniedAssumes = without.denied.filter((d) => d.includes(' → sts:AssumeRole on '));
    expect(deniedAssumes.some((d) => d.includes(`on arn:aws:iam::${WORKLOAD_ACCOUNT}:role/`)), 'the workload role').toBe(true);
    expect(deniedAssumes.some((d) => d.includes(`on arn:aws:iam::${META_ACCOUNT}:role/`)), 'the meta role').toBe(true);
    expect(without.denied.filter((d) => !/^handlers STS:AssumeRole → sts:(AssumeRole|TagSession) /.test(d))).toEqual([]);
  });
});
