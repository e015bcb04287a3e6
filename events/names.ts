import { z } from 'zod';

/** Names end up in ASG names, SSM paths and tags: no slashes, no `..`, nothing that could escape. */
const SAFE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.)){0,63}$/;

export const AccountSlug = z
  .string()
  .regex(SAFE_NAME, 'must be 1-64 characters of A-Z a-z 0-9 . _ - (no "/" or "..")');

/**
 * The longest service name every AWS name and tag Deployomat makes of it allows: the owner tag
 * value `<account slug>/<service>` is at most 256 characters (tags of ASGs, target groups, rules,
 * session tags), with a slug of up to 64. ASG names (`<service>-<timestamp>`, 255) allow more;
 * target group names take its first 15 characters, as the original's do.
 */
export const MAX_SERVICE_NAME = 256 - 64 - 1;
const SERVICE_NAME = new RegExp(`^[A-Za-z0-9](?:[A-Za-z0-9_-]|\\.(?!\\.)){0,${MAX_SERVICE_NAME - 1}}$`);

export const ServiceName = z
  .string()
  .regex(SERVICE_NAME, `must be 1-${MAX_SERVICE_NAME} characters of A-Z a-z 0-9 . _ - (no "/" or "..")`);

/** The deploy id becomes the STS role session name, so it follows that charset. */
export const DeployId = z
  .string()
  .regex(/^[A-Za-z0-9+=,.@_-]{2,64}$/, 'must be 2-64 characters of A-Z a-z 0-9 + = , . @ _ -');
