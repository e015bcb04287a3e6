import { z } from 'zod';

/** Names end up in ASG names, SSM paths and tags: no slashes, no `..`, nothing that could escape. */
const SAFE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.)){0,63}$/;

export const AccountSlug = z
  .string()
  .regex(SAFE_NAME, 'must be 1-64 characters of A-Z a-z 0-9 . _ - (no "/" or "..")');

export const ServiceName = z
  .string()
  .regex(SAFE_NAME, 'must be 1-64 characters of A-Z a-z 0-9 . _ - (no "/" or "..")');

/** The deploy id becomes the STS role session name, so it follows that charset. */
export const DeployId = z
  .string()
  .regex(/^[A-Za-z0-9+=,.@_-]{2,64}$/, 'must be 2-64 characters of A-Z a-z 0-9 + = , . @ _ -');
