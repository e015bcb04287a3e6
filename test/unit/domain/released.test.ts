import { describe, expect, it } from 'vitest';
import { requestHash, wasReleased, withRelease, type ServiceState } from '../../../domain/ledger';

const request = { AccountCanonicalSlug: 'acme', ServiceName: 'web', AmiId: 'ami-0123456789abcdef0', DeployConfig: { BakeTime: 60, Tags: ['a', 'b'] } };
const released = (waiting = { Kind: 'deploy' as const, Id: 'd-2', Request: request }) => ({ Released: withRelease({} as ServiceState, waiting) }) as unknown as ServiceState;

describe('Function: requestHash', () => {
  it('does not depend on key order or undefined members (a DynamoDB round trip keeps neither)', () => {
    const reordered = { DeployConfig: { Tags: ['a', 'b'], BakeTime: 60, Skip: undefined }, AmiId: request.AmiId, ServiceName: 'web', AccountCanonicalSlug: 'acme' };
    expect(requestHash(reordered)).toBe(requestHash(request));
  });

  it.each([
    ['another AMI', { ...request, AmiId: 'ami-0fffffffffffffff0' }],
    ['a nested change', { ...request, DeployConfig: { ...request.DeployConfig, BakeTime: 0 } }],
    ['a list in another order', { ...request, DeployConfig: { ...request.DeployConfig, Tags: ['b', 'a'] } }],
  ])('differs for %s', (_what, other) => {
    expect(requestHash(other)).not.toBe(requestHash(request));
  });
});

describe('Function: wasReleased', () => {
  it('accepts the request the rollback released', () => {
    expect(wasReleased(released(), 'deploy', 'd-2', { ...request })).toBe(true);
  });

  it('accepts a request released before another one (both may be on their way)', () => {
    const later = { ...released(), Released: withRelease(released(), { Kind: 'undeploy', Id: 'u-9', Request: { ServiceName: 'web' } }) } as ServiceState;
    expect(wasReleased(later, 'deploy', 'd-2', request)).toBe(true);
    expect(wasReleased(later, 'undeploy', 'u-9', { ServiceName: 'web' })).toBe(true);
  });

  it('forgets the oldest of more than ten releases', () => {
    let state = released();
    for (let i = 0; i < 10; i++) state = { ...state, Released: withRelease(state, { Kind: 'deploy', Id: `n-${i}`, Request: request }) } as ServiceState;
    expect(wasReleased(state, 'deploy', 'd-2', request)).toBe(false);
    expect(wasReleased(state, 'deploy', 'n-0', request)).toBe(true);
  });

  it.each([
    ['nothing was released', {} as ServiceState, 'deploy', 'd-2', request],
    ['no ledger item', undefined, 'deploy', 'd-2', request],
    ['another id', released(), 'deploy', 'd-3', request],
    ['another kind', released(), 'undeploy', 'd-2', request],
    ['an altered request', released(), 'deploy', 'd-2', { ...request, AmiId: 'ami-0fffffffffffffff0' }],
    ['no request', released(), 'deploy', 'd-2', undefined],
  ] as const)('refuses when %s', (_what, state, kind, id, req) => {
    expect(wasReleased(state, kind, id, req)).toBe(false);
  });
});
