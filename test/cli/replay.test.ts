import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { waitUntilQuiet } from '../helpers/settle';
import { cli, globals } from './run-cli';

describe('deployomat replay (CLI on the emulator)', () => {
  let t: TestDeployomat;
  let svc: SeededService;
  const slug = 'acme-replay';
  const from = new Date(Date.now() - 5000).toISOString();

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    svc = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1'] });
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: svc.amis['web-v1'], DeployId: 'r-1', DeployConfig: FAST });
    expect((await t.observer.outcome('r-1', 30_000)).detailType).toBe('DeployCompleted');
  });
  afterAll(async () => t?.stop());

  it('replays the archive into the projections only, and says so before starting', async () => {
    const ledger = async () => (await controlPlaneClients().dynamo.send(new ScanCommand({ TableName: t.local.install.tableName }))).Items ?? [];
    // The history projection may still be recording the deploy's last events: let it finish first.
    expect(await waitUntilQuiet(t.local.install, 30_000)).toEqual({});
    const before = await ledger();
    const invocations = { ...t.local.runtime.invocations };

    const out = await cli([...globals(t), 'replay', '--from', from]);
    await new Promise((r) => setTimeout(r, 1500));

    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('Seen by: record-history (projections).');
    expect(out.stdout).toMatch(/Replay replay-\d{8}T\d{6} completed\./);
    const ran = Object.entries(t.local.runtime.invocations).filter(([name, n]) => n !== invocations[name]).map(([name]) => name);
    expect(ran).toEqual(['record-history']);
    expect(await ledger()).toEqual(before); // the history was already complete: rewritten identically
  });

  it('refuses a window without a start', async () => {
    const out = await cli([...globals(t), 'replay']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--from is required');
  });
});
