/**
 * ASG sizes come from the template ASG's tags `<org>:min_size` / `<org>:max_size`, so the template
 * can stay empty (and free) while deploys run at the wanted size.
 */
export const DEFAULT_MAX_SIZE = 4;
export const DEFAULT_MIN_SIZE = 0;

export interface SizeTags {
  minSize: number;
  maxSize: number;
}

export function sizeTags(tags: { Key?: string; Value?: string }[] | undefined, org: string): SizeTags {
  const read = (key: string, fallback: number) => {
    const raw = tags?.find((t) => t.Key === `${org}:${key}`)?.Value;
    // Only plain digits: Number('') is 0, and '1e3' or '0x10' are not sizes anyone meant.
    const n = raw !== undefined && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    return Number.isInteger(n) && n >= 0 ? n : fallback;
  };
  const maxSize = read('max_size', DEFAULT_MAX_SIZE);
  return { minSize: Math.min(read('min_size', DEFAULT_MIN_SIZE), maxSize), maxSize };
}

/**
 * The new group starts at least as large as production is now, so shifting all traffic to it
 * never leaves it short of capacity (and never above max).
 */
export function deployMinSize(tags: SizeTags, productionInstances: number): number {
  return Math.min(Math.max(productionInstances, tags.minSize), tags.maxSize);
}

/**
 * Production's min size while a deploy runs: what it serves with now (at least its min_size tag,
 * at most its own max), so a rollback fails back to the capacity that was serving, even if
 * scaling would have shrunk it meanwhile.
 */
export function productionHoldSize(tags: SizeTags, productionInService: number, productionMaxSize: number | undefined): number {
  return Math.min(Math.max(productionInService, tags.minSize), productionMaxSize ?? tags.maxSize);
}
