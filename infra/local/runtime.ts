import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { setMaxListeners } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installedHandlers, rollbackOnDeadLetter, type HandlerSpec } from '../../events/topology';
import type { SqsLambda } from '../../handlers/sqs-handler';
import { subjectOfBody, type CrashInjector, type InvocationContext } from './crash';
import type { LocalInstallation } from './provision';
import { mulberry32 } from './seeded-random';
import { startBundles, type BundleOptions } from './shipped/bundles';
import { ShippedBundleError } from './shipped/errors';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RuntimeOptions {
  /**
   * Long-poll wait per receive (s). A message that arrives, or becomes visible, during a poll is
   * returned at once (moto_server.py "f."), so the wait only decides how often an idle queue is
   * asked again (each poll costs the emulator, which is CPU every test file shares) and how long
   * a `stop()` without `abandon` may wait. @default 10
   */
  waitTimeSeconds?: number;
  log?: (line: string) => void;
  /**
   * Delivery shim for tests: hand every batch to the handler twice (the second time as SQS would
   * redeliver it after a lost acknowledgement), to prove each handler is idempotent.
   */
  deliverTwice?: boolean;
  /**
   * Reordering and delay shim for tests (default off): what a standard SQS queue may do. Each
   * received batch is shuffled and every record is handed to the handler on its own, after a
   * random delay in [0, maxDelayMs] (clamped so the message stays within the queue's visibility
   * timeout, minus the handler's timeout), while the queue keeps being polled: records of a later
   * batch can overtake those of an earlier one, and up to `concurrency` invocations of a handler
   * run at once. With `deliverTwice`, the duplicate gets its own delay (it may even come first, as
   * an SQS duplicate can). See `perRecord` below.
   */
  reorder?: ReorderOptions;
  /**
   * Crash injection for tests (default off; infra/local/crash.ts): each record is handed over on
   * its own, inside the injector's context (handler name, service and deploy parsed from the
   * body), so a planned crash kills exactly one invocation. A crashed invocation is never
   * acknowledged, whatever the handler returned (the process is gone), and its message comes back
   * after `crashes.redeliverAfterSeconds` instead of the whole visibility timeout.
   */
  crashes?: CrashInjector;
  /**
   * With `reorder` or `crashes`: concurrent invocations per handler, each on its own instance of
   * the handler module (as separate Lambda containers: a handler module keeps per-invocation state,
   * e.g. its batch processor, so one instance never runs two invocations at once).
   * Default: `reorder.concurrency`, else 1.
   */
  concurrency?: number;
  /**
   * Bundle mode (default off: the TypeScript sources run in this process): run the esbuild bundles
   * of the synthesized stack instead, each function in a process of its own on the Node of its
   * Lambda runtime, with the environment the template gives it, fed by the queues its event source
   * mappings name (infra/local/shipped/). The shims above work with the sources only, except
   * `deliverTwice`.
   */
  bundles?: BundleOptions;
}

export interface ReorderOptions {
  /** Upper bound of the random hand-over delay of each record (ms). */
  maxDelayMs: number;
  /** Seed of the shuffles and delays (default: random; read it back from `Runtime.reorderSeed`). */
  seed?: number;
  /** Concurrent invocations per handler. Default 4. */
  concurrency?: number;
}

export interface Runtime {
  /**
   * Stops polling, and waits for the invocations under way. A long poll under way is waited out
   * (up to `waitTimeSeconds`), and what it takes is handled as usual — unless `abandon`: for when
   * the emulator is stopped next, the long polls are dropped at once (a message one of them takes
   * meanwhile is never handled, and stays invisible until its visibility timeout).
   */
  stop(opts?: { abandon?: boolean }): Promise<void>;
  /** Invocations per handler so far (for tests and progress output). */
  invocations: Record<string, number>;
  /** The seed the reorder shim used (when on), to reproduce a failing order. */
  reorderSeed?: number;
  /** Records handed to a handler while one received before them on the same queue still waited (reorder shim). */
  overtaken: number;
}

/**
 * What moto does not do, and only that: an event source mapping per handler queue (receive a
 * batch, invoke the exported Lambda handler with a real SQSEvent, delete what succeeded, leave
 * failures to reappear after the visibility timeout and, after maxReceiveCount, go to the DLQ),
 * and EventBridge Scheduler's clock (fire due one-time schedules onto their bus).
 *
 * Test-only shims, all off by default: `deliverTwice`, `reorder` (shuffled, delayed, concurrent
 * delivery) and `crashes` (crash injection, infra/local/crash.ts); the last two switch the queue
 * loops to one invocation per record (`perRecord`).
 *
 * The handlers are the TypeScript sources, in this process, by default; with `bundles`, the
 * bundles of the synthesized stack, each function in its own process (what ships is what runs).
 */
