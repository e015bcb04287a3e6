import { catalog, isDetailType, type Detail, type DetailType } from '../../events/catalog';
import { EventEnvelope } from '../../events/envelope';
import { DeployomatUpdate, PROGRESS_DETAIL_TYPE, PROGRESS_SOURCE } from '../../events/progress';

/**
 * An event as the notifier sees it: its EventBridge id and time, and its validated detail — a
 * catalog event, or a progress update someone else published (events/progress.ts).
 */
export type NotifyEvent =
  | {
      [T in DetailType]: { id: string; time: string; type: T; detail: Detail<T> };
    }[DetailType]
  | { id: string; time: string; type: typeof PROGRESS_DETAIL_TYPE; detail: DeployomatUpdate };

export type Parsed = { ok: true; event: NotifyEvent } | { ok: false; reason: string };

/**
 * Reads an SQS message body as a Deployomat event. Archive replays are refused (the rule already
 * excludes them; this is the second lock: history must never post to Slack again), and so is
 * anything that is not a catalog event or a progress update with a valid detail.
 */
export function parseNotifyEvent(body: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const envelope = EventEnvelope.safeParse(json);
  if (!envelope.success) return { ok: false, reason: 'not an EventBridge event' };
  const e = envelope.data;
  if (e['replay-name']) return { ok: false, reason: `archive replay ${e['replay-name']}` };
  const type = e['detail-type'];
  if (type === PROGRESS_DETAIL_TYPE) {
    if (e.source !== PROGRESS_SOURCE) return { ok: false, reason: `${type} from unexpected source ${e.source}` };
    const update = DeployomatUpdate.safeParse(e.detail);
    if (!update.success) return { ok: false, reason: `${type} detail does not match its schema` };
    return { ok: true, event: { id: e.id, time: e.time, type, detail: update.data } };
  }
  if (!isDetailType(type)) return { ok: false, reason: `unknown detail-type ${type}` };
  if (e.source !== catalog[type].source) return { ok: false, reason: `${type} from unexpected source ${e.source}` };
  const detail = catalog[type].schema.safeParse(e.detail);
  if (!detail.success) return { ok: false, reason: `${type} detail does not match its schema` };
  return { ok: true, event: { id: e.id, time: e.time, type, detail: detail.data } as NotifyEvent };
}
