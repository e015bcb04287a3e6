import { z } from 'zod';
import { AccountSlug, DeployId, ServiceName } from './names';
import { printableText } from './text';

/**
 * Progress updates from outside Deployomat — a CI job, a smoke test — for a deploy's Slack thread:
 * the original's custom update events (its Slack notifier's `custom_update_event_source` and
 * `custom_update_event_detail_type`), with the same source and detail-type. Only the Slack
 * notifier consumes them and no step acts on them, so they are not in the catalog of
 * Deployomat's own events (events/catalog.ts).
 */
export const PROGRESS_SOURCE = 'omat.deploy.update';
export const PROGRESS_DETAIL_TYPE = 'Deployomat Update';
export type ProgressDetailType = typeof PROGRESS_DETAIL_TYPE;

/** Lines to add to the thread of the deploy `DeployId` (the original's `updates`). */
export const DeployomatUpdate = z
  .object({
    AccountCanonicalSlug: AccountSlug,
    ServiceName,
    DeployId,
    Updates: z.array(printableText(500).min(1, 'must not be empty'), { error: 'must be a list of lines' }).min(1, 'must list at least one line').max(10, 'must list at most 10 lines'),
  })
  .strict();
export type DeployomatUpdate = z.output<typeof DeployomatUpdate>;
