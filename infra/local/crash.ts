/**
 * Crash injection for the local runtime (test-only; nothing here is active unless a test calls
 * `crashInjector()` and hands the result to the runtime as `RuntimeOptions.crashes`).
 *
 * A handler "dies" right after one AWS call that changes state has completed: the call took
 * effect, but nothing after it happens — no further AWS call of that invocation goes out (each
 * throws `CrashInjected` before it is sent, as in a process that is gone), the invocation fails
 * and its message is not acknowledged, so SQS delivers it again. This is the failure the ledger's
 * outbox and every adoption-by-tag exist for (docs/DESIGN.md, "One step = one handler = one ledger
 * transition").
 *
 * Mechanism: every AWS SDK v3 client extends smithy's `Client`, whose `send` is patched once (on
 * the shared prototype, found through the clients this project uses). The runtime runs each
 * handler invocation inside `CrashInjector.run(context, …)` (an AsyncLocalStorage), with the
 * handler's name and the service the record is about; calls made outside such a context (tests,
 * the runtime's own polling, the observer) pass straight through. What to record and where to
 * crash is set per service (`watch`), so runs on different services can share one emulator.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a handler invocation is about (set by the runtime, one record per invocation). */
export interface InvocationContext {
  handler: string;
  /** `<AccountCanonicalSlug>/<ServiceName>` of the record, when it names one. */
  service?: string;
  /** DeployId (or UndeployId) the record names, if any. */
  deployId?: string;
  detailType?: string;
  /** Set once the invocation has "died": the call after which it crashed. */
  crashed?: MutatingCall;
}

/** One AWS call that changes state, made by a handler for a watched service. */
export interface MutatingCall {
  handler: string;
  /** SDK operation, e.g. `CreateAutoScalingGroup`, `TransactWrite` (DynamoDB document client), `SendMessage`. */
  operation: string;
  /** 1-based count of (handler, operation) calls for this watch so far, this one included. */
  occurrence: number;
  service: string;
  deployId?: string;
  /** The event (or timer) the invocation was handling. */
  detailType?: string;
  /** The call failed (AWS error); it still counts, and a crash after it is still a crash point. */
  error?: string;
  at: number;
}

/** Where to crash: after the `occurrence`-th `operation` call of `handler` for the service. */
export interface CrashPoint {
  handler: string;
  operation: string;
  occurrence: number;
}

export class CrashInjected extends Error {
  override name = 'CrashInjected';
  constructor(
    message: string,
    readonly call: MutatingCall,
  ) {
    super(message);
  }
}

/** Per-service recording (and at most one crash) of the handlers' mutating calls. */
export interface Watch {
  service: string;
  /** Only calls of records that name one of these deploys, or no deploy at all (e.g. CancelRequested). */
  deployIds?: string[];
  crashAt?: CrashPoint;
  /** Every mutating call counted, in completion order. */
  calls: MutatingCall[];
  /** Operations the classifier could not place (should stay empty: see `classify`). */
  unclassified: string[];
  /** The call after which the handler crashed, once it has. */
  fired?: MutatingCall;
  counts: Map<string, number>;
}

const MUTATING =
  /^(Create|Delete|Put|Update|Modify|Set|Register|Deregister|Attach|Detach|Send|TransactWrite|BatchWrite|Start|Stop|Terminate|Complete|Enable|Disable|Change|Remove|Add|Tag|Untag|Suspend|Resume|Execute|Publish|Cancel|Reboot|Run|Associate|Disassociate|Replace|Restore|Purge|Import|Copy|Apply|Record|Exit|Enter|Reset|Release|Allocate|Revoke|Authorize)/;
const READ = /^(Describe|Get|List|Query|Scan|Receive|Assume|TransactGet|BatchGet|Search|Lookup|Test|Validate|Estimate|Check|GetCallerIdentity)/;

/**
 * Mutating or read, by the operation name's verb. `TransactGet`/`BatchGet` are tested before the
 * mutating verbs so they stay reads; `AssumeRole` changes no resource (it mints credentials).
 */
export function classify(operation: string): 'mutating' | 'read' | 'unknown' {
  if (/^(TransactGet|BatchGet)/.test(operation)) return 'read';
  if (MUTATING.test(operation)) return 'mutating';
  if (READ.test(operation)) return 'read';
  return 'unknown';
}

export function operationOf(command: unknown): string {
  const name = (command as { constructor?: { name?: string } })?.constructor?.name ?? 'Unknown';
  return name.replace(/Command$/, '');
}

const key = (handler: string, operation: string) => `${handler}|${operation}`;

export class CrashInjector {
  private readonly als = new AsyncLocalStorage<InvocationContext>();
  private readonly watches = new Map<string, Watch>();
  /** A crashed message is made visible again this much later (Lambda would wait out the visibility timeout). */
  redeliverAfterSeconds = 1;

  /** Starts recording (and, with `crashAt`, crashing) the calls made for `service`; replaces an earlier watch. */
  watch(service: string, opts: { deployIds?: string[]; crashAt?: CrashPoint } = {}): Watch {
    const w: Watch = { service, deployIds: opts.deployIds, crashAt: opts.crashAt, calls: [], unclassified: [], counts: new Map() };
    this.watches.set(service, w);
    return w;
  }

