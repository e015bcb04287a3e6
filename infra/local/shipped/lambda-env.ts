import { dirname } from 'node:path';
import { EMULATOR_VARIABLES } from '../endpoint';
import type { LocalInstallation } from '../provision';
import type { ShippedFunction } from './functions';

/**
 * A function's whole environment, as Lambda builds it: the template's variables, then what Lambda
 * itself sets (region, function name and memory, handler, task root…; Lambda refuses templates
 * that set these), then the emulator's endpoint and credentials where Lambda would put the role's
 * session. Nothing of this process's environment leaks in, so a variable the stack forgot is
 * missing here too. `logLevel` replaces the template's POWERTOOLS_LOG_LEVEL (tests keep quiet).
 */
export function lambdaEnvironment(fn: ShippedFunction, install: LocalInstallation, node: string, logLevel?: string): Record<string, string> {
  const emulator = Object.fromEntries(EMULATOR_VARIABLES.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));
  return {
    ...fn.environment,
    ...(logLevel ? { POWERTOOLS_LOG_LEVEL: logLevel } : {}),
    AWS_REGION: install.region,
    AWS_DEFAULT_REGION: install.region,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    LAMBDA_TASK_ROOT: fn.codeDir,
    _HANDLER: fn.handler,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: `${dirname(node)}:/usr/local/bin:/usr/bin:/bin`,
    ...emulator,
  };
}
