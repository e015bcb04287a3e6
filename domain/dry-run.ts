import type { DeployRequested } from '../events/client';
import { requestHash, type DryRunWindow } from './ledger';

/**
 * The dry-run limit. A dry run only reads, but it reads the workload account (STS, SSM, EC2, ELB,
 * Auto Scaling), whose API quotas every team deploying there shares: a flood of them would
 * throttle real deploys. So a service has one dry-run window at a time
 * (`DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS`), opened by a conditional write in the ledger
 * (Ledger.openDryRunWindow): the dry run that opens it is planned; until it closes, an identical
 * request is dropped (the answer to the first, under the same DeployId, answers it too) and any
 * other one is rejected, saying when to retry. Rejected at once, not queued: a queue would let a
 * flood run up a backlog that is planned long after anyone is still waiting for the answer.
 */

/** The window `request` would open at `now` (epoch ms). */
export function dryRunWindow(request: DeployRequested, deployId: string, eventId: string, now: number, intervalSeconds: number): DryRunWindow {
  return {
    DeployId: deployId,
    EventId: eventId,
    RequestHash: requestHash({ ...request, DeployId: deployId }),
    OpenedAt: new Date(now).toISOString(),
    Until: now + intervalSeconds * 1000,
  };
}

export type DryRunDecision =
  | { kind: 'plan' }
  | { kind: 'drop'; holder: DryRunWindow }
  | { kind: 'reject'; reason: string; retryAt: string };

/**
 * Pure: what becomes of the dry run that tried to open `mine`. `claim` is the ledger's answer:
 * opened, or not, with the window's holder (unknown if DynamoDB did not return it).
 */
export function decideDryRun(
  mine: DryRunWindow,
  claim: { opened: true } | { opened: false; holder?: DryRunWindow },
  ctx: { where: string; intervalSeconds: number; now: number },
): DryRunDecision {
  if (claim.opened) return { kind: 'plan' };
  const holder = claim.holder;
  // A redelivery of the dry run that holds the window (it failed, or its answer may not have gone out).
  if (holder?.EventId === mine.EventId) return { kind: 'plan' };
  if (holder?.RequestHash === mine.RequestHash) return { kind: 'drop', holder };
  const retryAt = new Date(holder?.Until ?? ctx.now + ctx.intervalSeconds * 1000).toISOString();
  const last = holder ? `dry run ${holder.DeployId} of ${ctx.where} was planned at ${holder.OpenedAt}` : `a dry run of ${ctx.where} was planned moments ago`;
  return {
    kind: 'reject',
    reason: `Too many dry runs: ${last}, and one is planned per ${ctx.intervalSeconds} s (DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS); retry after ${retryAt}`,
    retryAt,
  };
}