export async function startRuntime(install: LocalInstallation, opts: RuntimeOptions = {}): Promise<Runtime> {
  Object.assign(process.env, install.env);
  const sqs = new SQSClient({});
  let stopped = false;
  const stopping = new AbortController();
  const abandoning = new AbortController();
  // Every queue's long poll listens to these at once (the SDK removes each listener when its request ends).
  setMaxListeners(0, stopping.signal, abandoning.signal);
  const running: Running = Object.assign(() => !stopped, { signal: stopping.signal, abandoned: abandoning.signal });
  const invocations: Record<string, number> = {};
  const loops: Promise<void>[] = [];
  const stats = { overtaken: 0 };
  const perRecordMode = Boolean(opts.reorder || opts.crashes);
  const seed = opts.reorder ? (opts.reorder.seed ?? Math.floor(Math.random() * 2 ** 31)) : undefined;
  const random = seed === undefined ? Math.random : mulberry32(seed);
  const counter = (name: string) => {
    invocations[name] = 0;
    return () => invocations[name]!++;
  };
  let stopBundles = async () => {};
  if (opts.bundles) {
    if (perRecordMode) throw new ShippedBundleError('the reorder and crash shims run the sources only: leave out `bundles`, or `reorder` and `crashes`');
    const bundles = await startBundles(install, { ...opts.bundles, log: opts.log });
    stopBundles = bundles.stop;
    for (const { fn, process } of bundles.functions) {
      const counted = counter(fn.name);
      const shape = { name: fn.name, timeoutSeconds: fn.timeoutSeconds, memoryMb: fn.memoryMb };
      // The queues the template's event source mappings name: a function wired to the wrong one reads that one.
      for (const source of fn.eventSources) {
        loops.push(pollQueue(sqs, shape, source.queueUrl, source.batchSize, process.invoke, install, running, counted, opts));
      }
    }
  } else {
    await startSources(install, opts, { sqs, loops, counter, running, random, stats });
  }
  loops.push(schedulerClock(install, running, opts.log));
  return {
    invocations,
    reorderSeed: seed,
    get overtaken() {
      return stats.overtaken;
    },
    async stop({ abandon = false } = {}) {
      stopped = true;
      // The clock's tick ends now; the long polls too when abandoned.
      stopping.abort();
      if (abandon) abandoning.abort();
      await Promise.allSettled(loops);
      await stopBundles();
    },
  };
}

/** The source mode: each handler's TypeScript module imported into this process, fed by its topology queue(s). */
async function startSources(
  install: LocalInstallation,
  opts: RuntimeOptions,
  run: { sqs: SQSClient; loops: Promise<void>[]; counter: (name: string) => () => void; running: Running; random: () => number; stats: { overtaken: number } },
): Promise<void> {
  const { sqs, loops, running, random, stats } = run;
  // Core handlers, plus those of the features provisioned (e.g. `slack`: DEPLOYOMAT_SLACK_CHANNEL set).
  const specs = installedHandlers(install.features);
  // The dead-letters handler rolls back the deploy of a dead letter: only the core's, never a feature's
  // (a notifier that cannot post must not roll back a deploy; its DLQ only waits for an operator).
  const coreDeadLetters = rollbackOnDeadLetter(specs).filter((h) => install.deadLetterQueueUrls[h.name]).map((h) => install.deadLetterQueueUrls[h.name]!);
  for (const spec of specs) {
    const url = pathToFileURL(REPO_ROOT + spec.entry).href;
    const mod = (await import(url)) as { handler: SqsLambda };
    const counted = run.counter(spec.name);
    // An event source mapping per queue the handler reads: its own, or every DLQ.
    const queues = spec.trigger.kind === 'dead-letters' ? coreDeadLetters : [install.queueUrls[spec.name]!];
    if (opts.reorder || opts.crashes) {
      // One pool of handler instances per handler, shared by its queues (as one function's containers).
      const instances = [mod.handler];
      for (let i = 1; i < concurrencyOf(opts); i++) instances.push(((await import(`${url}?instance=${i}`)) as { handler: SqsLambda }).handler);
      const pool = new Pool(instances);
      for (const queueUrl of queues) {
        loops.push(perRecord(sqs, spec, queueUrl, pool, install, running, counted, opts, random, stats));
      }
      continue;
    }
    for (const queueUrl of queues) {
      loops.push(pollQueue(sqs, spec, queueUrl, spec.queue.batchSize, mod.handler, install, running, counted, opts));
    }
  }
}

/** Whether the runtime still runs; `signal` aborts once it stops (the clock's tick), `abandoned` once it is stopped with `abandon` (the long polls). */
type Running = (() => boolean) & { signal: AbortSignal; abandoned: AbortSignal };

/** What the event source mapping loop needs of a function: its name, and what Lambda's context says. */
type FunctionShape = Pick<HandlerSpec, 'name' | 'timeoutSeconds' | 'memoryMb'>;

