import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
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

/** Confirms a plain AMI id exists and is usable before anything is created with it. */
export async function assertImageAvailable(ec2: EC2Client, amiId: string): Promise<void> {
  let state: string | undefined;
  try {
    const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }));
    state = out.Images?.[0]?.State;
  } catch (err) {
    if (!(err as { name?: string }).name?.startsWith('InvalidAMIID')) throw err;
  }
  if (state !== 'available') {
    throw new RejectedError([state ? `AMI ${amiId} is ${state}, not available` : `AMI ${amiId} does not exist or is not shared with the workload account`]);
  }
}
