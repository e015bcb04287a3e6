import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { RejectedError } from '../errors';

/** `/omat/account_registry/<slug>`, as Accountomat writes it. */
const RegistryEntry = z.object({
  prefix: z.string().regex(/^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/),
  name: z.string().min(1),
  environment: z.string().min(1),
  /** The account's id (Omat's convention); when present, the registered role must be in it. */
  account_id: z.string().regex(/^\d{12}$/).optional(),
});

export interface Account {
  slug: string;
  /** SSM path prefix of the account, e.g. `/teak/development/workload`. */
  prefix: string;
  name: string;
  environment: string;
  /** The organization prefix: the first segment of `prefix` (`teak`), used in tag keys. */
  org: string;
  /** Role Deployomat assumes in the workload account. */
  roleArn: string;
}

async function getParameter(ssm: SSMClient, name: string) {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }));
    return out.Parameter;
  } catch (err) {
    if (err instanceof ParameterNotFound) return undefined;
    throw err;
  }
}

export async function resolveAccount(ssm: SSMClient, slug: string, deployomatServiceName: string): Promise<Account> {
  const registryPath = `/omat/account_registry/${slug}`;
  const raw = await getParameter(ssm, registryPath);
  if (!raw?.Value) throw new RejectedError([`Unable to locate account information for ${slug} (no SSM parameter ${registryPath})`]);
  let entry: z.output<typeof RegistryEntry>;
  try {
    entry = RegistryEntry.parse(JSON.parse(raw.Value));
  } catch {
    throw new RejectedError([`SSM parameter ${registryPath} is not valid account JSON {"prefix","name","environment"}`]);
  }
  const rolePath = `${entry.prefix}/roles/${deployomatServiceName}`;
  const role = await getParameter(ssm, rolePath);
  if (!role?.Value) throw new RejectedError([`No Deployomat role registered for account ${slug}: SSM parameter ${rolePath} is missing`]);
  const roleAccount = role.Value.split(':')[4];
  if (entry.account_id && roleAccount !== entry.account_id) {
    // A role parameter pointing elsewhere would deploy this slug's services into another account.
    throw new RejectedError([
      `SSM parameter ${rolePath} names a role in account ${roleAccount ?? '(not an ARN)'}, but ${registryPath} says ${slug} is account ${entry.account_id}: fix the role parameter`,
    ]);
  }
  return {
    slug,
    prefix: entry.prefix,
    name: entry.name,
    environment: entry.environment,
    org: entry.prefix.split('/')[1] ?? '',
    roleArn: role.Value,
  };
}

/**
 * `<prefix>/config/<service>/listener_arns`: a StringList, or JSON (a list, or a map of
 * name → arn). Absent means the service is not behind a load balancer.
 */
export async function listenerArns(ssm: SSMClient, account: Account, service: string): Promise<string[]> {
  const path = `${account.prefix}/config/${service}/listener_arns`;
  const p = await getParameter(ssm, path);
  const value = p?.Value?.trim();
  if (!value) return [];
  if (value.startsWith('[') || value.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      throw new RejectedError([`SSM parameter ${path} is not valid JSON`]);
    }
    const parsed = z.union([z.array(z.string()), z.record(z.string(), z.string())]).safeParse(json);
    if (!parsed.success) throw new RejectedError([`SSM parameter ${path} must be a list of listener ARNs`]);
    return Array.isArray(parsed.data) ? parsed.data : Object.values(parsed.data);
  }
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
