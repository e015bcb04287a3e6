import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../events/topology';
import { Deployomat, SlackBotToken, SlackNotifier } from '../../infra/cdk';
import { ACCOUNT, identityPolicies, newApp, newStack, REGION, resolve, roleId, simulate, type CfnTemplate, type Decision } from './helpers';

/**
 * Issue #12, finding 8: the Slack notifier's role, simulated against the synthesized template. It
 * used to write the whole ledger (PutItem/UpdateItem), whose service items hold RoleArn, Plan and
 * ProductionAsgName; now it writes only its own table and reads the ledger (GetItem).
 */
const names = resourceNames();
const tableArn = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
const LEDGER = tableArn(names.table);
const OWN = tableArn(names.slackTable);

let plain: CfnTemplate;
let encrypted: CfnTemplate;

beforeAll(() => {
  const app = newApp();
  const build = (id: string, withKey: boolean) => {
    const stack = newStack(app, id);
    const encryptionKey = withKey ? new kms.Key(stack, 'Key', { enableKeyRotation: true }) : undefined;
    const deployomat = new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme', encryptionKey });
    const secret = new secretsmanager.Secret(stack, 'SlackToken');
    new SlackNotifier(stack, 'Slack', { deployomat, token: SlackBotToken.fromSecret(secret), channel: '#deploys' });
    return stack;
  };
  const stacks = [build('Slack', false), build('SlackEncrypted', true)];
  [plain, encrypted] = stacks.map((s) => Template.fromStack(s).toJSON() as CfnTemplate) as [CfnTemplate, CfnTemplate];
});

/** The notifier's role asking for `actions` on `resource`, with its own identity policies. */
async function decisions(template: CfnTemplate, resource: string, actions: readonly string[]): Promise<Record<string, Decision>> {
  const id = roleId(template, 'SlackRole');
  const principal = resolve({ 'Fn::GetAtt': [id, 'Arn'] }, template) as string;
  const identity = identityPolicies(template, id);
  return Object.fromEntries(await Promise.all(actions.map(async (action) => [action, await simulate({ principal, action, resource, identity })])));
}

const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;
const deniedAll = (actions: readonly string[]) => Object.fromEntries(actions.map((a) => [a, 'ImplicitlyDenied']));

describe('Finding 8: the Slack notifier cannot rewrite control-plane state', () => {
  it.each([
    ['without', () => plain],
    ['with', () => encrypted],
  ])('denies it every write to the ledger table (%s a customer managed key)', async (_, template) => {
    expect(await decisions(template(), LEDGER, WRITES)).toEqual(deniedAll(WRITES));
  });

  it('lets it read only single ledger items (SkipNotifications of a deploy whose request it did not see)', async () => {
    expect(await decisions(plain, LEDGER, ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem'])).toEqual({
      'dynamodb:GetItem': 'Allowed',
      'dynamodb:Query': 'ImplicitlyDenied',
      'dynamodb:Scan': 'ImplicitlyDenied',
      'dynamodb:BatchGetItem': 'ImplicitlyDenied',
    });
  });

  it('lets it keep its messages in its own table: get, put and update items, nothing more', async () => {
    expect(await decisions(plain, OWN, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'])).toEqual({
      'dynamodb:GetItem': 'Allowed',
      'dynamodb:PutItem': 'Allowed',
      'dynamodb:UpdateItem': 'Allowed',
      'dynamodb:DeleteItem': 'ImplicitlyDenied',
      'dynamodb:Scan': 'ImplicitlyDenied',
    });
    expect(await decisions(encrypted, OWN, ['dynamodb:PutItem'])).toEqual({ 'dynamodb:PutItem': 'Allowed' });
  });

  it('touches no other table', async () => {
    const actions = ['dynamodb:GetItem', ...WRITES];
    expect(await decisions(plain, tableArn('other'), actions)).toEqual(deniedAll(actions));
  });
});
