/**
 * Tags on everything a deploy creates. `Managed` is the original's ABAC tag (the deploy role may
 * only modify or delete resources carrying it); the deploy id lets a retried step adopt what an
 * earlier attempt of the same deploy created, and tells apart what belongs to someone else.
 */
export const MANAGED_TAG = 'Managed';
export const DEPLOY_ID_TAG = 'deployomat:deploy-id';

export interface Tag {
  Key: string;
  Value: string;
}

export function deployTags(deployomatServiceName: string, deployId: string): Tag[] {
  return [
    { Key: MANAGED_TAG, Value: deployomatServiceName },
    { Key: DEPLOY_ID_TAG, Value: deployId },
  ];
}

/** Copies user tags (AWS-reserved `aws:` keys cannot be set), overriding ours. */
export function mergeTags(copied: { Key?: string; Value?: string }[] | undefined, ours: Tag[]): Tag[] {
  const keep = (copied ?? []).filter(
    (t): t is Tag => !!t.Key && t.Value !== undefined && !t.Key.startsWith('aws:') && !ours.some((o) => o.Key === t.Key),
  );
  return [...keep.map((t) => ({ Key: t.Key, Value: t.Value })), ...ours];
}

export function tagValue(tags: { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
