import { relayTimer } from '../domain/timer-relay';
import { sqsHandler } from './sqs-handler';

/** Timer queue → the delayed event, published on the bus when due. */
export const handler = sqsHandler('relay-timer', (record, log) => relayTimer(record.body, log));
