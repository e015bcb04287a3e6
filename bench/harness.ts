/**
 * One bench session: the emulator (moto), Deployomat's local runtime (every handler in this
 * process, fed by SQS pollers), a subscriber queue that sees every lifecycle event, and the SDK
 * call log. Deploys are published the way a deployer does (PutEvents `DeployRequested`).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { execFileSync } from 'node:child_process';
import { CLIENT_SOURCE } from '../events/client';
import { startEmulator, type Emulator } from '../infra/local/emulator';
import { startLocal, type LocalDeployomat } from '../infra/local/local-env';
import { Observer, type ObservedEvent } from '../infra/local/observer';
import { META_ROLE_ARN, seedAccount, type SeededAccount } from '../infra/local/seed';
import { SdkCallLog, type SdkCall } from './sdk-calls';
import { processCpuSeconds } from './stats';

export type DeployConfig = Record<string, number | boolean | undefined>;

export interface DeployRequest {
  id: string;
  service: string;
  amiId: string;
  config: DeployConfig;
}

export interface DeployResult {
  id: string;
  /** Seconds from just before PutEvents(DeployRequested) to the outcome event reaching the subscriber. */
  wall: number;
  outcome: ObservedEvent;
  events: ObservedEvent[];
  /** SDK calls from the request until Deployomat had been quiet for a while (with `count`). */
  calls?: SdkCall[];
  /** Handler invocations by the local runtime over the same window (with `count`). */
  invocations?: Record<string, number>;
}

export const SLUG = 'bench';
const OUTCOME_TIMEOUT_MS = 15 * 60_000;

export function motoVersion(): string {
  try {
    return execFileSync('python3', ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export class Session {
  readonly calls = SdkCallLog.install();
  private readonly events = new EventBridgeClient({});
  private n = 0;

  private constructor(
    readonly emulator: Emulator,
    readonly local: LocalDeployomat,
    readonly observer: Observer,
    /** moto's process id (the emulator reports it in a header), for its CPU time. */
    readonly motoPid: number,
    readonly account: SeededAccount,
    private readonly prefix: string,
  ) {}

  static async start(opts: { prefix: string; env?: Record<string, string> }): Promise<Session> {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
    SdkCallLog.install();
    const emulator = await startEmulator();
    const res = await fetch(`${emulator.endpoint}/_emulator/config`);
    await res.body?.cancel();
    const motoPid = Number(res.headers.get('x-emulator-pid'));
    const local = await startLocal({
      endpoint: emulator.endpoint,
      env: { DEPLOYOMAT_META_ROLE_ARN: META_ROLE_ARN, DEPLOYOMAT_HEALTH_CHECK_INTERVAL: '1', ...opts.env },
      // The long polls the recorded runs had (the runtime's own calls and moto's CPU are reported).
      runtime: { waitTimeSeconds: 1 },
    });
    const observer = await Observer.start(local.install.busName);
    const account = await seedAccount({ slug: SLUG });
    return new Session(emulator, local, observer, motoPid, account, opts.prefix);
  }

  nextId(): string {
    return `${this.prefix}-${++this.n}`;
  }

  motoCpuSeconds(): number {
    return processCpuSeconds(this.motoPid);
  }

  /** Publishes the requests as a deployer would, 10 entries per PutEvents, all PutEvents at once. */
  async publish(requests: DeployRequest[]): Promise<void> {
    const chunks: DeployRequest[][] = [];
    for (let i = 0; i < requests.length; i += 10) chunks.push(requests.slice(i, i + 10));
    await Promise.all(
      chunks.map(async (chunk) => {
        const out = await this.events.send(
          new PutEventsCommand({
            Entries: chunk.map((r) => ({
              EventBusName: this.local.install.busName,
              Source: CLIENT_SOURCE,
              DetailType: 'DeployRequested',
              Detail: JSON.stringify({ AccountCanonicalSlug: SLUG, ServiceName: r.service, AmiId: r.amiId, DeployId: r.id, DeployConfig: r.config }),
            })),
          }),
        );
        if (out.FailedEntryCount) throw new Error(`PutEvents failed for ${out.FailedEntryCount} entries`);
      }),
    );
  }

  /** One deploy, alone; fails unless it completes. `count`: also collect its SDK calls and invocations. */
  async deploy(service: string, amiId: string, config: DeployConfig, opts: { count?: boolean; timeoutMs?: number } = {}): Promise<DeployResult> {
    const id = this.nextId();
    const before = { ...this.local.runtime.invocations };
    const t0 = performance.now();
    const t0Wall = Date.now();
    await this.publish([{ id, service, amiId, config }]);
    const outcome = await this.observer.outcome(id, opts.timeoutMs ?? OUTCOME_TIMEOUT_MS);
    const wall = (outcome.receivedAt - t0Wall) / 1000;
    if (outcome.detailType !== 'DeployCompleted') throw new Error(`${id} ended ${outcome.detailType}: ${JSON.stringify(outcome.detail)}`);
    const result: DeployResult = { id, wall, outcome, events: this.observer.of(id) };
    // Let the last event's subscribers (the audit history) finish, so the next deploy starts from quiet.
    await this.calls.quiet('deployomat', 1500);
    if (opts.count) {
      result.calls = this.calls.between(t0);
      const after = this.local.runtime.invocations;
      result.invocations = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]).filter(([, v]) => v));
    }
    return result;
  }

  /** Waits for the outcome of each deploy; rejects if one ends otherwise than completed. */
  async outcomes(ids: string[]): Promise<ObservedEvent[]> {
    const outcomes = await Promise.all(ids.map((id) => this.observer.outcome(id, OUTCOME_TIMEOUT_MS)));
    const bad = outcomes.filter((o) => o.detailType !== 'DeployCompleted');
    if (bad.length) throw new Error(`${bad.length} deploys did not complete, e.g. ${bad[0]!.detail.DeployId}: ${bad[0]!.detailType} ${JSON.stringify(bad[0]!.detail)}`);
    return outcomes;
  }

  async stop(): Promise<void> {
    await this.observer.stop();
    await this.local.stop();
    await this.emulator.stop();
  }
}
