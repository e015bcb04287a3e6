import { describe, expect, it } from 'vitest';
import { launchOwnershipProblems, type LaunchFacts } from '../../../domain/ownership';

const base: LaunchFacts = {
  owner: 'acme-dev/web',
  org: 'acme',
  workloadAccountId: '222222222222',
  templateAsgName: 'web-template',
  launchTemplate: { id: 'lt-1', ownerTag: 'acme-dev/web' },
  instanceProfile: { name: 'web', found: true, roles: [{ arn: 'arn:aws:iam::222222222222:role/acme/service-role/web', path: '/acme/service-role/', ownerTag: 'acme-dev/web' }] },
  requireOwnerTags: true,
};

describe('Function: launchOwnershipProblems', () => {
  it("accepts the service's own launch template, instance role and the Auto Scaling service-linked roles", () => {
    for (const serviceLinkedRoleArn of [
      undefined,
      'arn:aws:iam::222222222222:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling',
      'arn:aws:iam::222222222222:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_web',
    ]) {
      expect(launchOwnershipProblems({ ...base, serviceLinkedRoleArn })).toEqual([]);
    }
  });

  it("names each problem: another account's service-linked role, another service's launch template and role, a missing profile", () => {
    const problems = launchOwnershipProblems({
      ...base,
      serviceLinkedRoleArn: 'arn:aws:iam::999999999999:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling',
      launchTemplate: { id: 'lt-1', ownerTag: 'acme-dev/billing' },
      instanceProfile: { name: 'billing', found: true, roles: [{ arn: 'r-billing', path: '/acme/service-role/', ownerTag: undefined }] },
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('only an Auto Scaling service-linked role of this account');
    expect(problems[1]).toBe('Launch template lt-1 belongs to acme-dev/billing (DeployomatService tag): tag it DeployomatService=acme-dev/web if it belongs to this service');
    expect(problems[2]).toContain('Instance role r-billing (instance profile billing) has no DeployomatService tag');
    expect(launchOwnershipProblems({ ...base, instanceProfile: { name: 'gone', found: false, roles: [] } })).toEqual([
      'Launch template lt-1 names the instance profile gone, which does not exist',
    ]);
  });

  it('without requireOwnerTags checks only the path rule and the service-linked role', () => {
    const facts = { ...base, requireOwnerTags: false, launchTemplate: { id: 'lt-1' } };
    expect(launchOwnershipProblems({ ...facts, instanceProfile: { name: 'x', found: true, roles: [{ arn: 'r', path: '/acme/service-role/' }] } })).toEqual([]);
    expect(launchOwnershipProblems({ ...facts, instanceProfile: { name: 'x', found: true, roles: [{ arn: 'r', path: '/' }] } })).toHaveLength(1);
  });
});
