import type { LocalInstallation } from '../provision';
import { ShippedBundleError } from './errors';
import { shippedFunctions, type ShippedFunction } from './functions';
import { lambdaEnvironment } from './lambda-env';
import { lambdaNode } from './lambda-node';
import { BundleProcess } from './process';
import type { ShippedStack } from './stack';

/** The local runtime's bundle mode: run the stack's bundles instead of the TypeScript sources. */
export interface BundleOptions {
  /** The synthesized stack (synthShippedStack), possibly edited. Its prefix must be the installation's. */
  stack: ShippedStack;
  /**
   * Replaces the template's POWERTOOLS_LOG_LEVEL in every function.
   * @default process.env.POWERTOOLS_LOG_LEVEL (tests set SILENT), else the template's
   */
  logLevel?: string;
}

export interface RunningBundles {
  /** Each function with the handler the event source mapping loop calls (its process's `invoke`). */
  functions: { fn: ShippedFunction; process: BundleProcess }[];
  stop(): Promise<void>;
}

/**
 * Starts one process per function of the stack, on the Node of its Lambda runtime, each with the
 * environment Lambda would give it, and waits until every bundle has loaded. Throws naming the
 * function when a value of the template does not fit the installation or a bundle does not load.
 */
export async function startBundles(install: LocalInstallation, opts: BundleOptions & { log?: (line: string) => void }): Promise<RunningBundles> {
  if (install.features.length) {
    throw new ShippedBundleError(`the bundle mode runs the Deployomat stack's functions, which has none of the features ${install.features.join(', ')}: switch them off (unset DEPLOYOMAT_SLACK_CHANNEL) or run the sources`);
  }
  const functions = shippedFunctions(opts.stack, install);
  if (!functions.length) throw new ShippedBundleError('the stack has no function fed by a queue: nothing to run');
  const logLevel = opts.logLevel ?? process.env.POWERTOOLS_LOG_LEVEL;
  const started = await Promise.allSettled(
    functions.map(async (fn) => {
      const node = await lambdaNode(fn.runtime);
      return { fn, process: await BundleProcess.start(fn, node, lambdaEnvironment(fn, install, node, logLevel), opts.log) };
    }),
  );
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => void (await Promise.all(running.map((r) => r.process.stop())));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { functions: running, stop };
}
