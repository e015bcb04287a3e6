import { deadLetter } from '../domain/steps/dead-letter';
import { sqsHandler, stepContext } from './sqs-handler';

/** Every handler's dead-letter queue → roll back the deploy the message belonged to (DeployFailed). */
export const handler = sqsHandler('dead-letter', (record, log) => deadLetter(stepContext(log, record.messageId), record));
