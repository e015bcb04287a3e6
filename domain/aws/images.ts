import { DescribeImagesCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { RejectedError } from '../errors';

/** `$name-prefix:<prefix>`: the newest available AMI whose name starts with the prefix. */
export async function newestImageByPrefix(ec2: EC2Client, prefix: string, owners: string[]): Promise<string> {
  const out = await ec2.send(
    new DescribeImagesCommand({
      Owners: owners,
      Filters: [
        { Name: 'name', Values: [`${prefix}*`] },
        { Name: 'state', Values: ['available'] },
      ],
    }),
  );
  const images = (out.Images ?? []).filter((i) => i.ImageId && i.Name?.startsWith(prefix));
  // Newest first; same-second images are ordered by name so the pick is stable.
  images.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (b.Name ?? '').localeCompare(a.Name ?? ''));
  const newest = images[0]?.ImageId;
  if (!newest) throw new RejectedError([`No available AMI named "${prefix}*" owned by ${owners.join(', ')}`]);
  return newest;
}

/**
 * Confirms an AMI exists, is available and is owned by one of `owners` before anything is created
 * with it: an AMI merely shared with (or public to) the workload account is not deployed.
 * `owners` as DescribeImages takes them: account ids, `self` (= `workloadAccountId`), or an owner
 * alias such as `amazon`.
 */
export async function assertImageAllowed(ec2: EC2Client, amiId: string, owners: string[], workloadAccountId: string): Promise<void> {
  let image: Image | undefined;
  try {
    image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }))).Images?.[0];
  } catch (err) {
    if (!(err as { name?: string }).name?.startsWith('InvalidAMIID')) throw err;
  }
  if (image?.State !== 'available') {
    throw new RejectedError([image?.State ? `AMI ${amiId} is ${image.State}, not available` : `AMI ${amiId} does not exist or is not shared with the workload account`]);
  }
  const allowed = owners.map((o) => (o === 'self' ? workloadAccountId : o));
  if (!allowed.includes(image.OwnerId ?? '') && !allowed.includes(image.ImageOwnerAlias ?? '')) {
    throw new RejectedError([
      `AMI ${amiId} is owned by ${image.OwnerId ?? 'another account'}, which is not an allowed AMI owner (${owners.join(', ')}); ` +
        "build it in an allowed account, or add its owner to the Deployomat construct's amiOwners",
    ]);
  }
}

/**
 * `resolve:ssm:<parameter>`: the AMI id the parameter holds in the workload account, read before
 * anything changes, so the image is checked like any other and the launch template version
 * records the AMI that was checked (not the parameter, which may change before instances launch).
 */
export async function amiFromParameter(ssm: SSMClient, parameter: string): Promise<string> {
  let value: string | undefined;
  try {
    value = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
  } catch (err) {
    if (!(err instanceof ParameterNotFound || (err as { name?: string }).name === 'ParameterVersionNotFound')) throw err;
    throw new RejectedError([`AmiId resolve:ssm:${parameter}: there is no such SSM parameter in the workload account`], { cause: err });
  }
  const ami = value?.trim() ?? '';
  if (!/^ami-[0-9a-f]{8,17}$/.test(ami)) throw new RejectedError([`AmiId resolve:ssm:${parameter}: the parameter holds "${ami.slice(0, 40)}", not an AMI id`]);
  return ami;
}
