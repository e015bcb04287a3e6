/**
 * ASG sizes come from the template ASG's tags `<org>:min_size` / `<org>:max_size`, so the template
 * can stay empty (and free) while deploys run at the wanted size.
 */
export const DEFAULT_MAX_SIZE = 4;
export const DEFAULT_MIN_SIZE = 0;

/** What a group's size tags say; `minSize` is absent without a valid `<org>:min_size`. */
export interface SizeTags {
  minSize?: number;
  maxSize: number;
}

/** A service's sizes at rest: the min size it keeps when no deploy holds it, and the max. */
export interface ServiceSizes {
  minSize: number;
  maxSize: number;
}

type Tags = { Key?: string; Value?: string }[] | undefined;

export function sizeTags(tags: Tags, org: string): SizeTags {
  const read = (key: string) => {
    const raw = tags?.find((t) => t.Key === `${org}:${key}`)?.Value;
    // Only plain digits: Number('') is 0, and '1e3' or '0x10' are not sizes anyone meant.
    const n = raw !== undefined && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const maxSize = read('max_size') ?? DEFAULT_MAX_SIZE;
  const minSize = read('min_size');
  return minSize === undefined ? { maxSize } : { minSize: Math.min(minSize, maxSize), maxSize };
}

/**
 * The service's sizes, from its template group (a deploy's group is its clone). Min: the
 * `<org>:min_size` tag, else the template's own min size — the min the new group has before
 * Deployomat raises it to production's capacity. The original keeps the new group's current min
 * size without the tag, i.e. the raised one: each deploy during a scale-out would raise the
 * service's min size for good.
 */
export function serviceSizes(template: { Tags?: Tags; MinSize?: number }, org: string): ServiceSizes {
  const tags = sizeTags(template.Tags, org);
  return { minSize: Math.min(tags.minSize ?? template.MinSize ?? DEFAULT_MIN_SIZE, tags.maxSize), maxSize: tags.maxSize };
}

/**
 * The new group starts at least as large as production is now, so shifting all traffic to it
 * never leaves it short of capacity (and never above max).
 */
export function deployMinSize(sizes: ServiceSizes, productionInstances: number): number {
  return Math.min(Math.max(productionInstances, sizes.minSize), sizes.maxSize);
}

/**
 * Production's min size while a deploy runs: what it serves with now (never below its own min
 * before the hold, nor the service's min), at most its own max, so a rollback fails back to the
 * capacity that was serving, even if scaling would have shrunk it meanwhile.
 */
export function productionHoldSize(
  sizes: ServiceSizes,
  production: { inService: number; minSizeBeforeHold: number | undefined; maxSize: number | undefined },
): number {
  return Math.min(Math.max(production.inService, production.minSizeBeforeHold ?? 0, sizes.minSize), production.maxSize ?? sizes.maxSize);
}

/**
 * Production's min size once a rollback lets go of it: its `<org>:min_size` tag, as the original;
 * without the tag, the min size it had before this deploy held it. The original keeps the
 * group's current min size there, which after its own hold is the raised one: a cancelled deploy
 * would leave production unable to scale in below the size it had at the deploy. An undo should
 * leave production as it found it. Undefined (leave it as it is): no tag, and no hold recorded.
 */
export function restoredMinSize(productionTags: SizeTags, minSizeBeforeHold: number | undefined): number | undefined {
  return productionTags.minSize ?? minSizeBeforeHold;
}
