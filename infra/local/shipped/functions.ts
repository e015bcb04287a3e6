import type { LocalInstallation } from '../provision';
import { UnresolvableValueError } from './errors';
import { queueName, queueUrl, resolveValue } from './intrinsics';
import type { CfnResource, ShippedStack } from './stack';

/** A function of the synthesized stack, as Lambda would run it against the local installation. */
export interface ShippedFunction {
  /** Its name in AWS (`FunctionName`), e.g. `deployomat-start-deploy`. */
  functionName: string;
  /** The topology's handler name: the function name without the installation prefix (`start-deploy`). */
  name: string;
  /** The directory of its bundle: what the cloud assembly zips and uploads as its code. */
  codeDir: string;
  /** Lambda's `Handler`, e.g. `index.handler`. */
  handler: string;
  /** Lambda's `Runtime`, e.g. `nodejs24.x`. */
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The template's environment variables, resolved to the local installation. */
  environment: Record<string, string>;
  /** Its enabled event source mappings: the local queue each reads, with the mapping's batch size. */
  eventSources: { queueUrl: string; batchSize: number }[];
}

// Lambda's and the event source mapping's defaults when the template leaves them out.
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;
const DEFAULT_BATCH_SIZE = 10;

/**
 * Every `AWS::Lambda::Function` of the stack that an SQS event source mapping feeds, read from the
 * template: code, handler, runtime, timeout, memory, environment (intrinsics resolved) and the
 * queues its mappings name. Throws UnresolvableValueError naming the function and the value that
 * does not fit the local installation.
 */
export function shippedFunctions(stack: ShippedStack, install: LocalInstallation): ShippedFunction[] {
  const { template } = stack;
  const resources = Object.entries(template.Resources);
  const mappings = resources.filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties?.Enabled !== false);
  const out: ShippedFunction[] = [];
  for (const [id, fn] of resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
    const p = fn.Properties ?? {};
    const functionName = p.FunctionName === undefined ? id : resolveValue(p.FunctionName, `${id}: FunctionName`, template, install);
    const resolve = (value: unknown, what: string) => resolveValue(value, `${functionName}: ${what}`, template, install);
    const feeding = mappings.filter(([, m]) => feeds(m, id, functionName, resolve));
    if (!feeding.length) continue; // not an event consumer (none in today's stack)
    const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
    out.push({
      functionName,
      name: functionName.startsWith(`${install.prefix}-`) ? functionName.slice(install.prefix.length + 1) : functionName,
      codeDir: codeDir(fn, functionName, stack),
      handler: required(p.Handler, functionName, 'Handler'),
      runtime: required(p.Runtime, functionName, 'Runtime'),
      timeoutSeconds: Number(p.Timeout ?? DEFAULT_TIMEOUT_SECONDS),
      memoryMb: Number(p.MemorySize ?? DEFAULT_MEMORY_MB),
      environment: Object.fromEntries(Object.entries(variables).map(([name, v]) => [name, resolve(v, name)])),
      eventSources: feeding.map(([mappingId, m]) => {
        const arn = resolve(m.Properties?.EventSourceArn, `event source ${mappingId}`);
        if (!arn.startsWith('arn:aws:sqs:')) throw new UnresolvableValueError(`${functionName}: event source ${mappingId}`, `${arn} is not an SQS queue`);
        return {
          queueUrl: queueUrl(queueName(arn), `${functionName}: event source ${mappingId}`, install),
          batchSize: Number(m.Properties?.BatchSize ?? DEFAULT_BATCH_SIZE),
        };
      }),
    });
  }
  return out;
}

/** A mapping names its function by `Ref` (as CDK writes it) or by name. */
function feeds(mapping: CfnResource, id: string, functionName: string, resolve: (v: unknown, what: string) => string): boolean {
  const target = mapping.Properties?.FunctionName as { Ref?: string } | string | undefined;
  if (typeof target === 'object' && target?.Ref) return target.Ref === id;
  return resolve(target, 'an event source mapping') === functionName;
}

function codeDir(fn: CfnResource, functionName: string, stack: ShippedStack): string {
  const code = (fn.Properties?.Code ?? {}) as { S3Key?: unknown };
  const dir = typeof code.S3Key === 'string' ? stack.assetDirs[code.S3Key] : undefined;
  if (!dir) throw new UnresolvableValueError(`${functionName}: Code`, `not a file asset of the cloud assembly (${JSON.stringify(code)})`);
  return dir;
}

function required(value: unknown, functionName: string, key: string): string {
  if (typeof value !== 'string') throw new UnresolvableValueError(`${functionName}: ${key}`, `missing or not a string (${JSON.stringify(value)})`);
  return value;
}
