import { z } from 'zod';

/**
 * Characters that change how text is shown rather than what it says: the C0 and C1 controls
 * (newlines, tabs, the escape sequences that rewrite a terminal), the Unicode line and paragraph
 * separators, and the bidirectional controls that reorder what a reader sees (Trojan Source,
 * CVE-2021-42574). Free text from a deployer ends up in terminals, Slack and the history, where
 * any of them could make one request look like another.
 */
const UNPRINTABLE_CLASS = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069';
const UNPRINTABLE = new RegExp(`[${UNPRINTABLE_CLASS}]`);
const UNPRINTABLE_ALL = new RegExp(`[${UNPRINTABLE_CLASS}]`, 'g');
const SPACING = /[\t\n\r\u2028\u2029]/g;
/** Also the JSON Schema `pattern` of every printable field (docs/events). */
const PRINTABLE = new RegExp(`^[^${UNPRINTABLE_CLASS}]*$`);

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** `U+202E (a bidirectional control) at character 4`, for the first unprintable character of `text`. */
export function firstUnprintable(text: string): string | undefined {
  const match = UNPRINTABLE.exec(text);
  if (!match) return undefined;
  const code = match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  const kind = BIDI.test(match[0]) ? 'a bidirectional control' : code === '2028' || code === '2029' ? 'a line separator' : 'a control character';
  // Counted in characters (code points), as a reader counts them, not UTF-16 units.
  return `U+${code} (${kind}) at character ${[...text.slice(0, match.index)].length + 1}`;
}

/**
 * Free text a deployer writes (`Reason`, `RequestedBy`): at most `max` characters, printable only.
 * The rejection names the first offending character and where it is.
 */
export function printableText(max: number) {
  return z
    .string({ error: 'must be a string' })
    .max(max, `must be at most ${max} characters`)
    .regex(PRINTABLE, {
      error: (issue) =>
        `must be printable text, found ${firstUnprintable(String(issue.input)) ?? 'an unprintable character'}: ` +
        'remove control characters (newlines, tabs, escape sequences) and bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)',
    });
}

/** `text` made safe to print on one line: every unprintable character removed, a tab or line break made a space (words stay apart). */
export function stripUnprintable(text: string): string {
  return text.replace(SPACING, ' ').replace(UNPRINTABLE_ALL, '');
}