async function pollQueue(
  sqs: SQSClient,
  spec: FunctionShape,
  queueUrl: string,
  batchSize: number,
  handler: SqsLambda,
  install: LocalInstallation,
  running: Running,
  counted: () => void,
  opts: RuntimeOptions,
): Promise<void> {
  const queueArn = `arn:aws:sqs:${install.region}:${install.accountId}:${queueUrl.split('/').pop()}`;
  while (running()) {
    const messages = await receive(sqs, spec, queueUrl, batchSize, running, opts);
    if (!messages?.length) continue;
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueArn, install.region)) };
    let failed = new Set<string>(messages.map((m) => m.MessageId!));
    try {
      counted();
      const response = await handler(event, lambdaContext(spec));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      if (opts.deliverTwice) {
        counted();
        const again = await handler(redelivered(event), lambdaContext(spec));
        for (const f of again?.batchItemFailures ?? []) failed.add(f.itemIdentifier);
      }
    } catch (err) {
      // A thrown invocation fails the whole batch, as with Lambda.
      opts.log?.(`[${spec.name}] invocation failed: ${String(err)}`);
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
}

/** One long poll of a handler's queue, as Lambda's event source mapping does; undefined if it failed (logged, then a pause). */
async function receive(
  sqs: SQSClient,
  spec: Pick<HandlerSpec, 'name'>,
  queueUrl: string,
  max: number,
  running: Running,
  opts: RuntimeOptions,
): Promise<Message[] | undefined> {
  try {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: opts.waitTimeSeconds ?? 10,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: running.abandoned },
    );
    return out.Messages ?? [];
  } catch (err) {
    if (!running()) return undefined;
    opts.log?.(`[${spec.name}] receive failed: ${String(err)}`);
    await sleep(500);
    return undefined;
  }
}

/** Concurrent invocations per handler in the per-record mode. */
const concurrencyOf = (opts: RuntimeOptions) => Math.max(1, opts.concurrency ?? opts.reorder?.concurrency ?? (opts.reorder ? 4 : 1));

/** Handler instances of one handler; each runs one invocation at a time (FIFO hand-out). */
class Pool {
  private readonly free: SqsLambda[];
  private readonly waiting: ((h: SqsLambda) => void)[] = [];
  constructor(instances: SqsLambda[]) {
    this.free = [...instances];
  }
  async use<T>(fn: (handler: SqsLambda) => Promise<T>): Promise<T> {
    const handler = this.free.shift() ?? (await new Promise<SqsLambda>((resolve) => this.waiting.push(resolve)));
    try {
      return await fn(handler);
    } finally {
      const next = this.waiting.shift();
      if (next) next(handler);
      else this.free.push(handler);
    }
  }
}


/** Resolves after `ms`, or at once when `signal` aborts. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * The event source mapping of the `reorder` / `crashes` shims: each record is its own invocation
 * (a one-record SQSEvent), acknowledged (or not) on its own; the queue keeps being polled while
 * records are waiting or running, up to `concurrency` × batch size of them.
 */
