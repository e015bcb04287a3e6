/** Base of every error Deployomat raises on purpose. */
export class DeployomatError extends Error {
  override name = 'DeployomatError';
}

/**
 * The request cannot be carried out as asked and nothing has been changed yet: the deploy ends
 * with `DeployRejected` and these reasons.
 */
export class RejectedError extends DeployomatError {
  override name = 'RejectedError';
  constructor(
    readonly reasons: string[],
    options?: ErrorOptions,
  ) {
    super(reasons.join('; '), options);
  }
}

/**
 * An expected failure once the deploy has started (health timeout, a missing exemplar rule…):
 * the deploy ends with `DeployFailed` carrying this message. Retrying would not help.
 */
export class DeployFailure extends DeployomatError {
  override name = 'DeployFailure';
}

/** A configuration problem of the installation (env vars), not of one deploy. */
export class ConfigError extends DeployomatError {
  override name = 'ConfigError';
}

/** The ledger moved on while a step was working (it was cancelled or rolled back): stop quietly. */
export class SupersededError extends DeployomatError {
  override name = 'SupersededError';
  constructor(readonly ref: { DeployId: string; Seq: number }) {
    super(`deploy ${ref.DeployId} is no longer at position ${ref.Seq}`);
  }
}
