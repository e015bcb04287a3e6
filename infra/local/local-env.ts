import { LOCAL_REGION, useEndpoint } from './endpoint';
import { startEmulator, type Emulator } from './emulator';
import { provision, type LocalInstallation } from './provision';
import { startRuntime, type Runtime, type RuntimeOptions } from './runtime';

/** moto's default account: Deployomat's own (CI/CD) account locally. */
export const LOCAL_ACCOUNT = '123456789012';
export { LOCAL_REGION, useEndpoint };

export interface LocalDeployomat {
  endpoint: string;
  install: LocalInstallation;
  runtime: Runtime;
  /** `abandon`: the emulator is stopped next (see Runtime.stop). */
  stop(opts?: { abandon?: boolean }): Promise<void>;
}

/** Emulator (started here unless `endpoint` is given) + provisioned topology + running handlers. */
export async function startLocal(opts: {
  endpoint?: string;
  port?: number;
  prefix?: string;
  env?: Record<string, string>;
  /** The installation's environment (provision's `environment`). */
  environment?: string;
  log?: (line: string) => void;
  runtime?: RuntimeOptions;
}): Promise<LocalDeployomat> {
  let emulator: Emulator | undefined;
  if (!opts.endpoint) emulator = await startEmulator({ port: opts.port, log: opts.log });
  const endpoint = opts.endpoint ?? emulator!.endpoint;
  useEndpoint(endpoint);
  Object.assign(process.env, opts.env);
  const install = await provision({ prefix: opts.prefix, region: LOCAL_REGION, accountId: LOCAL_ACCOUNT, environment: opts.environment });
  const runtime = await startRuntime(install, { log: opts.log, ...opts.runtime });
  return {
    endpoint,
    install,
    runtime,
    async stop(stopOpts) {
      await runtime.stop({ abandon: stopOpts?.abandon || emulator !== undefined });
      await emulator?.stop();
    },
  };
}
