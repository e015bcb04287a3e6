import { startEmulator, type Emulator } from './emulator';
import { provision, type LocalInstallation } from './provision';
import { startRuntime, type Runtime, type RuntimeOptions } from './runtime';

export const LOCAL_REGION = 'us-east-1';
/** moto's default account: Deployomat's own (CI/CD) account locally. */
export const LOCAL_ACCOUNT = '123456789012';

/**
 * Points the AWS SDK (and any child process, such as the AWS CLI) at the emulator. Every SDK v3
 * client honours AWS_ENDPOINT_URL, so no code path knows it is talking to an emulator.
 */
export function useEndpoint(endpoint: string): void {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_DEFAULT_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  // Local runs only: the SDK's notice about future Node versions is noise in demo and test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  // Never pick up a developer's real profile or credentials by accident.
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

export interface LocalDeployomat {
  endpoint: string;
  install: LocalInstallation;
  runtime: Runtime;
  stop(): Promise<void>;
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
    async stop() {
      await runtime.stop();
      await emulator?.stop();
    },
  };
}
