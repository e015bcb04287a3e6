import { AutoScalingClient, DeleteAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deleteOwnedAsg } from '../../../../domain/aws/auto-scaling';
import { DEPLOY_ID_TAG } from '../../../../domain/aws/tags';

const asgMock = mockClient(AutoScalingClient);
const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
const group = { AutoScalingGroupName: 'web-1', Tags: [{ Key: DEPLOY_ID_TAG, Value: 'd1' }] };

beforeEach(() => {
  asgMock.reset();
  asgMock.on(DeleteAutoScalingGroupCommand).resolves({});
});

describe('Function: deleteOwnedAsg', () => {
  it('looks again for a group it created that is not listed yet (eventual consistency), then deletes it', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolvesOnce({ AutoScalingGroups: [] }).resolves({ AutoScalingGroups: [group as never] });

    const deleted = await deleteOwnedAsg(autoscaling, 'web-1', 'd1', { created: true, existedBy: new Date() });

    expect(deleted).toBe(true);
    expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(2);
    expect(asgMock.commandCalls(DeleteAutoScalingGroupCommand)[0]!.args[0].input).toMatchObject({ AutoScalingGroupName: 'web-1', ForceDelete: true });
  });

  it('does not look again for a group that existed longer ago than the backoff lasts (e.g. deleted by an earlier attempt)', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    const deleted = await deleteOwnedAsg(autoscaling, 'web-1', 'd1', { created: true, existedBy: new Date(Date.now() - 60_000) });

    expect(deleted).toBe(false);
    expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(1);
    expect(asgMock.commandCalls(DeleteAutoScalingGroupCommand)).toHaveLength(0);
  });

  it('does not look again for a group it did not record creating, nor delete one another deploy owns', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolvesOnce({ AutoScalingGroups: [] }).resolves({ AutoScalingGroups: [group as never] });

    expect(await deleteOwnedAsg(autoscaling, 'web-1', 'd1')).toBe(false);
    expect(await deleteOwnedAsg(autoscaling, 'web-1', 'other')).toBe(false);

    expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(2);
    expect(asgMock.commandCalls(DeleteAutoScalingGroupCommand)).toHaveLength(0);
  });
});
