import { recordEvent } from '../domain/audit';
import { envelopeHandler } from './sqs-handler';

/**
 * Every event (archive replays included) → the audit history in the ledger table, filed by when
 * its queue received it unless its own time is plausible (domain/audit.ts). Never touches AWS resources.
 */
export const handler = envelopeHandler('record-history', (envelope, ctx, { receivedAt }) =>
  recordEvent(ctx.cp.dynamo, ctx.cfg.tableName, envelope, receivedAt),
);
