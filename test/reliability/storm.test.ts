import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { ledgerMismatches } from '../../infra/local/consistency';
import { findLeftovers } from '../../infra/local/leftovers';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { queuedMessages } from '../helpers/settle';

/**
 * A concurrency storm: 20 web services deploying at once, and on 3 of them a burst of competing
 * DeployRequested and CancelRequested. Every service must end at rest, consistent: the ledger
 * names what AWS runs, nothing is left over.
 */
const SERVICES = 20;
const CHAOTIC = 3;

describe('Concurrency storm (emulator)', () => {
  let t: TestDeployomat;
  const services: SeededService[] = [];
  const slug = 'acme-storm';
  const ledger = () => new Ledger(controlPlaneClients().dynamo, t.local.install.tableName);
  const name = (i: number) => `svc${String(i).padStart(2, '0')}`;
  const deploy = (i: number, deployId: string, ami: string, config: Record<string, unknown> = FAST) =>
    t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: name(i), AmiId: services[i]!.amis[ami], DeployId: deployId, DeployConfig: config });

  beforeAll(async () => {
    t = await startTestDeployomat({ slug, env: { DEPLOYOMAT_RETRY_BASE_SECONDS: '1' } });
    for (let i = 0; i < SERVICES; i++) {
      services.push(await seedService(t.account, { service: name(i), web: true, priority: 10 + i, amis: ['v01', 'v02', 'v03', 'v04'] }));
    }
  }, 120_000);
  afterAll(async () => t?.stop());

  /** Waits until every service's ledger is at rest (no deploy, rollback or undeploy running). */
  async function allAtRest(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(services.map((_, i) => ledger().getService({ AccountCanonicalSlug: slug, ServiceName: name(i) })));
      const busy = states.filter((s) => !s || !['Completed', 'Cancelled', 'RolledBack', 'Undeployed'].includes(s.Phase) || s.DeployAsgName || s.Waiting);
      // At rest means nothing left to take either: a request still queued for start-deploy has not touched the ledger yet.
      if (!busy.length && !Object.keys(await queuedMessages(t.local.install)).length) return states;
      if (Date.now() > deadline) {
        const detail = busy.map((s) => {
          const seen = t.observer.events.filter((e) => e.detail.ServiceName === s?.ServiceName && e.receivedAt > Date.now() - timeoutMs);
          const state = s && { Active: s.ActiveDeployId, Phase: s.Phase, Seq: s.Seq, LastError: s.LastError, Rollback: s.Rollback, Waiting: s.Waiting?.Id, Outbox: s.Outbox.map((o) => o.DetailType) };
          return `${s?.ServiceName}: ${JSON.stringify(state)}\n  seen: ${seen.map((e) => `${e.detailType}(${String(e.detail.DeployId ?? '')}#${String(e.detail.Seq ?? '')})`).join(', ')}`;
        });
        throw new Error(`still busy:\n${detail.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it(`first deploys of ${SERVICES} services at once all complete`, async () => {
    await Promise.all(services.map((_, i) => deploy(i, `${name(i)}-first`, 'v01')));
    const outcomes = await Promise.all(services.map((_, i) => t.observer.outcome(`${name(i)}-first`, 240_000)));

    expect(outcomes.map((o) => o.detailType)).toEqual(services.map(() => 'DeployCompleted'));
    expect(await ledgerMismatches(t.local.install, [t.account.listenerArn])).toEqual([]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  }, 270_000);

  it(`blue/green deploys of ${SERVICES} services at once, with competing deploys and cancels on ${CHAOTIC} of them, end consistent`, async () => {
    const config = { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 1 };
    await Promise.all(services.map((_, i) => deploy(i, `${name(i)}-second`, 'v02', config)));
    // The burst: on each chaotic service, two more deploys (default OnConcurrentDeploy: rollback)
    // and two cancels, interleaved, while the first is starting and shifting.
    await Promise.all(
      Array.from({ length: CHAOTIC }, async (_, i) => {
        const key = { AccountCanonicalSlug: slug, ServiceName: name(i) };
        await new Promise((r) => setTimeout(r, 300 * i));
        await deploy(i, `${name(i)}-third`, 'v03', config);
        await t.send('CancelRequested', { ...key, Reason: 'storm cancel 1' });
        await deploy(i, `${name(i)}-fourth`, 'v04', config);
        await new Promise((r) => setTimeout(r, 700));
        await t.send('CancelRequested', { ...key, Reason: 'storm cancel 2' });
      }),
    );

    const states = await allAtRest(300_000);

    // The calm services completed their deploy; every service is consistent and clean.
    for (let i = CHAOTIC; i < SERVICES; i++) expect((await t.observer.outcome(`${name(i)}-second`, 1000)).detailType).toBe('DeployCompleted');
    for (let i = 0; i < CHAOTIC; i++) {
      // Every request of a chaotic service got an answer; what serves is its last completed deploy.
      for (const id of ['second', 'third', 'fourth']) {
        expect(['DeployCompleted', 'DeployCancelled', 'DeployFailed']).toContain((await t.observer.outcome(`${name(i)}-${id}`, 30_000)).detailType);
      }
      expect(states[i]!.ProductionAsgName).toBeTruthy();
    }
    expect(await ledgerMismatches(t.local.install, [t.account.listenerArn])).toEqual([]);
    expect(await findLeftovers(t.local.install, [t.account.listenerArn])).toEqual([]);
  }, 360_000);
});
