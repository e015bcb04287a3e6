export const LOCAL_REGION = 'us-east-1';

/**
 * What `useEndpoint` sets to reach the emulator: the endpoint and the fake credentials. The bundle
 * mode passes exactly these on to each function's process (infra/local/shipped/lambda-env.ts).
 */
export const EMULATOR_VARIABLES = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] as const;

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
