import { startUndeploy } from '../domain/steps/undeploy';
import { envelopeHandler } from './sqs-handler';

/** UndeployRequested / QueuedUndeployReady → UndeployCompleted (or UndeployRejected). */
export const handler = envelopeHandler('undeploy', (envelope, ctx) => startUndeploy(ctx, envelope));
