/**
 * The notifier's own table, as the CDK `SlackNotifier` and the local provisioning create it and
 * ./conversation.ts writes it. No dependencies, so the CDK code can import it.
 */
export const SLACK_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB deletes an item: the ledger's history retention (`expiresAt`). */
  ttlAttribute: 'ExpiresAt',
} as const;
