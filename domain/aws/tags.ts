/**
 * Tags on everything a deploy creates. `Managed` is the original's ABAC tag (the deploy role may
 * only modify or delete resources carrying it); `DeployomatService` names the one service that
 * owns the resource (`<account slug>/<service>`): the deploy session carries the same value as a
 * session tag, and the workload role lets a session touch only resources whose tag matches it.
 * The deploy id lets a retried step adopt what an earlier attempt of the same deploy created, and
 * tells apart what belongs to someone else.
 */
export const MANAGED_TAG = 'Managed';
export const OWNER_TAG = 'DeployomatService';
export const DEPLOY_ID_TAG = 'deployomat:deploy-id';

export interface Tag {
  Key: string;
  Value: string;
}

/** The owning-service tag value (and session tag) of a service: `<account slug>/<service>`. */
export function ownerOf(key: { AccountCanonicalSlug: string; ServiceName: string }): string {
  return `${key.AccountCanonicalSlug}/${key.ServiceName}`;
}

export function deployTags(deployomatServiceName: string, deployId: string, owner: string): Tag[] {
  return [
    { Key: MANAGED_TAG, Value: deployomatServiceName },
    { Key: OWNER_TAG, Value: owner },
    { Key: DEPLOY_ID_TAG, Value: deployId },
  ];
}

/**
 * Keys a template's tags may never set on what Deployomat creates: AWS's own (`aws:`, refused by
 * AWS anyway) and Deployomat's (they decide who may change or delete the resource).
 */
export function isReservedTagKey(key: string): boolean {
  return key.startsWith('aws:') || key.startsWith('deployomat:') || key === MANAGED_TAG || key === OWNER_TAG;
}

/** Copies user tags (reserved keys dropped), overriding ours. */
export function mergeTags(copied: { Key?: string; Value?: string }[] | undefined, ours: Tag[]): Tag[] {
  const keep = (copied ?? []).filter(
    (t): t is Tag => !!t.Key && t.Value !== undefined && !isReservedTagKey(t.Key) && !ours.some((o) => o.Key === t.Key),
  );
  return [...keep.map((t) => ({ Key: t.Key, Value: t.Value })), ...ours];
}

export function tagValue(tags: { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
