/**
 * Counts every AWS SDK v3 call made in this process, by who made it, service and operation, with
 * its latency. All SDK v3 clients extend smithy's `Client` and go through its `send`, so patching
 * that one prototype method sees every call (DynamoDB's document client included: it is a
 * `Client` too; its commands are counted under the low-level operation they wrap).
 *
 * Who made a call is read off the stack: the first frame outside the SDK (`@aws-sdk`, `@smithy`).
 * - `deployomat`: a handler (domain/, handlers/, events/, and the libraries they use, such as
 *   Powertools' idempotency layer);
 * - `runtime`: infra/local/runtime.ts, what AWS itself does in production (the event source
 *   mapping's SQS receives and deletes; Scheduler firing a schedule);
 * - `observer`: the bench's subscriber queue (infra/local/observer.ts);
 * - `bench`: the bench itself (the deployer's PutEvents) and the seeding of services.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { fileURLToPath } from 'node:url';

export type Caller = 'deployomat' | 'runtime' | 'observer' | 'bench';

export interface SdkCall {
  caller: Caller;
  /**
   * For Deployomat's calls, the step that made it, read off the (async) stack: `start-deploy`
   * (domain/steps/start-deploy.ts), `relay-timer`, `record-history`, …; `ledger/outbox` when the
   * step is not on the stack (a step that returns runStep's promise without awaiting it loses its
   * async frames: its ledger transition and outbox are seen only as the SQS wrapper's).
   */
  origin?: string;
  /** `client.config.serviceId`, e.g. `Auto Scaling`, `DynamoDB`. */
  service: string;
  /** Operation name without `Command`, e.g. `ModifyRule`. */
  operation: string;
  /** When the call was made (performance.now(), ms) and how long it took (ms). */
  start: number;
  ms: number;
  ok: boolean;
  /** SQS ReceiveMessage: how many messages it returned. */
  messages?: number;
  /** The input of the calls whose timing the bench follows (CreateSchedule, PutEvents, SendMessage). */
  input?: Record<string, unknown>;
}

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

interface SendableClient {
  config: { serviceId?: string };
}
interface Command {
  input?: Record<string, unknown>;
  /** lib-dynamodb's document commands wrap a low-level command. */
  clientCommand?: { constructor: { name: string } };
  constructor: { name: string };
}
type Send = (this: SendableClient, command: Command, ...rest: unknown[]) => Promise<unknown>;

const KEEP_INPUT = new Set(['CreateSchedule', 'PutEvents', 'SendMessage']);

/** The step (or handler) on the stack, for Deployomat's calls. */
function originOf(stack: string): string {
  const step = /\/domain\/steps\/([\w-]+)\.ts/.exec(stack)?.[1];
  if (step) return step;
  if (stack.includes('/domain/timer-relay.ts')) return 'relay-timer';
  if (stack.includes('/domain/audit.ts')) return 'record-history';
  const handler = /\/handlers\/(?!sqs-handler)([\w-]+)\.ts/.exec(stack)?.[1];
  if (handler) return handler;
  return stack.includes('/handlers/sqs-handler.ts') ? 'ledger/outbox' : 'other';
}

function classify(stack: string): Caller {
  for (const line of stack.split('\n').slice(1)) {
    const m = line.match(/\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/);
    if (!m) continue;
    const file = m[1]!.replace(/^file:\/\//, '');
    if (file === SELF || file.endsWith('/bench/sdk-calls.ts')) continue;
    if (/node_modules\/(@aws-sdk|@smithy)\//.test(file)) continue;
    const rel = file.startsWith(REPO) ? file.slice(REPO.length) : file;
    if (rel.startsWith('infra/local/runtime')) return 'runtime';
    if (rel.startsWith('infra/local/observer')) return 'observer';
    if (rel.startsWith('bench/') || rel.startsWith('infra/local/seed')) return 'bench';
    return 'deployomat';
  }
  return 'deployomat';
}

export class SdkCallLog {
  readonly calls: SdkCall[] = [];
  /** Called with each call once it has completed. */
  listener?: (call: SdkCall) => void;
  /** Called just before a call is sent (e.g. to see a CreateSchedule's input). */
  beforeSend?: (call: Pick<SdkCall, 'caller' | 'service' | 'operation' | 'input'>) => void;

  private static installed?: SdkCallLog;

  /** Patches smithy's `Client.prototype.send`, once for the whole process (later calls return the same log). */
  static install(): SdkCallLog {
    if (SdkCallLog.installed) return SdkCallLog.installed;
    const log = new SdkCallLog();
    SdkCallLog.installed = log;
    const proto = Object.getPrototypeOf(SQSClient.prototype) as { send: Send };
    const original = proto.send;
    proto.send = function (this: SendableClient, command: Command, ...rest: unknown[]) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 40;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      const name = (command.clientCommand ?? command).constructor.name.replace(/Command$/, '');
      const caller = classify(stack);
      const call: SdkCall = {
        caller,
        origin: caller === 'deployomat' ? originOf(stack) : undefined,
        service: this.config.serviceId ?? 'unknown',
        operation: name,
        start: performance.now(),
        ms: 0,
        ok: true,
      };
      if (KEEP_INPUT.has(call.operation)) call.input = command.input;
      log.beforeSend?.(call);
      const finish = (ok: boolean, out?: unknown) => {
        call.ms = performance.now() - call.start;
        call.ok = ok;
        if (call.operation === 'ReceiveMessage') call.messages = ((out as { Messages?: unknown[] } | undefined)?.Messages ?? []).length;
        log.calls.push(call);
        log.listener?.(call);
      };
      const p = original.call(this, command, ...rest);
      // Callback-style sends return undefined; every caller here awaits a promise.
      if (p && typeof (p as Promise<unknown>).then === 'function') {
        (p as Promise<unknown>).then(
          (out) => finish(true, out),
          () => finish(false),
        );
      }
      return p;
    };
    return log;
  }

  /** Calls started in [from, to) (performance.now() ms). */
  between(from: number, to = Infinity): SdkCall[] {
    return this.calls.filter((c) => c.start >= from && c.start < to);
  }

  /** Resolves once `caller` made no call for `quietMs` (or after `maxMs`). */
  async quiet(caller: Caller, quietMs: number, maxMs = 30_000): Promise<void> {
    const deadline = performance.now() + maxMs;
    for (;;) {
      const last = this.calls.reduce((t, c) => (c.caller === caller ? Math.max(t, c.start + c.ms) : t), 0);
      const now = performance.now();
      if (now - last >= quietMs || now > deadline) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** `{ "Auto Scaling": { DescribeAutoScalingGroups: 3, ... }, ... }`, services and operations sorted. */
export function countByOperation(calls: SdkCall[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const c of calls) {
    const s = (out[c.service] ??= {});
    s[c.operation] = (s[c.operation] ?? 0) + 1;
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((s) => [s, Object.fromEntries(Object.entries(out[s]!).sort(([a], [b]) => a.localeCompare(b)))]),
  );
}
