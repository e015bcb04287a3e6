import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CLIENT_SOURCE } from '../../events/client';
import { startEmulator, type ConsistencyOptions, type Emulator } from '../../infra/local/emulator';
import { startLocal, type LocalDeployomat } from '../../infra/local/local-env';
import { Observer } from '../../infra/local/observer';
import { LOCAL_ENVIRONMENT } from '../../infra/local/provision';
import type { RuntimeOptions } from '../../infra/local/runtime';
import { DEPLOY_ROLE_ARN, META_ROLE_ARN, ORG, seedAccount, type SeededAccount } from '../../infra/local/seed';
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

/** The installation settings of every test: environment variables for the sources, construct props for the bundles. */
const SETTINGS = { metaRoleArn: META_ROLE_ARN, healthCheckSeconds: 1, alarmCheckSeconds: 1, drainSeconds: 1 };
const SETTINGS_ENV = {
  DEPLOYOMAT_META_ROLE_ARN: SETTINGS.metaRoleArn,
  DEPLOYOMAT_HEALTH_CHECK_INTERVAL: String(SETTINGS.healthCheckSeconds),
  DEPLOYOMAT_ALARM_CHECK_INTERVAL: String(SETTINGS.alarmCheckSeconds),
  DEPLOYOMAT_DRAIN_SECONDS: String(SETTINGS.drainSeconds),
};

/** Runs the shipped bundles instead of the sources (infra/local/shipped/). */
export interface ShippedOptions {
  /** Changes the synthesized template before it runs (e.g. a seeded mistake). */
  edit?: (template: CfnTemplate) => void;
  /** The functions' POWERTOOLS_LOG_LEVEL. @default process.env.POWERTOOLS_LOG_LEVEL (SILENT in tests) */
  logLevel?: string;
}

/**
 * The Deployomat stack as the CDK app builds it, with the test settings as construct props (so the
 * props → environment path is what runs), synthesized once per content (cached in .cache/).
 */
export async function testStack(edit?: (template: CfnTemplate) => void): Promise<ShippedStack> {
  const [{ Duration }, { synthShippedStack }, { LOCAL_ACCOUNT, LOCAL_REGION }] = await Promise.all([
    import('aws-cdk-lib'),
    import('../../infra/local/shipped/stack'),
    import('../../infra/local/local-env'),
  ]);
  const stack = await synthShippedStack(
    {
      environment: LOCAL_ENVIRONMENT,
      organizationPrefix: ORG,
      metaRoleArn: SETTINGS.metaRoleArn,
      healthCheckInterval: Duration.seconds(SETTINGS.healthCheckSeconds),
      alarmCheckInterval: Duration.seconds(SETTINGS.alarmCheckSeconds),
      drainTime: Duration.seconds(SETTINGS.drainSeconds),
    },
    { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
  );
  edit?.(stack.template);
  return stack;
}

/**
 * A private emulator + Deployomat installation + seeded workload account per test file, so
 * files can run in parallel and change emulator settings without disturbing each other.
 */
export async function startTestDeployomat(opts: {
  slug?: string;
  environment?: string;
  initialHealthSeconds?: number;
  /** Reads of ELBv2, Auto Scaling and EC2 lag behind writes (moto_server.py "p."). */
  consistency?: ConsistencyOptions;
  runtime?: RuntimeOptions;
  env?: Record<string, string>;
  /** Run the shipped bundles (with the settings above as construct props) instead of the sources. */
  shipped?: ShippedOptions;
} = {}): Promise<TestDeployomat> {
  if (opts.shipped && opts.env) throw new Error('env reaches the sources only: the bundles get their environment from the template (edit it with shipped.edit)');
  const bundles = opts.shipped ? { stack: await testStack(opts.shipped.edit), logLevel: opts.shipped.logLevel } : undefined;
  // DEPLOYOMAT_IAM_REPLAY=1: every AWS call of this file's handlers is replayed through the IAM
  // simulator against the synthesized policies when it stops (test/helpers/iam-replay.ts).
  // (Loaded only then: the replay synthesizes the CDK stacks.)
  // (Sources only: the bundles' calls are made in processes of their own, by their bundled SDK.)
  const iamLog = process.env.DEPLOYOMAT_IAM_REPLAY === '1' && !bundles ? (await import('./iam-calls')).IamCallLog.start({ [DEPLOY_ROLE_ARN]: 'deploy', [META_ROLE_ARN]: 'meta' }) : undefined;
  const emulator = await startEmulator({ initialHealthSeconds: opts.initialHealthSeconds, consistency: opts.consistency });
  const local = await startLocal({
    endpoint: emulator.endpoint,
    env: bundles ? {} : { ...SETTINGS_ENV, ...opts.env },
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
      await observer.stop().catch(() => {});
      await local.stop();
      await emulator.stop();
      if (iamLog) {
        iamLog.stop();
        const env = { ...opts.env };
        const { replay } = await import('./iam-replay');
        const { denied } = await replay(iamLog.calls.filter((c) => c.ok), local.install.schedulerRoleArn, {
          requireOwnerTags: env.DEPLOYOMAT_REQUIRE_OWNER_TAGS !== 'false',
        });
        if (denied.length) throw new Error(`IAM would deny ${denied.length} call(s) of this file's handlers:\n${denied.join('\n')}`);
      }
    },
  };
}
