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

/**
 * AWS's default tag quota for each resource a deploy creates by copying one of the service's:
 * 50 per Auto Scaling group, target group and listener rule (`aws:` tags, which are never copied,
 * do not count).
 */
export const MAX_TAGS_PER_RESOURCE = 50;

/**
 * Why a copy of `what` cannot carry its tags and ours, or undefined. AWS refuses to create a
 * resource with more than MAX_TAGS_PER_RESOURCE tags, so a template at or near the quota would
 * fail every deploy of its service.
 */
export function tagQuotaProblem(what: string, copied: { Key?: string; Value?: string }[] | undefined, ours: Tag[]): string | undefined {
  const count = mergeTags(copied, ours).length;
  if (count <= MAX_TAGS_PER_RESOURCE) return undefined;
  return (
    `${what} has ${count - ours.length} tags to copy; with Deployomat's ${ours.length} its copy would have ${count}, ` +
    `and AWS allows ${MAX_TAGS_PER_RESOURCE}: remove at least ${count - MAX_TAGS_PER_RESOURCE}`
  );
}

export function tagValue(tags: { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
