import { recordEvent } from '../domain/audit';
import { envelopeHandler } from './sqs-handler';

/** Every event (archive replays included) → the audit history in the ledger table. Never touches AWS resources. */
export const handler = envelopeHandler('record-history', (envelope, ctx) => recordEvent(ctx.cp.dynamo, ctx.cfg.tableName, envelope));