  unwatch(service: string): void {
    this.watches.delete(service);
  }

  /** Runs one handler invocation in `context`; `context.crashed` tells afterwards whether it died. */
  run<T>(context: InvocationContext, fn: () => Promise<T>): Promise<T> {
    return this.als.run(context, fn);
  }

  /** @internal The patched `send`: the context of the call, if it was made by a handler invocation. */
  current(): InvocationContext | undefined {
    return this.als.getStore();
  }

  /** @internal Called after each call made inside an invocation; throws CrashInjected where planned. */
  afterCall(ctx: InvocationContext, operation: string, error: unknown): void {
    const w = ctx.service ? this.watches.get(ctx.service) : undefined;
    if (!w) return;
    if (ctx.deployId && w.deployIds && !w.deployIds.includes(ctx.deployId)) return;
    const kind = classify(operation);
    if (kind === 'unknown' && !w.unclassified.includes(operation)) w.unclassified.push(operation);
    if (kind !== 'mutating') return;
    const k = key(ctx.handler, operation);
    const occurrence = (w.counts.get(k) ?? 0) + 1;
    w.counts.set(k, occurrence);
    const call: MutatingCall = {
      handler: ctx.handler,
      operation,
      occurrence,
      service: w.service,
      deployId: ctx.deployId,
      detailType: ctx.detailType,
      error: error === undefined ? undefined : String((error as { name?: string }).name ?? error),
      at: Date.now(),
    };
    w.calls.push(call);
    const p = w.crashAt;
    if (p && !w.fired && p.handler === ctx.handler && p.operation === operation && p.occurrence === occurrence) {
      w.fired = call;
      ctx.crashed = call;
      throw new CrashInjected(`crash injected after ${ctx.handler} ${operation} #${occurrence} (${w.service})`, call);
    }
  }
}

let injector: CrashInjector | undefined;
const PATCHED = Symbol.for('deployomat.crash-injection');

type Send = (this: unknown, command: unknown, ...rest: unknown[]) => unknown;

/**
 * The process-wide injector; the first call patches `Client.prototype.send` (shared by every SDK
 * v3 client). Calls outside an invocation context, and calls of unwatched services, only pay an
 * AsyncLocalStorage lookup.
 */
export function crashInjector(): CrashInjector {
  if (injector) return injector;
  const inj = new CrashInjector();
  const clients = [
    AutoScalingClient,
    CloudWatchClient,
    DynamoDBClient,
    DynamoDBDocumentClient,
    EC2Client,
    ElasticLoadBalancingV2Client,
    EventBridgeClient,
    SchedulerClient,
    SQSClient,
    SSMClient,
    STSClient,
  ];
  const bases = new Set(clients.map((c) => Object.getPrototypeOf(c.prototype) as { send: Send; [PATCHED]?: true }));
  for (const base of bases) {
    if (base[PATCHED]) continue;
    const original = base.send;
    base.send = function patchedSend(this: unknown, command: unknown, ...rest: unknown[]) {
      const ctx = inj.current();
      // Outside an invocation, or the callback style (unused here): untouched.
      if (!ctx || typeof rest[rest.length - 1] === 'function') return original.call(this, command, ...rest);
      const operation = operationOf(command);
      return (async () => {
        // The process is gone: nothing after the crash reaches AWS.
        if (ctx.crashed) throw new CrashInjected(`${ctx.handler} already crashed; ${operation} not sent`, ctx.crashed);
        let result: unknown;
        try {
          result = await original.call(this, command, ...rest);
        } catch (err) {
          inj.afterCall(ctx, operation, err ?? 'error');
          throw err;
        }
        inj.afterCall(ctx, operation, undefined);
        return result;
      })();
    };
    base[PATCHED] = true;
  }
  injector = inj;
  return inj;
}

/** The service (and deploy) a handler's SQS record is about: an EventBridge envelope, a timer message, or a dead letter of either. */
export function subjectOfBody(body: string): { service?: string; deployId?: string; detailType?: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return {};
  }
  const j = json as { detail?: unknown; 'detail-type'?: string; Event?: { DetailType?: string; Detail?: unknown } };
  const detail = (j.detail ?? j.Event?.Detail) as Record<string, unknown> | undefined;
  const detailType = j['detail-type'] ?? j.Event?.DetailType;
  if (!detail || typeof detail !== 'object') return { detailType };
  // QueuedDeployReady / QueuedUndeployReady carry the request that names the service.
  const named = (typeof detail.ServiceName === 'string' ? detail : (detail.Request as Record<string, unknown> | undefined)) ?? {};
  const slug = named.AccountCanonicalSlug;
  const service = named.ServiceName;
  const id = detail.DeployId ?? detail.UndeployId ?? named.DeployId;
  return {
    service: typeof slug === 'string' && typeof service === 'string' ? `${slug}/${service}` : undefined,
    deployId: typeof id === 'string' ? id : undefined,
    detailType,
  };
}