async function perRecord(
  sqs: SQSClient,
  spec: HandlerSpec,
  queueUrl: string,
  pool: Pool,
  install: LocalInstallation,
  running: Running,
  counted: () => void,
  opts: RuntimeOptions,
  random: () => number,
  stats: { overtaken: number },
): Promise<void> {
  const queueArn = `arn:aws:sqs:${install.region}:${install.accountId}:${queueUrl.split('/').pop()}`;
  const maxInFlight = concurrencyOf(opts) * spec.queue.batchSize;
  // A record handed over later than this could outlive its visibility timeout while being handled.
  const maxDelayMs = opts.reorder ? Math.max(0, Math.min(opts.reorder.maxDelayMs, (spec.queue.visibilityTimeoutSeconds - spec.timeoutSeconds) * 1000)) : 0;
  const delay = () => (maxDelayMs ? sleep(Math.floor(random() * maxDelayMs)) : Promise.resolve());
  const inFlight = new Set<Promise<void>>();
  // Receive order of the records not yet handed over, to count overtakes.
  let received = 0;
  const waiting = new Set<number>();

  const invoke = (record: SQSRecord, n: number) =>
    pool.use(async (handler) => {
      if (!running()) return { failed: true, crashed: false };
      if (waiting.delete(n) && [...waiting].some((m) => m < n)) stats.overtaken++;
      counted();
      const context: InvocationContext | undefined = opts.crashes ? { handler: spec.name, ...subjectOfBody(record.body) } : undefined;
      let failed = true;
      try {
        const call = () => handler({ Records: [record] }, lambdaContext(spec));
        const response = context ? await opts.crashes!.run(context, call) : await call();
        failed = (response?.batchItemFailures ?? []).some((f) => f.itemIdentifier === record.messageId);
      } catch (err) {
        if (!context?.crashed) opts.log?.(`[${spec.name}] invocation failed: ${String(err)}`);
      }
      return { failed, crashed: Boolean(context?.crashed) };
    });

  const deliver = async (m: Message, n: number) => {
    const record = toRecord(m, queueArn, install.region);
    const copies = opts.deliverTwice ? [record, redelivered({ Records: [record] }).Records[0]!] : [record];
    const results = opts.reorder
      ? await Promise.all(copies.map(async (r) => (await delay(), invoke(r, n))))
      : await copies.reduce<Promise<{ failed: boolean; crashed: boolean }[]>>(async (acc, r) => [...(await acc), await invoke(r, n)], Promise.resolve([]));
    try {
      if (results.some((r) => r.crashed)) {
        // Lambda would let the visibility timeout run out; the test does not wait that long.
        await sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: opts.crashes?.redeliverAfterSeconds ?? 1 }),
        );
      } else if (!results.some((r) => r.failed)) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: '0', ReceiptHandle: m.ReceiptHandle! }] }));
      }
    } catch (err) {
      if (running()) opts.log?.(`[${spec.name}] acknowledging failed: ${String(err)}`);
    }
  };

  while (running()) {
    if (inFlight.size >= maxInFlight) {
      await Promise.race(inFlight);
      continue;
    }
    const messages = await receive(sqs, spec, queueUrl, Math.min(spec.queue.batchSize, maxInFlight - inFlight.size), running, opts);
    if (!messages) continue;
    // Numbered in receive order (SQS's own order is already loose), then shuffled.
    const batch = messages.map((m) => ({ m, n: received++ }));
    for (const { n } of batch) waiting.add(n);
    if (opts.reorder) {
      // Fisher-Yates: a standard queue promises no order within a batch either.
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
    }
    for (const { m, n } of batch) {
      const p: Promise<void> = deliver(m, n).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }
  await Promise.allSettled(inFlight);
}

function toRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function redelivered(event: SQSEvent): SQSEvent {
  return {
    Records: event.Records.map((r) => ({
      ...r,
      attributes: { ...r.attributes, ApproximateReceiveCount: String(Number(r.attributes.ApproximateReceiveCount) + 1) },
    })),
  };
}

function lambdaContext(spec: FunctionShape): Context {
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: spec.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${spec.name}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${spec.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** `at(2026-11-26T18:00:00)` (UTC, as Deployomat creates them). */
function dueTime(expression: string | undefined, timezone: string | undefined): number | undefined {
  const m = expression?.match(/^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/);
  if (!m || (timezone && timezone !== 'UTC')) return undefined;
  return Date.parse(`${m[1]}Z`);
}

/** Scheduler's clock: moto stores schedules but never fires them. Checks once a second; targets a bus or a queue. */
async function schedulerClock(install: LocalInstallation, running: Running, log?: (line: string) => void): Promise<void> {
  const scheduler = new SchedulerClient({});
  const events = new EventBridgeClient({});
  const sqs = new SQSClient({});
  while (running()) {
    await sleep(1000, running.signal);
    if (!running()) break;
    try {
      const list = await scheduler.send(new ListSchedulesCommand({ GroupName: install.scheduleGroup }));
      for (const summary of list.Schedules ?? []) {
        const s = await scheduler.send(new GetScheduleCommand({ Name: summary.Name, GroupName: install.scheduleGroup }));
        const due = dueTime(s.ScheduleExpression, s.ScheduleExpressionTimezone);
        if (due === undefined || due > Date.now() || s.State === 'DISABLED') continue;
        const target = s.Target!;
        if (target.Arn?.startsWith('arn:aws:sqs:')) {
          // A long timer handed to the timer queue (or any queue target): SendMessage, as Scheduler does.
          const [, , , , account, queueName] = target.Arn.split(':');
          const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName, QueueOwnerAWSAccountId: account }));
          await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: target.Input ?? '{}' }));
          log?.(`[scheduler] fired ${s.Name} (to ${queueName})`);
        } else {
          await events.send(
            new PutEventsCommand({
              Entries: [
                {
                  EventBusName: target.Arn,
                  Source: target.EventBridgeParameters?.Source,
                  DetailType: target.EventBridgeParameters?.DetailType,
                  Detail: target.Input ?? '{}',
                },
              ],
            }),
          );
          log?.(`[scheduler] fired ${s.Name} (${target.EventBridgeParameters?.DetailType})`);
        }
        if (s.ActionAfterCompletion === 'DELETE') {
          await scheduler.send(new DeleteScheduleCommand({ Name: s.Name, GroupName: install.scheduleGroup }));
        }
      }
    } catch (err) {
      if (running()) log?.(`[scheduler] ${String(err)}`);
    }
  }
}
