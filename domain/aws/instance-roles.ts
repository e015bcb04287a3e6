import { GetInstanceProfileCommand, IAMClient, ListRoleTagsCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import type { AwsCredentialIdentity } from '@smithy/types';
import { sdkOptions } from './clients';
import { OWNER_TAG } from './tags';

/** IAM in the workload account, for start-deploy's checks only (kept out of the other handlers' clients). */
export function iamClient(credentials: AwsCredentialIdentity): IAMClient {
  return new IAMClient({ ...sdkOptions(), credentials });
}

/** `arn:…:instance-profile/<path>/<name>` or a bare name → the name GetInstanceProfile takes. */
export function instanceProfileName(ref: { Arn?: string; Name?: string }): string | undefined {
  return ref.Name ?? ref.Arn?.split('/').pop();
}

/**
 * The roles an instance profile carries, each with its path and owner tag. Tags are read only for
 * roles under `servicePath`: the workload role may list tags of those alone.
 */
export async function instanceProfileRoles(iam: IAMClient, name: string, servicePath: string) {
  let roles;
  try {
    roles = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile?.Roles ?? [];
  } catch (err) {
    if (err instanceof NoSuchEntityException) return { name, found: false, roles: [] };
    throw err;
  }
  const out: { arn: string; path: string; ownerTag?: string }[] = [];
  for (const role of roles) {
    const path = role.Path ?? '/';
    const tags = path.startsWith(servicePath) ? (await iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName }))).Tags : undefined;
    out.push({ arn: role.Arn ?? role.RoleName ?? '', path, ownerTag: tags?.find((t) => t.Key === OWNER_TAG)?.Value });
  }
  return { name, found: true, roles: out };
}
