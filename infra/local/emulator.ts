/**
 * Starts the local AWS emulator: moto's server, patched by
 * infra/local/emulator/moto_server.py with test-only controls (delayed target
 * health, "bad AMI" health failures, fault injection, and a runtime config endpoint),
 * and strict by default: every request is checked against AWS's API models and documented
 * quotas (infra/local/emulator/strict_api.py) and refused as AWS would refuse it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface EmulatorOptions {
  /** Loopback port to listen on; a free one is picked when omitted. */
  port?: number;
  /** Seconds a newly registered ELBv2 target reports `initial` before `healthy`. */
  initialHealthSeconds?: number;
  /** Receives the emulator's stdout/stderr lines; silent when omitted. */
  log?: (line: string) => void;
  /**
   * Checks every request against the AWS API model of its operation (required and unknown members,
   * lengths, patterns, enums, ranges) and the documented quotas the models do not carry, and
   * answers a violation as AWS does (moto_server.py "n."). Turn it off only to debug.
   * @default true, unless the environment sets DEPLOYOMAT_EMULATOR_STRICT=0
   */
  strict?: boolean;
  /**
   * Eventual consistency (moto_server.py "p."): reads of ELBv2, Auto Scaling and EC2 launch template
   * versions lag behind writes by a seeded random delay, as AWS documents for EC2 and ELB.
   * @default off, unless the environment sets DEPLOYOMAT_EMULATOR_CONSISTENCY (the same object, as JSON)
   */
  consistency?: ConsistencyOptions;
}

/** How far reads lag behind writes (moto_server.py "p."). */
export interface ConsistencyOptions {
  /** Longest lag of a write, in ms; 0 turns the mode off. */
  maxLagMs: number;
  /** Shortest lag, in ms. @default 0 */
  minLagMs?: number;
  /** Seeds each write's lag (drawn from seed, resource and write number). @default 0 */
  seed?: number;
}

/** What the strict check saw (GET /_emulator/strict). */
export interface StrictReport {
  enabled: boolean;
  /** Requests checked against a model (refused ones included). */
  validated: number;
  /** Requests refused for breaking the model (or a documented constraint it lacks). */
  rejected: number;
  /** Requests refused for a documented quota (TooManyRules, TooManyTags, LimitExceeded). */
  quotaRejected: number;
  /** Checked requests per `service.Operation` (botocore service names). */
  byOperation: Record<string, number>;
  /** Requests not checked, by reason (e.g. `moto-api`, an unknown service or protocol). */
  unchecked: Record<string, number>;
  /** Model patterns Python's `re` cannot run, so not checked: `service: pattern`. */
  skippedPatterns: string[];
  /** The last 100 refusals. */
  violations: { service: string; operation: string; code: string; message: string }[];
}

/**
 * Makes matching AWS API calls fail with an AWS-shaped error, or answer late (see "h." in moto_server.py).
 * Matched by action name: query-protocol services (EC2, Auto Scaling, ELBv2, STS) by `Action=`,
 * JSON-protocol services (DynamoDB, EventBridge, SSM, SQS) by `X-Amz-Target`, and EventBridge
 * Scheduler by method + path. CloudWatch is matched in each of its three protocols: AWS JSON 1.0
 * (the SDK's default), query, and Smithy RPC v2 CBOR (by `/service/…/operation/<action>`; moto
 * itself does not serve it). Other REST services (S3, Lambda, ...) are never matched.
 */
export interface EmulatorFault {
  /** API action name, e.g. `CreateAutoScalingGroup`, `PutItem`, `GetSchedule`, `DescribeAlarms`. */
  action: string;
  /** How many matching calls still fail before the fault is used up; -1 (the default) = forever. */
  count?: number;
  /** Error code; the AWS SDK v3 error's `name`. Default `DeployomatEmulatorFault`. */
  code?: string;
  /** HTTP status, 400-599. Default 400. (The SDK retries 5xx and throttling codes itself.) */
  status?: number;
  message?: string;
  /** Only requests made in this 12-digit AWS account (as moto resolves it from the access key). */
  account?: string;
  /** Share (0..1) of matching calls that fail, chosen at random; spared calls keep the count. */
  probability?: number;
  /** Instead of failing, answer the call normally this many seconds late (a hung or slow service). */
  delaySeconds?: number;
}

/** Runtime settings of /_emulator/config. */
export interface EmulatorConfig {
  /** Seconds a newly registered ELBv2 target reports `initial` before `healthy`. */
  initialHealthSeconds: number;
  /** Eventual consistency (moto_server.py "p."); maxLagMs 0 = off. */
  consistency: Required<ConsistencyOptions>;
  /** Active faults, with defaults filled in and `count` = remaining failures (0 = used up). */
  faults: (Required<Omit<EmulatorFault, 'account' | 'probability' | 'delaySeconds'>> &
    Pick<EmulatorFault, 'account' | 'probability' | 'delaySeconds'>)[];
}

