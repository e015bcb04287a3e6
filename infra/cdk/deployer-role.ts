import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { addStatement, assertAccountIds, assertExternalId, assertSegment } from './common';
import type { DetailType } from '../../events/catalog';
import type { Deployomat } from './deployomat';

export interface DeployerRoleProps {
  /** The installation whose bus, history and logs the role may use. */
  readonly deployomat: Deployomat;
  /**
   * Accounts whose principals may assume the role (people, CI). The role trusts each account as a
   * whole: IAM policies there decide who may assume it.
   */
  readonly userAccountIds: readonly string[];
  /**
   * The client commands the role may publish, e.g. `['DeployRequested', 'CancelRequested']` for CI,
   * with undeploy and promote given to another role. Every other command is denied to it by the bus policy.
   * @default every client command
   */
  readonly commands?: readonly DetailType[];
  /**
   * Name of the role.
   * @default 'DeployomatDeployer'
   */
  readonly roleName?: string;
  /**
   * An external id callers must present (`aws sts assume-role --external-id`).
   * @default none required
   */
  readonly externalId?: string;
  /**
   * Callers must set a source identity (`aws sts assume-role --source-identity alice`), or carry one
   * from the session they assume the role with. It cannot be changed later in the session or in
   * any role it goes on to assume, and CloudTrail records it with every call, the PutEvents of a
   * command included (see `auditTrail` on `Deployomat`). `false` trusts sessions without one, as
   * before 0.2 (see docs/SECURITY.md for the risk).
   * @default true
   */
  readonly requireSourceIdentity?: boolean;
}

/**
 * In the CI/CD account: the role people and CI assume to deploy. It may publish the client
 * commands (`DeployRequested`, `CancelRequested`, `UndeployRequested`, `PauseRequested`, `ResumeRequested`,
 * `PromoteRequested`: source `deployomat.client`, every command of the catalog)
 * to the bus and nothing else — never a lifecycle event — and read deploy history and the
 * handlers' logs. Path `/<org>/ci-service-role/`, as the original. Trusted by the user accounts,
 * for sessions that name who they are (`sts:SourceIdentity`, unless `requireSourceIdentity: false`).
 */
export class DeployerRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DeployerRoleProps) {
    super(scope, id);
    assertAccountIds('userAccountIds', props.userAccountIds);
    const org = props.deployomat.organizationPrefix;
    assertSegment('organizationPrefix', org);
    assertExternalId(props.externalId);

    type Conditions = Record<string, Record<string, string>>;
    const externalId: Conditions = props.externalId ? { StringEquals: { 'sts:ExternalId': props.externalId } } : {};
    const principals = (conditions: Conditions) =>
      props.userAccountIds.map((account) =>
        Object.keys(conditions).length ? new iam.AccountPrincipal(account).withConditions(conditions) : new iam.AccountPrincipal(account),
      );
    // Null false: the key must be there. A session without a source identity has none.
    const sourceIdentity: Conditions = props.requireSourceIdentity === false ? {} : { Null: { 'sts:SourceIdentity': 'false' } };
    this.role = new iam.Role(this, 'Resource', {
      roleName: props.roleName ?? 'DeployomatDeployer',
      path: `/${org}/ci-service-role/`,
      description: `Starts, cancels and undeploys with ${props.deployomat.serviceName}; reads its history and logs`,
      assumedBy: new iam.CompositePrincipal(...principals({ ...externalId, ...sourceIdentity })),
    });
    // Setting a source identity, or assuming the role from a session that carries one, needs this too.
    this.role.assumeRolePolicy!.addStatements(
      new iam.PolicyStatement({ sid: 'SetSourceIdentity', actions: ['sts:SetSourceIdentity'], principals: principals(externalId) }),
    );
    props.deployomat.grantPublishCommands(this.role, props.commands);
    props.deployomat.grantReadHistory(this.role);
    props.deployomat.grantReadLogs(this.role);
    this.grantFollow(props.deployomat);
  }

  /**
   * What the CLI's `--wait` and `watch` need: a temporary rule on the bus and a queue it feeds,
   * both named `<bus>-cli-*` (created before publishing, deleted on exit), and `status` listing
   * services (a Scan of the ledger).
   */
  private grantFollow(deployomat: Deployomat): void {
    const stack = Stack.of(this);
    const prefix = `${deployomat.eventBus.eventBusName}-cli-`;
    const why = 'The CLI creates one temporary rule and queue per --wait/watch, named <bus>-cli-<random>; the wildcard is that prefix only.';
    const rules = stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${deployomat.eventBus.eventBusName}/${prefix}*` });
    const queues = stack.formatArn({ service: 'sqs', resource: `${prefix}*` });
    addStatement(this.role, { sid: 'FollowWithTemporaryRule', actions: ['events:PutRule', 'events:RemoveTargets', 'events:DeleteRule'], resources: [rules] }, why);
    // A temporary rule sees every event of a service: it may feed the CLI's own queue, nothing
    // else (not another account's queue or bus, not a function). Every target of the call must match.
    addStatement(
      this.role,
      {
        sid: 'TargetOwnTemporaryQueue',
        actions: ['events:PutTargets'],
        resources: [rules],
        conditions: { 'ForAllValues:ArnLike': { 'events:TargetArn': [queues] }, Null: { 'events:TargetArn': 'false' } },
      },
      why,
    );
    addStatement(
      this.role,
      {
        sid: 'FollowWithTemporaryQueue',
        actions: ['sqs:CreateQueue', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:DeleteQueue'],
        resources: [queues],
      },
      why,
    );
    // A killed CLI leaves its rule behind, and the bus has a quota of 300 rules (issue #12,
    // finding 10): each CLI removes the stale ones with the grants above, found with these two.
    addStatement(
      this.role,
      {
        sid: 'FindStaleTemporaryRules',
        actions: ['events:ListRules', 'sqs:ListQueues'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestedRegion': stack.region } },
      },
      'events:ListRules and sqs:ListQueues support no resource-level permissions; they read names and descriptions only, in this region.',
    );
    addStatement(this.role, { sid: 'ListServices', actions: ['dynamodb:Scan'], resources: [deployomat.table.tableArn] });
  }
}
