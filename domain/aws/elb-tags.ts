import { DescribeTagsCommand, type ElasticLoadBalancingV2Client, type Tag } from '@aws-sdk/client-elastic-load-balancing-v2';

/** Tags of many ELBv2 resources (target groups, rules), by ARN (DescribeTags takes 20 ARNs at a time). */
export async function elbTagsOf(elb: ElasticLoadBalancingV2Client, arns: string[]): Promise<Map<string, Tag[]>> {
  const tags = new Map<string, Tag[]>();
  for (let i = 0; i < arns.length; i += 20) {
    const out = await elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of out.TagDescriptions ?? []) if (d.ResourceArn) tags.set(d.ResourceArn, d.Tags ?? []);
  }
  return tags;
}

/** Tags of one ELBv2 resource (none if it has none). */
export async function elbTagsOfOne(elb: ElasticLoadBalancingV2Client, arn: string): Promise<Tag[]> {
  return (await elbTagsOf(elb, [arn])).get(arn) ?? [];
}
