import { z } from 'zod';
import { AccountSlug, ServiceName } from '../../events/names';
import { println, type Context } from '../context';
import { EXIT } from '../errors';
import { listDeploys } from '../ledger';
import { KEY_FLAGS, toNumber, validate } from '../options';

const HistoryArgs = z.object({
  AccountCanonicalSlug: AccountSlug,
  ServiceName,
  Limit: z.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive'),
});

/** history: a service's past deploys from the ledger's `DEPLOY#` items, newest first. */
export async function history(ctx: Context, o: { account?: string; service?: string; limit?: string }): Promise<number> {
  const args = validate(HistoryArgs, { AccountCanonicalSlug: o.account, ServiceName: o.service, Limit: toNumber(o.limit ?? '20') }, { ...KEY_FLAGS, Limit: '--limit' });
  const key = { account: args.AccountCanonicalSlug, service: args.ServiceName };
  const items = (await listDeploys(ctx.aws, key)).slice(0, args.Limit);
  if (!items.length) {
    println(ctx.stdout, `No deploys of ${key.service} in ${key.account} in the ledger.`);
    return EXIT.ok;
  }
  const rows = items.map((d) => [
    String(d.DeployId ?? '?'),
    typeof d.Result === 'string' ? d.Result : `${String(d.Phase ?? '?')}…`,
    duration(d),
    time(d.StartedAt),
    time(d.FinishedAt),
    ami(d),
  ]);
  const header = ['DEPLOY ID', 'RESULT', 'DURATION', 'STARTED', 'FINISHED', 'AMI (REQUESTED → RESOLVED)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  println(ctx.stdout, format(header));
  items.forEach((d, i) => {
    println(ctx.stdout, format(rows[i]!));
    const errors = Array.isArray(d.Errors) ? d.Errors.map(String) : [];
    for (const e of errors) println(ctx.stdout, `    error: ${e}`);
    if (d.CancelReason) println(ctx.stdout, `    cancelled: ${String(d.CancelReason)}`);
    if (d.RequestedBy) println(ctx.stdout, `    requested by: ${String(d.RequestedBy)}`);
  });
  return EXIT.ok;
}

function duration(d: Record<string, unknown>): string {
  if (typeof d.DurationSeconds === 'number') return `${d.DurationSeconds.toFixed(1)} s`;
  const started = Date.parse(String(d.StartedAt ?? ''));
  const end = Date.parse(String(d.FinishedAt ?? ''));
  if (Number.isNaN(started)) return '-';
  return Number.isNaN(end) ? `${Math.round((Date.now() - started) / 1000)} s so far` : `${((end - started) / 1000).toFixed(1)} s`;
}

const time = (v: unknown) => (typeof v === 'string' && v ? v.replace(/\.\d{3}Z$/, 'Z') : '-');

function ami(d: Record<string, unknown>): string {
  const requested = String(d.AmiId ?? '?');
  const resolved = typeof d.ResolvedAmiId === 'string' ? d.ResolvedAmiId : undefined;
  return resolved && resolved !== requested ? `${requested} → ${resolved}` : requested;
}
