import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HANDLER_RUNTIME } from '../../infra/cdk/common';
import { ledgerMismatches } from '../../infra/local/consistency';
import { findLeftovers } from '../../infra/local/leftovers';
import { DEPLOY_ROLE_ARN, META_ROLE_ARN, seedService } from '../../infra/local/seed';
import { nodeMajorOf } from '../../infra/local/shipped/lambda-node';
import type { CfnTemplate } from '../../infra/local/shipped/stack';
import { coreDeployScenarios, seedCoreServices, undeployScenario, type CoreServices } from '../helpers/core-scenarios';
import { FAST, startTestDeployomat, testStack, type TestDeployomat } from '../helpers/deployomat';

/**
 * What ships is what is tested: the core scenarios on the esbuild bundles of the synthesized
 * Deployomat stack (the construct's own bundling), each function in its own process on Lambda's
 * Node, with the environment and the event sources the template gives it (infra/local/shipped/).
 * Then mistakes in the stack that the sources would never see, each caught.
 */
const SYNTH_TIMEOUT = 180_000; // a first synthesis bundles every handler (~25 s on two cores)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Shipped bundles (emulator)', () => {
  describe('Scenario: core deploys on the bundles', () => {
    let t: TestDeployomat;
    let services: CoreServices;
    beforeAll(async () => {
      t = await startTestDeployomat({ slug: 'acme-ship', shipped: {} });
      services = await seedCoreServices(t.account);
    }, SYNTH_TIMEOUT);
    afterAll(async () => t?.stop());

    it("runs every function of the stack on the Node major of the construct's runtime", async () => {
      const stack = await testStack();
      const functions = Object.values(stack.template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');

      expect(new Set(functions.map((f) => f.Properties?.Runtime))).toEqual(new Set([DEFAULT_HANDLER_RUNTIME.name]));
      expect(Object.keys(t.local.runtime.invocations).sort()).toEqual(functions.map((f) => String(f.Properties?.FunctionName).replace(/^deployomat-/, '')).sort());
      expect(nodeMajorOf(DEFAULT_HANDLER_RUNTIME.name)).toBe(24);
    });

    const clean = async () => {
      const listeners = [t.account.listenerArn];
      return [...(await findLeftovers(t.local.install, listeners)), ...(await ledgerMismatches(t.local.install, listeners))];
    };
    const setup = { get: () => ({ t, services }), clean };
    coreDeployScenarios(setup);
    undeployScenario(setup);
  });

  describe('Scenario: the external id, from the construct to STS (issue #14, 3c)', () => {
    const EXTERNAL_ID = 'acme-deployomat-4f1c';
    let t: TestDeployomat;
    beforeAll(async () => {
      // The setting becomes the construct's roleExternalId, and the template's variable (local-stack.ts).
      t = await startTestDeployomat({ slug: 'acme-ship-ext', shipped: {}, env: { DEPLOYOMAT_ROLE_EXTERNAL_ID: EXTERNAL_ID } });
    }, SYNTH_TIMEOUT);
    afterAll(async () => t?.stop());

    it('assumes the meta and workload roles with the external id given to the construct', async () => {
      // Prepare
      const web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1'] });

      // Act
      await t.send('DeployRequested', { AccountCanonicalSlug: 'acme-ship-ext', ServiceName: 'web', AmiId: web.amis['web-v1'], DeployId: 'ext-1', DeployConfig: FAST });
      const outcome = await t.observer.outcome('ext-1', 60_000);

      // Assess: the sessions STS (moto) issued for the deploy, and the external id each was asked with.
      expect(outcome.detailType).toBe('DeployCompleted');
      const data = (await (await fetch(`${t.emulator.endpoint}/moto-api/data.json`)).json()) as { sts: { AssumedRole: { role_arn: string; session_name: string; external_id: string | null }[] } };
      const sessions = data.sts.AssumedRole.filter((r) => r.session_name === 'ext-1');
      expect(new Set(sessions.map((r) => r.role_arn))).toEqual(new Set([DEPLOY_ROLE_ARN, META_ROLE_ARN]));
      expect(sessions.map((r) => r.external_id)).toEqual(sessions.map(() => EXTERNAL_ID));
    });
  });

  describe('Seeded mistakes in the stack', () => {
    /** The template's Lambda function `deployomat-<name>`. */
    const fn = (template: CfnTemplate, name: string) => {
      const found = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === `deployomat-${name}`);
      if (!found) throw new Error(`no function deployomat-${name}`);
      return { id: found[0], variables: (found[1].Properties!.Environment as { Variables: Record<string, unknown> }).Variables };
    };
    /** The event source mapping that feeds function `name`. */
    const mappingOf = (template: CfnTemplate, name: string) => {
      const { id } = fn(template, name);
      const found = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && (r.Properties?.FunctionName as { Ref?: string }).Ref === id);
      if (!found) throw new Error(`no event source mapping of deployomat-${name}`);
      return found.Properties!;
    };

    const mistakes: [string, (template: CfnTemplate) => void, { stopsAfter: string | undefined; logged: RegExp }][] = [
      [
        "start-deploy's DEPLOYOMAT_TABLE_NAME removed",
        (template) => void delete fn(template, 'start-deploy').variables.DEPLOYOMAT_TABLE_NAME,
        { stopsAfter: undefined, logged: /^\[start-deploy\].*DEPLOYOMAT_TABLE_NAME/ },
      ],
      [
        "check-health's DEPLOYOMAT_BUS_NAME another bus",
        (template) => void (fn(template, 'check-health').variables.DEPLOYOMAT_BUS_NAME = 'deployomat-old'),
        { stopsAfter: 'AsgCloned', logged: /^\[check-health\].*deployomat-old/ },
      ],
      [
        'start-deploy and check-health wired to each other\'s queue',
        (template) => {
          const [a, b] = [mappingOf(template, 'start-deploy'), mappingOf(template, 'check-health')];
          [a.EventSourceArn, b.EventSourceArn] = [b.EventSourceArn, a.EventSourceArn];
        },
        { stopsAfter: undefined, logged: /^\[check-health\].*does not consume.*DeployRequested/ },
      ],
    ];

    it.each(mistakes)('%s: the deploy does not complete, and the log names the problem', async (_name, edit, expected) => {
      // Prepare
      const logs: string[] = [];
      const t = await startTestDeployomat({ slug: 'acme-ship', shipped: { edit, logLevel: 'ERROR' }, runtime: { log: (line) => logs.push(line) } });
      try {
        const web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1'] });

        // Act
        await t.send('DeployRequested', { AccountCanonicalSlug: 'acme-ship', ServiceName: 'web', AmiId: web.amis['web-v1'], DeployId: 'web-1', DeployConfig: FAST });
        const deadline = Date.now() + 30_000;
        while (!logs.some((l) => expected.logged.test(l)) && Date.now() < deadline) await sleep(200);
        await sleep(2000); // what a working stack does in this time: the deploy would have moved on

        // Assess
        expect(logs.find((l) => expected.logged.test(l)), `no log line matching ${expected.logged} in:\n${logs.join('\n')}`).toBeDefined();
        const seen = t.observer.of('web-1').map((e) => e.detailType);
        expect(seen).not.toContain('DeployCompleted');
        expect(seen.at(-1)).toBe(expected.stopsAfter ?? seen.at(-1));
        if (!expected.stopsAfter) expect(seen.filter((d) => d !== 'DeployRequested')).toEqual([]);
      } finally {
        await t.stop();
      }
    }, SYNTH_TIMEOUT);

    it('a template value the local installation cannot stand for stops the runtime, naming the function and the variable', async () => {
      const edit = (template: CfnTemplate) => void (fn(template, 'finish-deploy').variables.DEPLOYOMAT_TABLE_NAME = { 'Fn::ImportValue': 'ledger-name' });

      await expect(startTestDeployomat({ shipped: { edit } })).rejects.toThrow(/^deployomat-finish-deploy: DEPLOYOMAT_TABLE_NAME: Fn::ImportValue is not evaluated locally/);
    }, SYNTH_TIMEOUT);
  });
});
