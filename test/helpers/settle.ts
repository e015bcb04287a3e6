import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { controlPlaneClients } from '../../domain/aws/clients';
import type { LocalInstallation } from '../../infra/local/provision';

/**
 * Messages waiting or in flight in every handler queue and dead-letter queue, by queue (only the
 * non-empty ones). Delayed messages (timers not yet due, e.g. a deploy's deadline) do not count.
 * A handler that keeps failing on a message shows here: the message stays in flight between its
 * retries, then lands in a dead-letter queue.
 */
export async function queuedMessages(install: LocalInstallation): Promise<Record<string, number>> {
  const sqs = controlPlaneClients().sqs;
  const urls: [string, string][] = [
    ...Object.entries(install.queueUrls),
    ...Object.entries(install.deadLetterQueueUrls).map(([handler, url]): [string, string] => [`${handler} (dead letters)`, url]),
  ];
  const counts = await Promise.all(
    urls.map(async ([name, url]) => {
      const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return [name, Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)] as const;
    }),
  );
  return Object.fromEntries(counts.filter(([, n]) => n > 0));
}

/**
 * Waits until every queue has been empty at two checks in a row (every handler is done), at most
 * `timeoutMs`; returns what was still queued then ({} = all done).
 */
export async function waitUntilQuiet(install: LocalInstallation, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  let queued: Record<string, number> = {};
  for (let quiet = 0; quiet < 2 && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 400));
    queued = await queuedMessages(install);
    quiet = Object.keys(queued).length ? 0 : quiet + 1;
  }
  return queued;
}
