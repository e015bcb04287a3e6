/**
 * Names of what a deploy creates. They are deterministic (derived from the deploy's start time,
 * stored in the ledger), so a redelivered message finds what an earlier attempt created.
 */

/** `20261126T171731Z`: the original's UTC timestamp suffix. */
export function deployTimestamp(startedAt: Date): string {
  return startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Inverse of deployTimestamp. */
export function parseDeployTimestamp(timestamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(timestamp);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

/**
 * The name timestamp for a new deploy: now, but always at least a second after the previous
 * deploy's, so two deploys of a service within one second never get the same names.
 */
export function nextDeployTimestamp(now: Date, previous: string | undefined): string {
  const prev = previous ? parseDeployTimestamp(previous) : undefined;
  return deployTimestamp(prev && prev.getTime() + 1000 > now.getTime() ? new Date(prev.getTime() + 1000) : now);
}

/** ASG names allow 255 characters; the service name is at most 191 (events/names.ts). */
export function asgName(service: string, timestamp: string): string {
  return `${service}-${timestamp}`;
}

/** A template ASG may carry this many target groups (each is cloned; names take a one-digit index). */
export const MAX_TARGET_GROUPS = 5;

/**
 * Target group names: at most 32 characters of [A-Za-z0-9-], not starting or ending with `-`.
 * The first clone keeps the original's name; the template's further groups get `-<index>`.
 */
export function targetGroupName(service: string, timestamp: string, index = 0): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_TARGET_GROUPS) {
    throw new RangeError(`target group index must be an integer in 0..${MAX_TARGET_GROUPS - 1}, got ${index}`);
  }
  const suffix = index ? `-${index}` : '';
  const head = service.slice(0, 15 - suffix.length).replace(/[^A-Za-z0-9-]/g, '-').replace(/^-+/, '');
  return `${head || 'svc'}${suffix}-${timestamp}`.slice(0, 32);
}

export function templateAsgName(service: string): string {
  return `${service}-template`;
}
