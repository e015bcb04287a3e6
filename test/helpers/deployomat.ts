import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CLIENT_SOURCE } from '../../events/client';
import { startEmulator, type ConsistencyOptions, type Emulator } from '../../infra/local/emulator';
import { startLocal, type LocalDeployomat } from '../../infra/local/local-env';
import { Observer } from '../../infra/local/observer';
import type { RuntimeOptions } from '../../infra/local/runtime';
import { DEPLOY_ROLE_ARN, META_ROLE_ARN, seedAccount, type SeededAccount } from '../../infra/local/seed';
import type { CfnTemplate, ShippedStack } from '../../infra/local/shipped/stack';

export interface TestDeployomat {
  emulator: Emulator;
  local: LocalDeployomat;
  observer: Observer;
  account: SeededAccount;
  /** Publishes a client command the way a user does (PutEvents, source deployomat.client); returns the event id. */
  send(detailType: string, detail: unknown): Promise<string>;
  stop(): Promise<void>;
}

/** Fast timings for tests: health counted every second. */
export const FAST = { BakeTime: 1, WaitPerStep: 1, TrafficShiftPerStep: 50, HealthTimeout: 30 };

/** The installation settings of every test: the handlers' environment (construct props for the bundles). */
const TEST_SETTINGS = {
  DEPLOYOMAT_META_ROLE_ARN: META_ROLE_ARN,
  DEPLOYOMAT_HEALTH_CHECK_INTERVAL: '1',
  DEPLOYOMAT_ALARM_CHECK_INTERVAL: '1',
  DEPLOYOMAT_DRAIN_SECONDS: '1',
};

/** Runs the shipped bundles instead of the sources (infra/local/shipped/). */
export interface ShippedOptions {
  /** Changes the synthesized template before it runs (e.g. a seeded mistake). */
  edit?: (template: CfnTemplate) => void;
  /** The functions' POWERTOOLS_LOG_LEVEL. @default process.env.POWERTOOLS_LOG_LEVEL (SILENT in tests) */
  logLevel?: string;
}

/**
 * The Deployomat stack as the CDK app builds it, with the test settings (and `env`) as construct
 * props, so the props → environment path is what runs; synthesized once per content (cached).
 */
export async function testStack(opts: { env?: Record<string, string>; edit?: (template: CfnTemplate) => void } = {}): Promise<ShippedStack> {
  const { synthLocalStack } = await import('../../infra/local/shipped/local-stack');
  const stack = await synthLocalStack({ ...TEST_SETTINGS, ...opts.env });
  opts.edit?.(stack.template);
  return stack;
}

/**
 * A private emulator + Deployomat installation + seeded workload account per test file, so
 * files can run in parallel and change emulator settings without disturbing each other.
 */
export async function startTestDeployomat(opts: {
  slug?: string;
  /** Of the seeded account. @default development */
  environment?: string;
  /**
   * Of the installation (the construct's `environment`): a `production` installation may deploy to
   * accounts of every environment, a `development` one only to development accounts (MetaAccessRole).
   * @default LOCAL_ENVIRONMENT (development)
   */
  installationEnvironment?: string;
  initialHealthSeconds?: number;
  /** Reads of ELBv2, Auto Scaling and EC2 lag behind writes (moto_server.py "p."). */
  consistency?: ConsistencyOptions;
  runtime?: RuntimeOptions;
  env?: Record<string, string>;
  /** Run the shipped bundles (with the settings above as construct props) instead of the sources. */
  shipped?: ShippedOptions;
} = {}): Promise<TestDeployomat> {
  const bundles = opts.shipped ? { stack: await testStack({ env: opts.env, edit: opts.shipped.edit }), logLevel: opts.shipped.logLevel } : undefined;
  // Every AWS call of this file's handlers is replayed through the IAM simulator against the
  // synthesized policies when it stops (test/helpers/iam-replay.ts); DEPLOYOMAT_IAM_REPLAY=0 turns
  // it off (e.g. to iterate on a test faster). Loaded only then: the replay synthesizes the stacks.
  // Sources only: the bundles' calls are made in processes of their own, by their bundled SDK.
  const iamLog = process.env.DEPLOYOMAT_IAM_REPLAY !== '0' && !bundles ? (await import('./iam-calls')).IamCallLog.start({ [DEPLOY_ROLE_ARN]: 'deploy', [META_ROLE_ARN]: 'meta' }) : undefined;
  const emulator = await startEmulator({ initialHealthSeconds: opts.initialHealthSeconds, consistency: opts.consistency });
  const local = await startLocal({
    endpoint: emulator.endpoint,
    // The bundles get theirs from the template (testStack): only what the stack sets reaches them.
    env: bundles ? {} : { ...TEST_SETTINGS, ...opts.env },
    environment: opts.installationEnvironment,
    runtime: { ...opts.runtime, bundles },
  }).catch(async (err: unknown) => {
    // E.g. a template value the installation cannot stand for: no emulator left behind.
    await emulator.stop();
    throw err;
  });
  const observer = await Observer.start(local.install.busName);
  const account = await seedAccount({ slug: opts.slug ?? 'acme-test', environment: opts.environment });
  const events = new EventBridgeClient({});
  return {
    emulator,
    local,
    observer,
    account,
    async send(detailType, detail) {
      const out = await events.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: local.install.busName, Source: CLIENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }],
        }),
      );
      if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
      return out.Entries![0]!.EventId!;
    },
    async stop() {
      // The replay's module loads while the handlers stop.
      const replayModule = iamLog ? import('./iam-replay') : undefined;
      // The emulator goes next: the long polls under way are not waited out.
      await Promise.all([observer.stop().catch(() => {}), local.stop({ abandon: true })]);
      await emulator.stop();
      if (iamLog) {
        iamLog.stop();
        const env = { ...opts.env };
        const { replay } = await replayModule!;
        const { denied, grantedAfterAll } = await replay(iamLog.calls.filter((c) => c.ok), local.install.schedulerRoleArn, {
          requireOwnerTags: env.DEPLOYOMAT_REQUIRE_OWNER_TAGS !== 'false',
          environment: local.install.env.DEPLOYOMAT_ENVIRONMENT,
          externalId: env.DEPLOYOMAT_ROLE_EXTERNAL_ID,
        });
        if (denied.length) throw new Error(`IAM would deny ${denied.length} call(s) of this file's handlers or CLI:\n${denied.join('\n')}`);
        if (grantedAfterAll.length) throw new Error(`The DeployerRole is documented not to get these, but would:\n${grantedAfterAll.join('\n')}`);
      }
    },
  };
}
