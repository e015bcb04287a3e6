import { GetCommand, QueryCommand, ScanCommand, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { ServiceState } from '../domain/ledger';
import { percentAtStep } from '../domain/weights';
import type { Aws } from './aws';
import type { HeldView, PausedView } from './render';

/**
 * Read-only views of the ledger (domain/ledger.ts): the service item `SERVICE` and the history
 * items `DEPLOY#<id>` under pk `<slug>#<service>`.
 */
export interface ServiceKey {
  account: string;
  service: string;
}

const pk = (k: ServiceKey) => `${k.account}#${k.service}`;

/** A service item, parsed; `raw` when it does not match the schema this CLI knows. */
export type ServiceRecord = { ok: true; state: ServiceState } | { ok: false; raw: Record<string, unknown>; problem: string };

function toRecord(item: Record<string, unknown>): ServiceRecord {
  const parsed = ServiceState.safeParse(item);
  return parsed.success ? { ok: true, state: parsed.data } : { ok: false, raw: item, problem: parsed.error.issues[0]?.message ?? 'unreadable' };
}

async function read<T>(aws: Aws, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw await aws.explain(err, 'table');
  }
}

export async function getService(aws: Aws, key: ServiceKey): Promise<ServiceRecord | undefined> {
  const out = await read(aws, () => aws.ledger().send(new GetCommand({ TableName: aws.options.table, Key: { pk: pk(key), sk: 'SERVICE' }, ConsistentRead: true })));
  return out.Item ? toRecord(out.Item) : undefined;
}

/** Service items, optionally of one account; a Scan (the ledger has no index by account). */
export async function listServices(aws: Aws, account?: string): Promise<ServiceRecord[]> {
  const input: ScanCommandInput = {
    TableName: aws.options.table,
    FilterExpression: account ? 'sk = :service AND begins_with(pk, :account)' : 'sk = :service',
    ExpressionAttributeValues: { ':service': 'SERVICE', ...(account && { ':account': `${account}#` }) },
  };
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await read(aws, () => aws.ledger().send(new ScanCommand({ ...input, ExclusiveStartKey: start })));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.map(toRecord);
}

/** A deploy's history item (`DEPLOY#<id>`). */
export async function getDeploy(aws: Aws, key: ServiceKey, deployId: string): Promise<Record<string, unknown> | undefined> {
  const out = await read(aws, () =>
    aws.ledger().send(new GetCommand({ TableName: aws.options.table, Key: { pk: pk(key), sk: `DEPLOY#${deployId}` }, ConsistentRead: true })),
  );
  return out.Item;
}

/** Every deploy history item of a service, newest first. */
export async function listDeploys(aws: Aws, key: ServiceKey): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await read(aws, () =>
      aws.ledger().send(
        new QueryCommand({
          TableName: aws.options.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :deploy)',
          ExpressionAttributeValues: { ':pk': pk(key), ':deploy': 'DEPLOY#' },
          ExclusiveStartKey: start,
        }),
      ),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => String(b.StartedAt ?? '').localeCompare(String(a.StartedAt ?? '')));
}

/** A paused rollout as the ledger records it (the same shape a follower builds from RolloutPaused). */
export function pausedOf(s: ServiceState): PausedView | undefined {
  if (s.Phase !== 'Paused' || !s.Paused) return undefined;
  const since = Date.parse(s.Paused.Since);
  const timeout = s.Request.Config.PauseTimeout;
  return {
    step: s.Progress?.Step ?? 0,
    percent: s.Paused.FromPhase === 'Baking' ? 100 : (s.Progress?.Percent ?? 0),
    by: s.Paused.By,
    reason: s.Paused.Reason,
    since,
    // As RolloutPaused announced it (domain/pause.ts); a pause before 0.2 recorded only its PauseTimeout.
    rollbackAt: s.Paused.RollbackAt ? Date.parse(s.Paused.RollbackAt) : timeout !== undefined ? since + timeout * 1000 : undefined,
  };
}

/** The traffic step held for capacity, if one is (the ledger keeps since when, not the counts). */
export function heldOf(s: ServiceState): HeldView | undefined {
  if (s.Phase !== 'Shifting' || !s.Progress?.HeldSince) return undefined;
  const step = s.Progress.Step + 1;
  let percent: number;
  try {
    percent = s.Promoted && s.Plan ? 100 : percentAtStep(step, s.Request.Config.TrafficShiftPerStep);
  } catch {
    return undefined;
  }
  return { step: s.Promoted && s.Plan ? s.Plan.Steps : step, percent, since: Date.parse(s.Progress.HeldSince) };
}
