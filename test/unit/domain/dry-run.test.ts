import { describe, expect, it } from 'vitest';
import { decideDryRun, dryRunWindow } from '../../../domain/dry-run';
import { DeployRequested } from '../../../events/client';

const request = DeployRequested.parse({ AccountCanonicalSlug: 'acme', ServiceName: 'shop', AmiId: 'ami-0123456789abcdef0', DeployConfig: { DryRun: true } });
const T0 = Date.parse('2026-01-01T12:00:00.000Z');
const ctx = { where: 'shop in acme', intervalSeconds: 10, now: T0 + 3000 };
const held = dryRunWindow(request, 'dry-1', 'event-1', T0, 10);

describe('Function: dryRunWindow', () => {
  it('is open for the interval from now and tells requests apart by their content and DeployId', () => {
    expect(held).toMatchObject({ DeployId: 'dry-1', EventId: 'event-1', OpenedAt: '2026-01-01T12:00:00.000Z', Until: T0 + 10_000 });
    expect(dryRunWindow(request, 'dry-1', 'event-2', T0 + 1, 10).RequestHash).toBe(held.RequestHash);
    expect(dryRunWindow(request, 'dry-2', 'event-2', T0, 10).RequestHash).not.toBe(held.RequestHash);
    expect(dryRunWindow({ ...request, AmiId: 'ami-0fffffffffffffff0' }, 'dry-1', 'event-2', T0, 10).RequestHash).not.toBe(held.RequestHash);
  });
});

describe('Function: decideDryRun', () => {
  it('plans the dry run that opened the window', () => {
    expect(decideDryRun(held, { opened: true }, ctx)).toEqual({ kind: 'plan' });
  });

  it('plans a redelivery of the dry run that holds the window (its answer may not have gone out)', () => {
    const again = dryRunWindow(request, 'dry-1', 'event-1', ctx.now, 10);
    expect(decideDryRun(again, { opened: false, holder: held }, ctx)).toEqual({ kind: 'plan' });
  });

  it('drops an identical repeat: the answer to the first, under the same DeployId, answers it', () => {
    const repeat = dryRunWindow(request, 'dry-1', 'event-2', ctx.now, 10);
    expect(decideDryRun(repeat, { opened: false, holder: held }, ctx)).toEqual({ kind: 'drop', holder: held });
  });

  it('rejects any other dry run, saying when to retry and which setting limits it', () => {
    const other = dryRunWindow(request, 'dry-2', 'event-2', ctx.now, 10);
    expect(decideDryRun(other, { opened: false, holder: held }, ctx)).toEqual({
      kind: 'reject',
      retryAt: '2026-01-01T12:00:10.000Z',
      reason:
        'Too many dry runs: dry run dry-1 of shop in acme was planned at 2026-01-01T12:00:00.000Z, and one is planned per 10 s (DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS); retry after 2026-01-01T12:00:10.000Z',
    });
  });

  it('rejects when the holder is not known, retrying one interval from now', () => {
    const other = dryRunWindow(request, 'dry-2', 'event-2', ctx.now, 10);
    expect(decideDryRun(other, { opened: false }, ctx)).toMatchObject({ kind: 'reject', retryAt: '2026-01-01T12:00:13.000Z' });
  });
});
