/**
 * Errors of the local runtime's bundle mode (running the bundles the CDK stack ships). Each says
 * what failed and what to do about it.
 */
export class ShippedBundleError extends Error {
  override name = 'ShippedBundleError';
}

/** The Lambda runtime's Node binary could not be installed or is not the runtime's major. */
export class LambdaNodeError extends ShippedBundleError {
  override name = 'LambdaNodeError';
}

/**
 * A value of the synthesized template (an environment variable, an event source) that the local
 * installation cannot stand for: the stack refers to something the emulator does not have, or
 * uses an intrinsic the local runtime does not evaluate.
 */
export class UnresolvableValueError extends ShippedBundleError {
  override name = 'UnresolvableValueError';
  constructor(
    /** Where the value is used, e.g. `deployomat-start-deploy: DEPLOYOMAT_TABLE_NAME`. */
    readonly where: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${where}: ${reason}`, options);
  }
}

/** A bundle that does not load, or whose handler export is missing: a bundling problem. */
export class BundleInitError extends ShippedBundleError {
  override name = 'BundleInitError';
}
