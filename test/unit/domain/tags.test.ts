import { describe, expect, it } from 'vitest';
import { deployTags, MAX_TAGS_PER_RESOURCE, mergeTags, tagQuotaProblem } from '../../../domain/aws/tags';

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

describe('Function: tagQuotaProblem', () => {
  const ours = deployTags('deployomat', 'd-1', 'acme-dev/web');
  const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));

  it.each([
    ['47 tags of its own', tags(47), undefined],
    ['our 3 keys among its 50 (replaced, not added)', [...tags(47), ...ours.map((t) => ({ ...t, Value: 'theirs' }))], undefined],
    ['aws: tags among its 50 (never copied)', [...tags(47), ...tags(3).map((t) => ({ ...t, Key: `aws:${t.Key}` }))], undefined],
    [
      '48 tags of its own',
      tags(48),
      "web-template has 48 tags to copy; with Deployomat's 3 its copy would have 51, and AWS allows 50: remove at least 1",
    ],
  ])('a template with %s', (_what, copied, expected) => {
    // Act + Assess
    expect(tagQuotaProblem('web-template', copied, ours)).toBe(expected);
    expect(MAX_TAGS_PER_RESOURCE).toBe(50);
  });
});
