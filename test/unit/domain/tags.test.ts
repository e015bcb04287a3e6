import { describe, expect, it } from 'vitest';
import { deployTags, mergeTags } from '../../../domain/aws/tags';

describe('Function: mergeTags', () => {
  it("never copies Deployomat's or AWS's keys from a template, even ones the deploy does not set", () => {
    // Prepare: a template whose owner tagged it to claim what Deployomat creates for another service.
    const template = [
      { Key: 'team', Value: 'platform' },
      { Key: 'Managed', Value: 'someone-else' },
      { Key: 'DeployomatService', Value: 'acme-dev/billing' },
      { Key: 'deployomat:rollback', Value: 'x' },
      { Key: 'aws:cloudformation:stack-name', Value: 'web' },
    ];

    // Act
    const tags = mergeTags(template, deployTags('deployomat', 'd-1', 'acme-dev/web'));

    // Assess
    expect(tags).toEqual([
      { Key: 'team', Value: 'platform' },
      { Key: 'Managed', Value: 'deployomat' },
      { Key: 'DeployomatService', Value: 'acme-dev/web' },
      { Key: 'deployomat:deploy-id', Value: 'd-1' },
    ]);
  });
});
