import { describe, expect, it } from 'vitest';
import { historyItem, MAX_DETAIL_CHARS } from '../../../domain/audit';
import { rollbackOnDeadLetter } from '../../../events/topology';
import { parseDeployRequested } from '../../../events/client';

/** Received a second after its time: filed under its own time. */
const RECEIVED = new Date('2026-11-26T20:00:01Z');
const envelope = (detail: unknown) => ({ id: 'e-1', 'detail-type': 'DeployRequested', source: 'deployomat.client', time: '2026-11-26T20:00:00Z', detail });

describe('Function: historyItem (hostile requests must still be recordable)', () => {
  it('keeps the detail as JSON text, whatever numbers and keys it holds', () => {
    const detail = JSON.parse('{"AccountCanonicalSlug":"acme","ServiceName":"web","DeployConfig":{"BakeTime":1e16,"x":1e-200},"constructor":"x","__proto__":{"a":1}}');
    const item = historyItem(envelope(detail), RECEIVED);
    expect(typeof item.Detail).toBe('string');
    expect(JSON.parse(item.Detail)).toEqual(detail);
    expect(item.pk).toBe('acme#web');
  });

  it('files requests whose names are not valid under unattributed, and clips huge details', () => {
    const item = historyItem(envelope({ AccountCanonicalSlug: 'acme', ServiceName: 'w'.repeat(3000), DeployId: '../x', Blob: 'b'.repeat(300_000) }), RECEIVED);
    expect(item.pk).toBe('AUDIT#unattributed');
    expect(item.DeployId).toBeUndefined();
    expect(item.Detail.length).toBeLessThanOrEqual(MAX_DETAIL_CHARS + 20);
  });

  it('gives the same key to the same event content (replays overwrite their originals)', () => {
    expect(historyItem(envelope({ ServiceName: 'web', AccountCanonicalSlug: 'acme' }), RECEIVED).sk).toBe(historyItem({ ...envelope({ AccountCanonicalSlug: 'acme', ServiceName: 'web' }), id: 'other' }, RECEIVED).sk);
  });
});

describe('Function: rollbackOnDeadLetter', () => {
  it('leaves projections and feature handlers out: their dead letters never roll a deploy back', () => {
    const names = rollbackOnDeadLetter().map((h) => h.name);
    expect(names).toContain('shift-traffic');
    expect(names).toContain('control-rollout');
    expect(names).not.toContain('record-history');
    expect(names).not.toContain('notify-slack');
    expect(names).not.toContain('dead-letter');
  });
});

describe('Rejections stay small and storable', () => {
  it('refuses times too small to store', () => {
    const parsed = parseDeployRequested({ AccountCanonicalSlug: 'acme', ServiceName: 'web', AmiId: 'ami-12345678', DeployConfig: { PauseTimeout: 1e-200 } });
    expect(parsed).toEqual({ ok: false, reasons: ['DeployConfig.PauseTimeout: must be 0 or at least 0.001 seconds'] });
  });

  it('names at most ten unknown fields', () => {
    const detail = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 1]));
    const parsed = parseDeployRequested({ AccountCanonicalSlug: 'acme', ServiceName: 'web', AmiId: 'ami-12345678', ...detail });
    expect(parsed.ok).toBe(false);
    const reasons = (parsed as { reasons: string[] }).reasons;
    expect(reasons.join().length).toBeLessThan(400);
    expect(reasons[0]).toMatch(/ and 4990 more \(the original Deployomat ignored unknown fields; /);
  });
});
