import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BundleInitError, ShippedBundleError } from './errors';
import type { ShippedFunction } from './functions';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));

type Reply =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; result: SQSBatchResponse | null }
  | { type: 'error'; id: number; error: SerializedError };
interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

/** An error the handler threw (or a timeout, or the process dying), as Lambda reports it. */
export class InvocationError extends ShippedBundleError {
  override name = 'InvocationError';
}

/**
 * One function's execution environment: a long-lived process of the Lambda Node running
 * host.mjs, which loads the bundle once and runs one invocation at a time, as a Lambda container
 * does. An invocation past the function's timeout kills the process (as Lambda does); the next
 * invocation starts a new one (a cold start).
 */
export class BundleProcess {
  private child?: Promise<ChildProcess>;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(r: SQSBatchResponse): void; reject(e: Error): void }>();
  private stopped = false;

  private constructor(
    readonly fn: ShippedFunction,
    private readonly node: string,
    private readonly env: Record<string, string>,
    private readonly log?: (line: string) => void,
  ) {}

  /** Starts the process and waits for the bundle to load; BundleInitError if it does not. */
  static async start(fn: ShippedFunction, node: string, env: Record<string, string>, log?: (line: string) => void): Promise<BundleProcess> {
    const p = new BundleProcess(fn, node, env, log);
    await p.process();
    return p;
  }

  /** The handler, as the event source mapping loop calls it. */
  readonly invoke = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const child = await this.process();
    const id = this.nextId++;
    const { functionName, functionVersion, invokedFunctionArn, memoryLimitInMB, awsRequestId, logGroupName, logStreamName } = context;
    const deadline = Date.now() + context.getRemainingTimeInMillis();
    return new Promise<SQSBatchResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new InvocationError(`${this.fn.functionName}: Task timed out after ${this.fn.timeoutSeconds} seconds`));
        child.kill('SIGKILL');
      }, Math.max(0, deadline - Date.now()));
      const settle = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        this.pending.delete(id);
        f(v);
      };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      child.send({ id, event, context: { functionName, functionVersion, invokedFunctionArn, memoryLimitInMB, awsRequestId, logGroupName, logStreamName, deadline } });
    });
  };

  async stop(): Promise<void> {
    this.stopped = true;
    const child = await this.child?.catch(() => undefined);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  /** The running process, started when there is none (at first, or after a crash or a timeout). */
  private process(): Promise<ChildProcess> {
    if (this.stopped) return Promise.reject(new ShippedBundleError(`${this.fn.functionName} is stopped`));
    this.child ??= this.spawn();
    return this.child;
  }

  private spawn(): Promise<ChildProcess> {
    const child = fork(HOST, [this.fn.codeDir, this.fn.handler], {
      execPath: this.node,
      // Not this process's flags (tsx's loader, vitest's): the bundle runs on plain Node, as in Lambda.
      execArgv: [],
      env: this.env,
      cwd: this.fn.codeDir,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const out = (stream: NodeJS.ReadableStream, write: (line: string) => void) =>
      createInterface({ input: stream }).on('line', (line) => (this.log ? this.log(`[${this.fn.name}] ${line}`) : write(`${line}\n`)));
    out(child.stdout!, (l) => process.stdout.write(l));
    out(child.stderr!, (l) => process.stderr.write(l));
    return new Promise<ChildProcess>((resolve, reject) => {
      child.on('message', (reply: Reply) => {
        if (reply.type === 'ready') resolve(child);
        else if (reply.type === 'init-error') reject(new BundleInitError(`${this.fn.functionName} (${this.fn.codeDir}, Handler ${this.fn.handler}) failed to initialise: ${reply.error.message}`));
        else if (reply.type === 'result') this.pending.get(reply.id)?.resolve(reply.result ?? { batchItemFailures: [] });
        else this.pending.get(reply.id)?.reject(Object.assign(new InvocationError(`${reply.error.name}: ${reply.error.message}`), { stack: reply.error.stack }));
      });
      child.on('error', (err) => reject(new ShippedBundleError(`${this.fn.functionName}: could not start ${this.node}: ${err.message}`, { cause: err })));
      child.on('exit', (code, signal) => {
        reject(new BundleInitError(`${this.fn.functionName} exited while initialising (${signal ?? `code ${code}`})`));
        this.child = undefined;
        for (const p of [...this.pending.values()]) p.reject(new InvocationError(`${this.fn.functionName}: the process exited (${signal ?? `code ${code}`})`));
      });
    });
  }
}
