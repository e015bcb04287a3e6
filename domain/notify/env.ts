/**
 * The environment variables of the Slack notifier (handlers/notify-slack.ts): set by the CDK
 * `SlackNotifier` construct, or by hand for the local runtime. No dependencies, so the CDK code
 * can import the names without the Slack client.
 */
export const NOTIFIER_ENV = {
  /** The notifier's own table: its messages, thread replies and notices. The only table it writes. */
  slackTable: 'DEPLOYOMAT_SLACK_TABLE_NAME',
  /**
   * The ledger table (the handlers' `DEPLOYOMAT_TABLE_NAME`), read only: SkipNotifications of a
   * deploy whose request the notifier did not see first.
   */
  ledgerTable: 'DEPLOYOMAT_TABLE_NAME',
  /** The channel to post to: a channel id (`C0123…`) or name; the bot must be a member. */
  channel: 'DEPLOYOMAT_SLACK_CHANNEL',
  /** The bot token itself: for local runs and tests only. */
  token: 'SLACK_BOT_TOKEN',
  /** Or an SSM SecureString parameter holding it, read at cold start. */
  tokenParameterName: 'SLACK_BOT_TOKEN_PARAMETER_NAME',
  /** Or a Secrets Manager secret holding it, read at cold start (through Parameter Store's secret references). */
  tokenSecretArn: 'SLACK_BOT_TOKEN_SECRET_ARN',
  /** Base URL of the Slack Web API (a local stand-in in tests). @default https://slack.com/api/ */
  apiUrl: 'SLACK_API_URL',
} as const;
