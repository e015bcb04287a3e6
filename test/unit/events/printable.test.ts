import { describe, expect, it } from 'vitest';
import { CancelRequested, DeployRequested, parseCommand, PauseRequested, PromoteRequested, ResumeRequested } from '../../../events/client';
import { firstUnprintable } from '../../../events/text';

/**
 * Issue #12 (finding 12): free text a deployer writes is shown in terminals, Slack and the
 * history. A `Reason` or `RequestedBy` carrying a terminal escape or a bidirectional override
 * could make a request read as another one; the schemas reject them, saying which character.
 */
const key = { AccountCanonicalSlug: 'acme-prod', ServiceName: 'web' };
const deploy = { ...key, AmiId: 'ami-0123456789abcdef0' };

/** "approved by alice" shown as "...ecila yb devorppa": an RLO (U+202E) reverses what follows. */
const BIDI = 'approved \u202eecila yb';
/** ESC [2K + CR: a terminal erases the line and prints the rest over it. */
const ESCAPE = 'oops\u001b[2K\rDeploy completed';

describe('Schemas: free text is printable only', () => {
  it.each([
    ['CancelRequested', CancelRequested, 'Reason'],
    ['PauseRequested', PauseRequested, 'Reason'],
    ['ResumeRequested', ResumeRequested, 'Reason'],
    ['PromoteRequested', PromoteRequested, 'Reason'],
  ] as const)('rejects a %s whose %s carries a bidirectional override or a terminal escape', (_, schema, field) => {
    // Act
    const bidi = parseCommand(schema, { ...key, [field]: BIDI });
    const escape = parseCommand(schema, { ...key, [field]: ESCAPE });

    // Assess
    expect(bidi).toEqual({ ok: false, reasons: [expect.stringMatching(new RegExp(`^${field}: must be printable text, found U\\+202E \\(a bidirectional control\\) at character 10`))] });
    expect(escape).toEqual({ ok: false, reasons: [expect.stringMatching(new RegExp(`^${field}: must be printable text, found U\\+001B \\(a control character\\) at character 5`))] });
  });

  it('rejects a DeployRequested whose RequestedBy carries a newline, a bidirectional isolate or a C1 control', () => {
    for (const [by, what] of [
      ['alice\nci:github/acme/shop#1', 'U+000A (a control character) at character 6'],
      ['\u2067alice', 'U+2067 (a bidirectional control) at character 1'],
      ['alice\u009b2J', 'U+009B (a control character) at character 6'],
      ['alice\u2028bob', 'U+2028 (a line separator) at character 6'],
      ['🚀\u202eship', 'U+202E (a bidirectional control) at character 2'],
    ]) {
      const parsed = parseCommand(DeployRequested, { ...deploy, RequestedBy: by });
      expect(parsed, JSON.stringify(by)).toEqual({ ok: false, reasons: [expect.stringContaining(`RequestedBy: must be printable text, found ${what}`)] });
    }
  });

  it('echoes a rejected AmiId or unknown field name without its unprintable characters (they reach DeployRejected and Slack)', () => {
    // Act
    const parsed = parseCommand(DeployRequested, { ...key, AmiId: `ami-1\u202e${ESCAPE}`, [`x\u202e${ESCAPE}`]: 1 });

    // Assess
    expect(parsed.ok).toBe(false);
    const reasons = (parsed as { reasons: string[] }).reasons;
    expect(reasons).toHaveLength(2);
    for (const reason of reasons) expect(firstUnprintable(reason), reason).toBeUndefined();
    expect(reasons.join('\n')).toContain('oops[2K Deploy completed');
  });

  it('accepts printable text in any script, emoji included (positive control)', () => {
    for (const text of ['bad metrics: p99 > 2 s', 'خطأ في المقاييس', 'Müller — 回滚', 'ship it 🚀', 'family 👨‍👩‍👧']) {
      expect(parseCommand(CancelRequested, { ...key, Reason: text }).ok, text).toBe(true);
      expect(parseCommand(DeployRequested, { ...deploy, RequestedBy: text }).ok, text).toBe(true);
    }
  });
});
