import type { Detail } from '../../events/catalog';
import { workloadAs } from '../aws/clients';
import { refOf, runStep, type StepContext, type StepOutcome } from '../advance';
import { bakeCheck } from '../bake';
import { dueAt, dueTimeOf } from '../emit';
import { assertNoAlarms } from '../gates';

/**
 * BakeCheckDue → during a bake with RollbackAlarms: an alarm in ALARM rolls the deploy back;
 * otherwise the next check, or BakeElapsed once the bake is over.
 */
export async function watchBake(ctx: StepContext, event: Detail<'BakeCheckDue'>) {
  await runStep(ctx, event, async (state): Promise<StepOutcome> => {
    const plan = state.Plan!;
    await assertNoAlarms(await workloadAs(plan.RoleArn, state.ActiveDeployId, state, ctx.cfg.roleExternalId), state.Request.Config, 'During the bake');
    const next = { ...refOf(event), Seq: event.Seq + 1 };
    const due = dueTimeOf(event);
    const endsAt = Date.parse(event.BakeEndsAt);
    if (due >= endsAt) {
      return { phase: 'Baking', emit: [dueAt(endsAt, { DetailType: 'BakeElapsed', Detail: { ...next, BakeTime: state.Request.Config.BakeTime } })] };
    }
    return { phase: 'Baking', emit: [bakeCheck(ctx.cfg, next, due, endsAt)] };
  });
}
