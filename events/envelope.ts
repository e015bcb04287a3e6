import { z } from 'zod';

/** The EventBridge envelope as an SQS target receives it in the message body. */
export const EventEnvelope = z.object({
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string().optional(),
  time: z.string(),
  region: z.string().optional(),
  detail: z.unknown(),
  /** Set only on events re-sent by an archive replay. */
  'replay-name': z.string().optional(),
});
export type EventEnvelope = z.output<typeof EventEnvelope>;
