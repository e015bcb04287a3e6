import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { EXTERNAL_ID_PATTERN } from '../../domain/config';
import { resourceNames } from '../../events/topology';

/** The name Deployomat goes by when no other is given: role parameter name, `Managed` tag value. */
export const DEFAULT_SERVICE_NAME = 'deployomat';

/**
 * The Lambda runtime of every handler unless a construct is given another: Lambda deprecated
 * Node.js 20 on 2026-04-30, and this is the runtime AWS names as its successor. The local runtime's
 * bundle mode runs the bundles under this Node major (infra/local/lambda-node.ts).
 */
export const DEFAULT_HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The ABAC tag Deployomat sets on everything it creates in a workload account (see domain/aws/tags.ts). */
export const MANAGED_TAG = 'Managed';

/** Tags on Deployomat's roles that the cross-account trust policies check (the original's ABAC). */
export const SERVICE_TAG = 'Service';
export const ENVIRONMENT_TAG = 'Environment';

const PATH_SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Organization prefixes, environments, account and service names end up in IAM paths, SSM paths
 * and ARN patterns: one segment, nothing that could widen a pattern (`*`, `/`, `..`).
 */
export function assertSegment(what: string, value: string): void {
  if (!PATH_SEGMENT.test(value) || value.includes('..')) {
    throw new Error(`${what} must be 1-64 characters of A-Z a-z 0-9 _ . - (got "${value}")`);
  }
}

/**
 * An installation prefix names the bus, queues, table, functions, the handlers' role and the audit
 * trail: nothing that could widen an ARN pattern, and nothing one of those names may not be. The
 * trail (`<prefix>-bus-audit`) must start and end with a letter or digit and have no two of `_ -`
 * in a row (CloudTrail), and `default` is the account's own bus (and schedule group).
 */
export function assertPrefix(what: string, prefix: string): void {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9]|[_-](?=[A-Za-z0-9])){0,31}$/.test(prefix) || prefix === 'default') {
    throw new Error(
      `${what} must be 1-32 characters of A-Z a-z 0-9 _ -, start and end with a letter or digit, have no two of _ - in a row, and not be "default" (got "${prefix}")`,
    );
  }
}

const ACCOUNT_ID = /^\d{12}$/;

export function assertAccountIds(what: string, ids: readonly string[]): void {
  if (ids.length === 0) throw new Error(`${what} must name at least one AWS account id`);
  for (const id of ids) {
    // A token (e.g. Stack.of(this).account) is resolved at deploy time.
    if (!Token.isUnresolved(id) && !ACCOUNT_ID.test(id)) throw new Error(`${what} must be 12-digit AWS account ids (got "${id}")`);
  }
}

/**
 * How cdk-nag names a resource in a finding id (`AwsSolutions-IAM5[Resource::<this>]`): literals
 * as they are except IAM policy variables (`${aws:X}` as `<aws:X>`), `{Ref: AWS::Partition}` as
 * `<AWS::Partition>`, `{Ref: X}` as `<X>`, `Fn::GetAtt` as `<X.Attr>`.
 */
export function nagResourceName(scope: IConstruct, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v.replace(/\$\{([^}]+)\}/g, '<$1>');
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.Ref === 'string') return `<${o.Ref}>`;
      if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
      if (Array.isArray(o['Fn::Join'])) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map(render).join(sep);
      }
    }
    throw new Error(`cannot name ${JSON.stringify(v)} as cdk-nag does`);
  };
  return render(Stack.of(scope).resolve(value));
}

/**
 * Adds `statement` to `role`'s policy and acknowledges to cdk-nag, one by one and with `why`, the
 * wildcard resources it contains: any wildcard added without a reason still fails the check.
 */
