import { startDeploy } from '../domain/steps/start-deploy';
import { envelopeHandler } from './sqs-handler';

/** DeployRequested → AsgCloned (or DeployRejected). Gets the raw envelope: validating it is its job. */
export const handler = envelopeHandler('start-deploy', (envelope, ctx) => startDeploy(ctx, envelope));
