import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { DeployomatProps } from '../../cdk/deployomat';
import { ShippedBundleError } from './errors';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * Synthesized stacks, one directory per content hash. Outside the repository: Node reads a
 * bundle's module type from the nearest package.json, and ours says `"type": "module"`, while
 * Lambda's /var/task has none (the CJS bundles would not load under ours).
 */
export const SHIPPED_STACK_CACHE = join(tmpdir(), 'deployomat-shipped-stacks');
/** What the bundles and the template are built from: any change here is a new synthesis. */
const SOURCES = ['handlers', 'domain', 'events', 'infra/cdk', 'package-lock.json', 'tsconfig.json'];
const STACK_ID = 'Deployomat';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

/** A synthesized Deployomat stack, as `cdk deploy` would ship it. */
export interface ShippedStack {
  /** The template (the caller's own copy: a test may edit it, e.g. to seed a mistake). */
  template: CfnTemplate;
  /** Per S3 object key of a file asset (`Code.S3Key`): the directory the cloud assembly zips and uploads. */
  assetDirs: Record<string, string>;
}

/** The construct's props, as plain data (they are part of the cache key): no constructs, no keys. */
export type ShippedStackProps = Omit<DeployomatProps, 'encryptionKey' | 'alarmActions' | 'auditTrail' | 'runtime'>;

/**
 * Synthesizes the Deployomat stack as the CDK app does — `new Deployomat(stack, …)` with asset
 * bundling on (NodejsFunction/esbuild, the construct's own options) — for `account`/`region`,
 * and reads back its template and bundles. Cached by a hash of the sources, the props and the
 * environment: a synthesis bundles every handler (about 25 s on two cores), a cache hit reads files.
 */
export async function synthShippedStack(
  props: ShippedStackProps,
  env: { account: string; region: string },
  cacheDir = SHIPPED_STACK_CACHE,
): Promise<ShippedStack> {
  assertNoPackageAbove(cacheDir);
  const dir = join(cacheDir, cacheKey(props, env));
  if (!existsSync(join(dir, 'manifest.json'))) await synthesize(props, env, dir);
  return readAssembly(dir);
}

async function synthesize(props: ShippedStackProps, env: { account: string; region: string }, dir: string): Promise<void> {
  // Loaded only here: a cache hit needs no CDK.
  const [{ App, Stack }, { Deployomat }] = await Promise.all([import('aws-cdk-lib'), import('../../cdk/deployomat')]);
  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const app = new App({ outdir: staging, builtinCloudFormationValidation: false });
  new Deployomat(new Stack(app, STACK_ID, { env }), 'Deployomat', props);
  app.synth();
  try {
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    // Another process synthesized the same stack first: theirs is identical.
    if (!existsSync(join(dir, 'manifest.json'))) throw err;
  }
  prune(dirname(dir));
}

/** Keeps the newest few syntheses (~20 MB each): one per checkout or props a developer switches between. */
function prune(cacheDir: string, keep = 4): void {
  const entries = readdirSync(cacheDir)
    .filter((name) => !name.endsWith('.tmp'))
    .map((name) => ({ path: join(cacheDir, name), time: statSync(join(cacheDir, name)).mtimeMs }))
    .sort((a, b) => b.time - a.time);
  for (const old of entries.slice(keep)) rmSync(old.path, { recursive: true, force: true });
}

/** The stack's template and its file assets, from a cloud assembly directory. */
export function readAssembly(dir: string): ShippedStack {
  const manifest = readJson(join(dir, 'manifest.json')) as { artifacts: Record<string, { type: string; properties?: { templateFile?: string; file?: string } }> };
  const stack = manifest.artifacts[STACK_ID];
  const assets = manifest.artifacts[`${STACK_ID}.assets`];
  if (stack?.type !== 'aws:cloudformation:stack' || !stack.properties?.templateFile || !assets?.properties?.file) {
    throw new ShippedBundleError(`${dir} is not a cloud assembly of the ${STACK_ID} stack: remove it and it is synthesized again`);
  }
  const files = (readJson(join(dir, assets.properties.file)) as { files: Record<string, { source: { path: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }> }).files;
  const assetDirs: Record<string, string> = {};
  for (const asset of Object.values(files)) {
    if (asset.source.packaging !== 'zip') continue;
    for (const d of Object.values(asset.destinations)) assetDirs[d.objectKey] = join(dir, asset.source.path);
  }
  return { template: readJson(join(dir, stack.properties.templateFile)) as CfnTemplate, assetDirs };
}

/** A package.json above the bundles would decide how Node loads them, as none does in Lambda. */
function assertNoPackageAbove(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) {
      throw new ShippedBundleError(`${join(d, 'package.json')} would decide how Node loads the bundles under ${dir} (Lambda's /var/task has none): synthesize outside any package`);
    }
    if (dirname(d) === d) return;
  }
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

function cacheKey(props: ShippedStackProps, env: { account: string; region: string }): string {
  const hash = createHash('sha256');
  // Durations by their seconds; anything else that is not plain data cannot be part of the key.
  hash.update(
    JSON.stringify([props, env], (key, value: unknown) => {
      if (value && typeof value === 'object' && 'toSeconds' in value) return `${(value as { toSeconds(o: object): number }).toSeconds({ integral: false })}s`;
      if (value && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) {
        throw new ShippedBundleError(`prop ${key} of the shipped stack is not plain data (a Duration, a string, a list…)`);
      }
      return value;
    }),
  );
  for (const file of SOURCES.flatMap((s) => filesUnder(join(REPO_ROOT, s)))) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}
