/**
 * Typed CLI errors. Each carries its exit code and says what to fix; main prints the message and
 * the details (one per line) on stderr.
 */
export const EXIT = {
  ok: 0,
  /** The deploy/cancel/undeploy ended badly (failed, cancelled, rejected). */
  failed: 1,
  /** Invalid arguments or options: nothing was published. */
  usage: 2,
  /** Could not talk to Deployomat: credentials, region, bus, table, network. */
  setup: 3,
  /** Ctrl-C while following. */
  interrupted: 130,
} as const;

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string, details: readonly string[] = []) {
    super(message, EXIT.usage, details);
  }
}

export class SetupError extends CliError {
  override name = 'SetupError';
  constructor(message: string, details: readonly string[] = []) {
    super(message, EXIT.setup, details);
  }
}

export interface ErrorContext {
  bus: string;
  table: string;
  region: string;
  profile?: string;
  endpoint?: string;
}

/** Which installation resource the failed call used: tells a missing bus from a missing table. */
export type Resource = 'bus' | 'subscription' | 'table' | 'other';

const ACCESS_HINTS: Record<Resource, (ctx: ErrorContext) => string[]> = {
  bus: (ctx) => [`publishing needs events:PutEvents on bus ${ctx.bus} with source deployomat.client (the DeployerRole grants it)`],
  subscription: (ctx) => [
    `following (--wait, watch) creates a temporary rule and queue: it needs events:PutRule/PutTargets/RemoveTargets/DeleteRule on rules "${ctx.bus}-cli-*"`,
    `and sqs:CreateQueue/GetQueueAttributes/SetQueueAttributes/ReceiveMessage/DeleteMessage/DeleteQueue on queues "${ctx.bus}-cli-*";`,
    'removing those a killed CLI left needs events:ListRules and sqs:ListQueues (on "*": neither has resource-level permissions); the DeployerRole grants all of these',
  ],
  table: (ctx) => [
    `reading the ledger needs dynamodb:GetItem/Query on table ${ctx.table} (the DeployerRole grants them);`,
    'listing services (status without both --account and --service) also needs dynamodb:Scan',
  ],
  other: () => [],
};

const CREDENTIALS_HINT =
  'set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any non-empty values for the local runtime)';

/** Whether an AWS SDK error is IAM's refusal. */
export const isAccessDenied = (err: unknown) => /AccessDenied|AuthorizationError|UnauthorizedOperation/.test((err as { name?: string } | undefined)?.name ?? '');

/** Turns an AWS SDK (or network) error into a CliError saying what to fix; a CliError passes through. */
export function explainAwsError(err: unknown, ctx: ErrorContext, resource: Resource = 'other'): CliError {
  if (err instanceof CliError) return err;
  const e = (err ?? {}) as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  const name = e.name ?? '';
  const message = e.message ?? String(err);
  const code = e.code ?? e.cause?.code ?? '';

  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    const which = ctx.profile ? `profile "${ctx.profile}" gave none` : CREDENTIALS_HINT;
    return new SetupError(`No AWS credentials: ${which}.`, [message]);
  }
  if (name === 'PublishError') {
    const failures = (err as { failures?: { code?: string; message?: string }[] }).failures ?? [];
    const denied = failures.some((f) => /AccessDenied|NotAuthorized/.test(f.code ?? ''));
    return new SetupError(denied ? `Not allowed to publish on bus ${ctx.bus}: ${message}` : message, failures.map((f) => `${f.code}: ${f.message}`));
  }
  if (/Region is missing/i.test(message)) return new SetupError('No AWS region: pass --region or set AWS_REGION.');
  if (/^(UnrecognizedClient|InvalidClientTokenId|InvalidSignature|ExpiredToken|SignatureDoesNotMatch)/.test(name)) {
    return new SetupError(`AWS rejected the credentials (${name}): refresh them (e.g. aws sso login) or pass another --profile.`, [message]);
  }
  if (isAccessDenied(err)) {
    return new SetupError(`Not allowed: ${message}`, ACCESS_HINTS[resource](ctx));
  }
  if (name === 'ResourceNotFoundException' && (resource === 'bus' || resource === 'subscription')) {
    return new SetupError(`Event bus ${ctx.bus} not found in ${ctx.region}; pass --bus or check the installation.`);
  }
  if (name === 'ResourceNotFoundException' && resource === 'table') {
    return new SetupError(`Ledger table ${ctx.table} not found in ${ctx.region}; pass --table or check the installation.`);
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET/.test(`${code} ${message}`)) {
    const where = ctx.endpoint ? `${ctx.endpoint} (is the local runtime running? npm run local)` : `AWS in ${ctx.region}`;
    return new SetupError(`Cannot reach ${where}.`, [message]);
  }
  return new CliError(`${name || 'Error'}: ${message}`, EXIT.failed);
}