export interface Emulator {
  /** e.g. http://127.0.0.1:53123, for the AWS SDK clients' `endpoint`. */
  endpoint: string;
  port: number;
  /** Stops the emulator (SIGTERM, SIGKILL after 3 s); resolves once it has exited. */
  stop(): Promise<void>;
  /**
   * Changes emulator settings at runtime (POST /_emulator/config). Keys left out keep
   * their value; `faults` replaces the whole list (`[]` clears it).
   */
  configure(cfg: { initialHealthSeconds?: number; faults?: EmulatorFault[]; consistency?: ConsistencyOptions }): Promise<void>;
  /** Reads the current settings (GET /_emulator/config), e.g. the faults' remaining counts. */
  readConfig(): Promise<EmulatorConfig>;
  /** Reads the strict check's counts and recent refusals (GET /_emulator/strict). */
  strictReport(): Promise<StrictReport>;
  /** Reads that missed a write not yet visible, by moto resource class (GET /_emulator/consistency). */
  consistencyReport(): Promise<{ laggedReads: Record<string, number> }>;
}

const PYTHON = 'python3';
const SCRIPT = fileURLToPath(new URL('./emulator/moto_server.py', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_LINES = 50;
const MOTO_REQUIREMENT = 'moto[server]>=5.2,<6';

function run(cmd: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: `${stdout}${stderr}${err && !stderr ? String(err) : ''}` });
    });
  });
}

/** Makes sure `python3` can import moto's server; installs moto with pip if not. */
export async function ensureMotoInstalled(log: (line: string) => void = () => {}): Promise<void> {
  const check = ['-c', 'import moto.server, flask'];
  if ((await run(PYTHON, check)).ok) return;

  log(`moto is not importable by ${PYTHON}; installing '${MOTO_REQUIREMENT}' with pip...`);
  const pip = await run(PYTHON, ['-m', 'pip', 'install', MOTO_REQUIREMENT]);
  const after = pip.ok ? await run(PYTHON, check) : pip;
  if (!after.ok) {
    throw new Error(
      `The local AWS emulator needs the Python package moto with its server extras, and ` +
        `installing it failed. Install it yourself with:\n  ${PYTHON} -m pip install '${MOTO_REQUIREMENT}'\n` +
        `pip output:\n${pip.output.trim()}${pip.ok ? `\nimport check:\n${after.output.trim()}` : ''}`,
    );
  }
  log('moto installed.');
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  await ensureMotoInstalled(opts.log);
  const port = opts.port ?? (await freeLoopbackPort());
  const endpoint = `http://127.0.0.1:${port}`;
  const configUrl = `${endpoint}/_emulator/config`;
  const strictUrl = `${endpoint}/_emulator/strict`;
  const log = opts.log;

  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', MOTO_PORT: String(port) };
  if (opts.initialHealthSeconds !== undefined) {
    env.DEPLOYOMAT_EMULATOR_INITIAL_HEALTH_SECONDS = String(opts.initialHealthSeconds);
  }
  const args = [SCRIPT, '--port', String(port), '--exit-on-stdin-eof'];
  // Per-request lines are noise; DEPLOYOMAT_EMULATOR_VERBOSE=1 brings them back.
  if (!process.env.DEPLOYOMAT_EMULATOR_VERBOSE) args.push('--quiet');
  if (opts.consistency) args.push('--consistency', JSON.stringify(opts.consistency));
  if (opts.strict === false) args.push('--no-strict');
  else if (opts.strict === true) env.DEPLOYOMAT_EMULATOR_STRICT = '1';

  // stdin stays an open pipe: the emulator exits when it closes, so it cannot
  // outlive this process even if we are killed without running 'exit' handlers.
  const child: ChildProcess = spawn(PYTHON, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin?.on('error', () => {}); // never written to; ignore EPIPE on teardown
  const stderrTail: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => log?.(line));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    log?.(line);
  });

  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    // 'close' (not 'exit'): by then all of its stderr has been read into the tail.
    child.once('close', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exitInfo = `failed to start ${PYTHON}: ${err.message}`;
      resolve();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const stop = async (): Promise<void> => {
    if (exitInfo === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
    child.stdin?.destroy();
  };
  const failure = (why: string) =>
    new Error(
      `The local AWS emulator (${PYTHON} ${SCRIPT} --port ${port}) ${why}.\n` +
        `Last stderr lines:\n${stderrTail.join('\n') || '(none)'}`,
    );

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitInfo !== undefined) {
      await stop();
      throw failure(`exited before it was ready (${exitInfo})`);
    }
    try {
      const res = await fetch(configUrl, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      // Only our own child counts: another server may already hold the port.
      if (res.ok && res.headers.get('x-emulator-pid') === String(child.pid)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw failure(`was not ready after ${READY_TIMEOUT_MS / 1000} s`);
    }
    await Promise.race([sleep(100), exited]);
  }

  return {
    endpoint,
    port,
    stop,
    async configure(cfg) {
      const res = await fetch(configUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cfg),
      });
      if (!res.ok) throw new Error(`emulator configure failed: HTTP ${res.status} ${await res.text()}`);
    },
    async readConfig() {
      const res = await fetch(configUrl);
      if (!res.ok) throw new Error(`emulator readConfig failed: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as EmulatorConfig;
    },
    async strictReport() {
      const res = await fetch(strictUrl);
      if (!res.ok) throw new Error(`emulator strictReport failed: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as StrictReport;
    },
    async consistencyReport() {
      const res = await fetch(`${endpoint}/_emulator/consistency`);
      if (!res.ok) throw new Error(`emulator consistencyReport failed: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as { laggedReads: Record<string, number> };
    },
  };
}
