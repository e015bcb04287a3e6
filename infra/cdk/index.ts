/**
 * Deployomat's CDK constructs. Which goes in which account, and the IAM model: docs/INFRA.md.
 */
export { BusAuditTrail, type BusAuditTrailProps } from './audit-trail';
export { CiParameters, type CiParametersProps } from './ci-parameters';
export {
  DEFAULT_DEPLOY_ACCESS_ROLE_NAME,
  DEPLOY_ROLE_DESCRIBE_ACTIONS,
  DEPLOY_ROLE_VIA_SERVICE_ACTIONS,
  DeployAccessRole,
  type DeployAccessRoleProps,
} from './deploy-access-role';
export { DeployerRole, type DeployerRoleProps } from './deployer-role';
export {
  CLIENT_COMMANDS,
  Deployomat,
  LEDGER_TTL_ATTRIBUTE,
  SCHEDULED_COMMANDS,
  type DeployomatProps,
  type LogLevel,
} from './deployomat';
export { DEFAULT_HANDLER_RUNTIME } from './common';
export { HandlerQueue, type HandlerQueueProps } from './handler-queue';
export { MetaAccessRole, type MetaAccessRoleProps } from './meta-access-role';
export { buildSampleApp, type SampleAppOptions } from './sample-app';
export { DEFAULT_NOTIFIED, SLACK_ENV, SlackBotToken, SlackNotifier, type SlackNotifierProps } from './slack-notifier';
