import { controlRollout } from '../domain/steps/control-rollout';
import { envelopeHandler } from './sqs-handler';

/** PauseRequested / ResumeRequested / PromoteRequested → RolloutPaused / RolloutResumed / RolloutPromoted (or RolloutCommandRejected). */
export const handler = envelopeHandler('control-rollout', (envelope, ctx) => controlRollout(ctx, envelope));
