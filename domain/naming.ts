/**
 * Names of what a deploy creates. They are deterministic (derived from the deploy's start time,
 * stored in the ledger), so a redelivered message finds what an earlier attempt created.
 */

/** `20261126T171731Z`: the original's UTC timestamp suffix. */
export function deployTimestamp(startedAt: Date): string {
  return startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** ASG names allow 255 characters; the service name is at most 64 (events/names.ts). */
export function asgName(service: string, timestamp: string): string {
  return `${service}-${timestamp}`;
}

/** Target group names: at most 32 characters of [A-Za-z0-9-], not starting or ending with `-`. */
export function targetGroupName(service: string, timestamp: string): string {
  const head = service.slice(0, 15).replace(/[^A-Za-z0-9-]/g, '-').replace(/^-+/, '');
  return `${head || 'svc'}-${timestamp}`.slice(0, 32);
}

export function templateAsgName(service: string): string {
  return `${service}-template`;
}
