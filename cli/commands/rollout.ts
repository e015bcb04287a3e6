import { isActiveDeploy } from '../../domain/ledger';
import type { DetailType } from '../../events/catalog';
import { PauseRequested, PromoteRequested, ResumeRequested } from '../../events/client';
import { println, type Context } from '../context';
import { EXIT } from '../errors';
import { follow, withSubscription, type FollowEvent } from '../follow';
import { getService } from '../ledger';
import { KEY_FLAGS, validate } from '../options';
import { Renderer } from '../render';

export interface RolloutOptions {
  account?: string;
  service?: string;
  deployId?: string;
  reason?: string;
  wait?: boolean;
}

export type RolloutVerb = 'pause' | 'resume' | 'promote';

/** Each verb: the command it publishes and the lifecycle event that says it was applied. */
const VERBS = {
  pause: { command: 'PauseRequested', schema: PauseRequested, applied: 'RolloutPaused' },
  resume: { command: 'ResumeRequested', schema: ResumeRequested, applied: 'RolloutResumed' },
  promote: { command: 'PromoteRequested', schema: PromoteRequested, applied: 'RolloutPromoted' },
} as const satisfies Record<RolloutVerb, { command: DetailType; schema: unknown; applied: DetailType }>;

const FLAGS = { ...KEY_FLAGS, DeployId: '--deploy-id', Reason: '--reason' };

/**
 * pause / resume / promote: publish the command. --wait waits for Deployomat's answer and prints
 * it: RolloutPaused / RolloutResumed / RolloutPromoted (exit 0) or RolloutCommandRejected (exit 1).
 * Neither carries the command's event id: the answer is the first one for this service, of this
 * command (and of --deploy-id, if given), that arrives after publishing — as cancel --wait does.
 */
export function steer(verb: RolloutVerb) {
  return async (ctx: Context, o: RolloutOptions): Promise<number> => {
    const spec = VERBS[verb];
    const request = validate(
      spec.schema,
      { AccountCanonicalSlug: o.account, ServiceName: o.service, DeployId: o.deployId, Reason: o.reason },
      FLAGS,
    );
    const key = { account: request.AccountCanonicalSlug, service: request.ServiceName };
    // Best effort (Deployomat decides and answers): which deploy runs now, to say what is asked.
    const service = await getService(ctx.aws, key).catch(() => undefined);
    const state = service?.ok && isActiveDeploy(service.state.Phase) ? service.state : undefined;
    const running = state && (!request.DeployId || request.DeployId === state.ActiveDeployId) ? state : undefined;
    const where = running?.Progress && running.Plan?.Rollout === 'web' ? `, ${running.Progress.Percent} % on the new version` : '';
    const what = running
      ? `deploy ${running.ActiveDeployId} (${running.Phase}${where})`
      : request.DeployId
        ? `deploy ${request.DeployId}`
        : `the running deploy of ${key.service} in ${key.account}`;
    const publish = () => ctx.aws.publishCommand({ DetailType: spec.command, Detail: request });

    if (!o.wait) {
      const eventId = await publish();
      println(ctx.stdout, `${capitalized(verb)} of ${what} requested (event ${eventId}).`);
      return EXIT.ok;
    }
    return withSubscription(ctx.aws, key, ctx.stderr, async (sub) => {
      const publishedAt = Date.now();
      const eventId = await publish();
      const renderer = new Renderer(ctx.stdout);
      renderer.line(`${verb} of ${what} requested (event ${eventId})`);
      let after: string[] = [];
      const onEvent = (e: FollowEvent): number | undefined => {
        renderer.event(e);
        if (e.receivedAt < publishedAt) return undefined;
        if (e.detailType === 'RolloutCommandRejected' && e.detail.Command === spec.command) {
          after = [`${verb} rejected:`, ...(Array.isArray(e.detail.Reasons) ? e.detail.Reasons : []).map((r) => `  - ${String(r)}`)];
          return EXIT.failed;
        }
        const mine = !request.DeployId || e.detail.DeployId === request.DeployId;
        if (e.detailType === spec.applied && mine && (verb !== 'pause' || e.detail.By === 'request')) {
          after = nextSteps(verb, String(e.detail.DeployId), key);
          return EXIT.ok;
        }
        return undefined;
      };
      // The answer's event can be lost (e.g. a queue purged by hand): a command that moved the
      // ledger is recorded there as the cause of its transition, until the deploy moves on.
      const onQuiet = async () => {
        const now = await getService(ctx.aws, key).catch(() => undefined);
        if (!now?.ok || now.state.OutboxCause !== eventId) return undefined;
        renderer.line(`applied (read from the ledger; its event was not seen): ${now.state.ActiveDeployId} is ${now.state.Phase}`);
        after = nextSteps(verb, now.state.ActiveDeployId, key);
        return EXIT.ok;
      };
      const code = await follow(sub, { onEvent, onQuiet, quietMs: 15_000 });
      renderer.close();
      for (const line of after) println(ctx.stderr, line);
      return code;
    });
  };
}

const capitalized = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`;

/** What to run next, on stderr (stdout keeps the answer). */
function nextSteps(verb: RolloutVerb, deployId: string, key: { account: string; service: string }): string[] {
  const args = `--account ${key.account} --service ${key.service}`;
  const watch = `Follow it with: deployomat watch ${deployId} ${args}`;
  return verb === 'pause' ? [`Continue with: deployomat resume ${args} (or promote, or cancel)`, watch] : [watch];
}
