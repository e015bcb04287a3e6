import { createHash } from 'node:crypto';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
  type EC2Client,
  type LaunchTemplateVersion,
} from '@aws-sdk/client-ec2';
import type { LaunchTemplateVersionRef } from '../../events/ami-command';
import { RejectedError } from '../errors';

/** Marks the launch template version a deploy created, so a retry adopts it instead of adding another. */
export const versionDescription = (deployId: string) => `deployomat:${deployId}`;

async function describeVersion(ec2: EC2Client, launchTemplateId: string, version: string) {
  const out = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, Versions: [version] }));
  return out.LaunchTemplateVersions?.[0];
}

/** EC2 idempotency token for a deploy's launch template version (≤ 64 ASCII characters). */
export function versionClientToken(deployId: string): string {
  return `deployomat-${createHash('sha256').update(deployId).digest('hex').slice(0, 40)}`;
}

/**
 * New version of the service's launch template with only the AMI changed (everything else comes
 * from `sourceVersion`, the `$Latest` start-deploy checked, as the original did). Adopts the version an earlier attempt of this deploy made
 * (found as `$Latest`, however long ago; the client token covers attempts running at once).
 */
export async function createImageVersion(
  ec2: EC2Client,
  args: { launchTemplateId: string; amiId: string; deployId: string; sourceVersion: number },
): Promise<number> {
  const latest = await describeVersion(ec2, args.launchTemplateId, '$Latest');
  if (latest?.VersionDescription === versionDescription(args.deployId) && latest.VersionNumber) {
    return latest.VersionNumber;
  }
  const out = await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: args.launchTemplateId,
      // One version per deploy even when two deliveries of its step run at once: the $Latest check
      // above cannot see a twin's version in flight, the token makes EC2 return it.
      ClientToken: versionClientToken(args.deployId),
      // The version whose instance profile was checked, not whatever $Latest has become since.
      SourceVersion: String(args.sourceVersion),
      VersionDescription: versionDescription(args.deployId),
      LaunchTemplateData: { ImageId: args.amiId },
    }),
  );
  const n = out.LaunchTemplateVersion?.VersionNumber;
  if (!n) throw new Error(`CreateLaunchTemplateVersion on ${args.launchTemplateId} returned no version number`);
  return n;
}

/** A launch template's owner tag and the version a deploy builds on (`$Latest`), with what it launches as. */
export async function describeLaunchSource(ec2: EC2Client, launchTemplateId: string, version = '$Latest') {
  const lt = (await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [launchTemplateId] }))).LaunchTemplates?.[0];
  const v = await describeVersion(ec2, launchTemplateId, version);
  if (!lt || !v?.VersionNumber) throw new RejectedError([`Launch template ${launchTemplateId} (or its version ${version}) does not exist`]);
  return { tags: lt.Tags, version: v.VersionNumber, instanceProfile: v.LaunchTemplateData?.IamInstanceProfile };
}

/** Resolves `$launchtemplate:<ref>` to an existing version (and the AMI it launches). */
export async function resolveExistingVersion(
  ec2: EC2Client,
  launchTemplateId: string,
  ref: LaunchTemplateVersionRef,
): Promise<{ version: number; amiId: string }> {
  let wanted: string;
  if (ref.kind === 'latest-minus') {
    const lt = (await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [launchTemplateId] }))).LaunchTemplates?.[0];
    const n = (lt?.LatestVersionNumber ?? 0) - ref.minus;
    if (n < 1) throw new RejectedError([`$LatestMinus:${ref.minus} is before the first version of launch template ${launchTemplateId} (latest is ${lt?.LatestVersionNumber})`]);
    wanted = String(n);
  } else {
    wanted = ref.kind === 'number' ? String(ref.number) : ref.kind === 'latest' ? '$Latest' : '$Default';
  }
  let v: LaunchTemplateVersion | undefined;
  try {
    v = await describeVersion(ec2, launchTemplateId, wanted);
  } catch (err) {
    if ((err as { name?: string }).name?.startsWith('InvalidLaunchTemplate')) v = undefined;
    else throw err;
  }
  if (!v?.VersionNumber) throw new RejectedError([`Launch template ${launchTemplateId} has no version ${wanted}`]);
  const amiId = v.LaunchTemplateData?.ImageId;
  if (!amiId) throw new RejectedError([`Launch template ${launchTemplateId} version ${v.VersionNumber} has no ImageId`]);
  return { version: v.VersionNumber, amiId };
}

/** The deployed version becomes the default, so the template ASG (on `$Default`) matches production. */
export async function setDefaultVersion(ec2: EC2Client, launchTemplateId: string, version: number): Promise<void> {
  await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: launchTemplateId, DefaultVersion: String(version) }));
}
