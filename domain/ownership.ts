import { OWNER_TAG } from './aws/tags';

/**
 * What a deploy would hand to AWS on the service owner's behalf, read before anything is created:
 * the template ASG's service-linked role, the launch template, and the instance roles its
 * profile carries. The workload role's policy enforces the same rules; checking first turns an
 * AccessDenied halfway through into a DeployRejected that says what to fix.
 */
export interface LaunchFacts {
  /** `<account slug>/<service>`: the deploy session's `DeployomatService` tag. */
  owner: string;
  org: string;
  workloadAccountId: string;
  templateAsgName: string;
  /** The template ASG's `ServiceLinkedRoleARN`, if it names one. */
  serviceLinkedRoleArn?: string;
  launchTemplate: { id: string; ownerTag?: string };
  /** The instance profile the deployed version launches with, if any. */
  instanceProfile?: { name: string; found: boolean; roles: { arn: string; path: string; ownerTag?: string }[] };
  /** The installation's `requireOwnerTags`: launch templates and instance roles must carry the owner tag. */
  requireOwnerTags: boolean;
}

const AUTO_SCALING_LINKED_ROLE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/aws-service-role\/autoscaling\.amazonaws\.com\/AWSServiceRoleForAutoScaling(_[\w+=,.@-]+)?$/;

/** Pure: every reason this deploy must not launch, or none. */
export function launchOwnershipProblems(f: LaunchFacts): string[] {
  const reasons: string[] = [];
  const tagAdvice = `tag it ${OWNER_TAG}=${f.owner} if it belongs to this service`;
  if (f.serviceLinkedRoleArn) {
    const m = AUTO_SCALING_LINKED_ROLE.exec(f.serviceLinkedRoleArn);
    if (!m || m[1] !== f.workloadAccountId) {
      reasons.push(
        `${f.templateAsgName} names the service-linked role ${f.serviceLinkedRoleArn}; only an Auto Scaling service-linked role of this account (role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling…) may be used`,
      );
    }
  }
  if (f.requireOwnerTags && f.launchTemplate.ownerTag !== f.owner) {
    reasons.push(`Launch template ${f.launchTemplate.id} ${describeTag(f.launchTemplate.ownerTag)}: ${tagAdvice}`);
  }
  const profile = f.instanceProfile;
  if (profile && !profile.found) reasons.push(`Launch template ${f.launchTemplate.id} names the instance profile ${profile.name}, which does not exist`);
  for (const role of profile?.roles ?? []) {
    const servicePath = `/${f.org}/service-role/`;
    if (!role.path.startsWith(servicePath)) {
      reasons.push(`Instance profile ${profile!.name} carries the role ${role.arn}; instance roles must live under ${servicePath}`);
    } else if (f.requireOwnerTags && role.ownerTag !== f.owner) {
      reasons.push(`Instance role ${role.arn} (instance profile ${profile!.name}) ${describeTag(role.ownerTag)}: another service's role cannot be passed; ${tagAdvice}`);
    }
  }
  return reasons;
}

function describeTag(value: string | undefined): string {
  return value === undefined ? `has no ${OWNER_TAG} tag` : `belongs to ${value} (${OWNER_TAG} tag)`;
}
