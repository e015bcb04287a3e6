import type { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { isTimerDetailType } from '../events/catalog';
import { publish } from '../events/publish';
import { controlPlaneClients } from './aws/clients';
import { loadConfig } from './config';
import { sendTimer, type TimerMessage } from './emit';

const MAX_FRACTION_WAIT_MS = 1000;

const TimerBody = z.object({
  DueAt: z.string(),
  // Timer events only: whatever else a message on the timer queue names is never published.
  Event: z.object({ DetailType: z.string().refine(isTimerDetailType), Detail: z.unknown() }),
});

/** A timer message became visible after its SQS delay: publish its event on the bus when due. */
export async function relayTimer(body: string, log: Logger): Promise<void> {
  let parsed;
  try {
    parsed = TimerBody.safeParse(JSON.parse(body));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    log.error('Dropping a timer message that is not one (timer queue messages carry timer events only)', { body: body.slice(0, 500) });
    return;
  }
  const timer = parsed.data as TimerMessage;
  const d = timer.Event.Detail as { DeployId?: string; AccountCanonicalSlug?: string; ServiceName?: string };
  const early = Date.parse(timer.DueAt) - Date.now();
  if (early > MAX_FRACTION_WAIT_MS) {
    // Handed over by a long timer's schedule (or more than SQS's 900 s were left): wait on the queue again.
    log.info('Timer not due yet: back to the timer queue', { detailType: timer.Event.DetailType, deployId: d.DeployId, dueAt: timer.DueAt, earlyMs: early });
    await sendTimer(controlPlaneClients(), loadConfig(), timer);
    return;
  }
  // SQS delayed the whole seconds; wait out the fraction here (never more than a second).
  if (early > 0) await new Promise((r) => setTimeout(r, early));
  log.info('Timer due', {
    detailType: timer.Event.DetailType,
    deployId: d.DeployId,
    account: d.AccountCanonicalSlug,
    serviceName: d.ServiceName,
    lateMs: Date.now() - Date.parse(timer.DueAt),
  });
  await publish(controlPlaneClients().events, loadConfig().busName, [timer.Event]);
}