export function addStatement(role: iam.Role, statement: iam.PolicyStatementProps, why?: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement(statement));
  for (const resource of statement.resources ?? []) {
    if (!resource.includes('*')) continue;
    if (!why) throw new Error(`statement ${statement.sid ?? ''} has the wildcard resource ${resource} but no reason for it`);
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagResourceName(role, resource)}]`, reason: why });
  }
}

/** `sts:ExternalId` values, as the handlers' configuration checks them (EXTERNAL_ID_PATTERN). */
export function assertExternalId(externalId: string | undefined, name = 'externalId'): void {
  if (externalId !== undefined && !EXTERNAL_ID_PATTERN.test(externalId)) {
    throw new Error(`${name} must be 2-1224 characters of A-Z a-z 0-9 + = , . @ : / - _ (got "${externalId}")`);
  }
}

/** An AWS Organizations id (`o-` and 10-32 lowercase letters or digits), as `aws:PrincipalOrgID` and `aws:ResourceOrgID` compare it. */
export function assertOrganizationId(organizationId: string | undefined): void {
  if (organizationId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(organizationId)) {
    throw new Error(`organizationId must be an AWS Organizations id, o- and 10-32 lowercase letters or digits (got "${organizationId}")`);
  }
}

/** How a workload or meta role trusts Deployomat's handlers (DeployAccessRole, MetaAccessRole). */
export interface HandlerTrustProps {
  /** Accounts where Deployomat installations run (the CI/CD accounts). */
  readonly ciCdAccountIds: readonly string[];
  /**
   * The installation prefix of the Deployomat that assumes this role (its `prefix` prop): only its
   * handler role, `<prefix>-handlers` in each CI/CD account, is trusted (`aws:PrincipalArn`).
   * @default 'deployomat'
   */
  readonly deployomatPrefix?: string;
  /**
   * The AWS Organizations id of the CI/CD accounts: callers must belong to it (`aws:PrincipalOrgID`).
   * @default not checked
   */
  readonly organizationId?: string;
  /**
   * Trust any principal of the CI/CD accounts that carries the `Service` and `Environment` tags, as
   * before 0.2, instead of the handler role only. Anyone there who can tag a role can then act as
   * Deployomat here (see docs/SECURITY.md).
   * @default false
   */
  readonly trustTaggedPrincipals?: boolean;
  /**
   * An external id the handlers must present (`sts:ExternalId`): the `roleExternalId` of the
   * Deployomat that assumes this role.
   * @default none required
   */
  readonly externalId?: string;
}

/**
 * The principals a workload or meta role trusts: in each CI/CD account, only Deployomat's handler
 * role (`aws:PrincipalArn`, `<prefix>-handlers`), within the organization when one is given
 * (`aws:PrincipalOrgID`), and only with `conditions` (the tags) on top — or, with
 * `trustTaggedPrincipals`, any principal of those accounts meeting `conditions`.
 * `externalId`: also with the external id (`sts:ExternalId`), when the props give one.
 */
export function handlerCallers(
  scope: IConstruct,
  props: HandlerTrustProps,
  opts: { conditions: Record<string, Record<string, unknown>>; externalId?: boolean },
): iam.PrincipalBase[] {
  assertOrganizationId(props.organizationId);
  assertExternalId(props.externalId);
  const prefix = props.deployomatPrefix ?? 'deployomat';
  assertPrefix('deployomatPrefix', prefix);
  const handlerRole = resourceNames(prefix).handlerRole;
  const partition = Stack.of(scope).partition;
  return props.ciCdAccountIds.map((account) => {
    const conditions: Record<string, Record<string, unknown>> = { ...opts.conditions };
    if (!props.trustTaggedPrincipals) conditions.ArnEquals = { 'aws:PrincipalArn': `arn:${partition}:iam::${account}:role/${handlerRole}` };
    if (props.organizationId) conditions.StringEquals = { ...(conditions.StringEquals ?? {}), 'aws:PrincipalOrgID': props.organizationId };
    if (opts.externalId && props.externalId) conditions.StringEquals = { ...(conditions.StringEquals ?? {}), 'sts:ExternalId': props.externalId };
    return new iam.AccountPrincipal(account).withConditions(conditions);
  });
}

/**
 * The trust of a workload or meta role: the handler callers may assume it with session tags. With
 * an external id, it is required for `sts:AssumeRole` only, and `sts:TagSession` (which only
 * authorizes the tags of that AssumeRole call) has a statement of its own without it: AWS lists no
 * `sts:ExternalId` among TagSession's condition keys, so requiring it there could deny every
 * tagged assume.
 */
export function trustHandlers(
  scope: IConstruct,
  props: HandlerTrustProps,
  opts: { conditions: Record<string, Record<string, unknown>> },
): { assumedBy: iam.IPrincipal; tagSession?: iam.PolicyStatement } {
  const callers = handlerCallers(scope, props, opts);
  if (!props.externalId) return { assumedBy: new iam.CompositePrincipal(...callers.map((c) => c.withSessionTags())) };
  return {
    assumedBy: new iam.CompositePrincipal(...handlerCallers(scope, props, { ...opts, externalId: true })),
    tagSession: new iam.PolicyStatement({ actions: ['sts:TagSession'], principals: callers }),
  };
}
