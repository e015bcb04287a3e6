import type { z } from 'zod';
import { parseCommand } from '../events/client';
import { UsageError } from './errors';

/**
 * Option values arrive as strings. Numbers and booleans are converted only when they look like
 * one; anything else is passed on as is, so the event's zod schema reports it in its own words.
 */
export function toNumber(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

export function toBoolean(value: string | undefined): boolean | string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : value;
}

/** Drops undefined values (an absent option must not become an explicit `undefined`). */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Collects a repeatable option's values (`--pause-at 25 --pause-at 50`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Rewrites the schema's field paths in reasons to the CLI's flags: `--bake-time: must not be
 * negative`; an item of a repeatable flag is named by its position: `--pause-at #2: …`.
 */
export function withFlags(reasons: string[], flags: Record<string, string>): string[] {
  const paths = Object.keys(flags).sort((a, b) => b.length - a.length);
  return reasons.map((reason) => {
    const path = paths.find((p) => reason.startsWith(p) && /^(\.\d+)?[: ]/.test(reason.slice(p.length)));
    if (!path) return reason;
    const rest = reason.slice(path.length);
    const item = /^\.(\d+)/.exec(rest);
    return item ? `${flags[path]} #${Number(item[1]) + 1}${rest.slice(item[0].length)}` : `${flags[path]}${rest}`;
  });
}

/**
 * Validates a command's detail with the same zod schema Deployomat applies (events/client.ts):
 * the value, or a UsageError (exit 2) listing every reason, before anything is published.
 */
export function validate<S extends z.ZodType>(schema: S, detail: unknown, flags: Record<string, string>): z.output<S> {
  const parsed = parseCommand(schema, detail);
  if (!parsed.ok) throw new UsageError('Invalid options (nothing was published):', withFlags(parsed.reasons, flags));
  return parsed.value;
}

export const KEY_FLAGS = { AccountCanonicalSlug: '--account', ServiceName: '--service' };
