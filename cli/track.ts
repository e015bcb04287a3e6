import { println, type Context } from './context';
import { EXIT } from './errors';
import { follow, type FollowEvent, type Subscription } from './follow';
import { getDeploy, type ServiceKey } from './ledger';
import type { Renderer } from './render';

/** Why a deploy's final event is a failure, as printed on stderr. */
function reasonsOf(e: FollowEvent): string[] {
  const d = e.detail;
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  switch (e.detailType) {
    case 'DeployFailed':
      return list(d.Errors);
    case 'DeployRejected':
      return list(d.Reasons);
    case 'DeployCancelled':
      return [String(d.Reason)];
    case 'RollbackFailed':
      return [...list(d.Errors), 'the rollback is stuck: `deployomat cancel` retries it'];
    default:
      return [];
  }
}

const VERDICT: Record<string, string> = {
  DeployFailed: 'failed (rolled back)',
  DeployRejected: 'was rejected (nothing was changed)',
  DeployCancelled: 'was cancelled (rolled back)',
  RollbackFailed: 'could not be rolled back',
};

export interface Outcome {
  code: number;
  /** What to print on stderr (empty on success). */
  lines: string[];
}

/** The outcome a deploy's final event means; undefined for any other event. */
export function deployOutcome(e: FollowEvent, deployId: string): Outcome | undefined {
  if (e.detail.DeployId !== deployId) return undefined;
  if (e.detailType === 'DeployCompleted') return { code: EXIT.ok, lines: [] };
  const verdict = VERDICT[e.detailType];
  if (!verdict) return undefined;
  return { code: EXIT.failed, lines: [`deploy ${deployId} ${verdict}:`, ...reasonsOf(e).map((r) => `  - ${r}`)] };
}

/** The outcome the ledger's history records (for a deploy whose final event was missed, or watch of a finished one). */
export function historyOutcome(item: Record<string, unknown> | undefined, deployId: string): Outcome | undefined {
  const result = item?.Result;
  if (typeof result !== 'string') return undefined;
  if (result === 'Completed') return { code: EXIT.ok, lines: [] };
  const reasons = [...(Array.isArray(item?.Errors) ? item.Errors.map(String) : []), ...(item?.CancelReason ? [String(item.CancelReason)] : [])];
  return { code: EXIT.failed, lines: [`deploy ${deployId} ended ${result}:`, ...reasons.map((r) => `  - ${r}`)] };
}

/** Follows a deploy to its end: renders every event of the service, exits on the deploy's outcome. */
export async function followDeploy(ctx: Context, sub: Subscription, renderer: Renderer, key: ServiceKey, deployId: string): Promise<number> {
  let outcome: Outcome | undefined;
  try {
    const code = await follow(sub, {
      onEvent: (e) => {
        renderer.event(e);
        if (e.detailType === 'RolloutPaused' && e.detail.DeployId === deployId) {
          renderer.line(`continue with: deployomat resume --account ${key.account} --service ${key.service} (or promote, or cancel)`);
        }
        outcome = deployOutcome(e, deployId);
        return outcome?.code;
      },
      onTick: () => renderer.tick(),
      // An event can be lost (e.g. a queue purged by hand): the ledger has the last word.
      onQuiet: async () => {
        outcome = historyOutcome(await getDeploy(ctx.aws, key, deployId).catch(() => undefined), deployId);
        if (outcome) renderer.line(`outcome read from the ledger (its event was not seen): ${outcome.code === EXIT.ok ? 'Completed' : 'not completed'}`);
        return outcome?.code;
      },
    });
    renderer.close();
    for (const line of outcome?.lines ?? []) println(ctx.stderr, line);
    return code;
  } finally {
    renderer.close();
  }
}
