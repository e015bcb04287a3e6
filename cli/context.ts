import { stripUnprintable } from '../events/text';
import type { Aws } from './aws';
import type { Output } from './render';

export interface Io {
  stdout: Output;
  stderr: Output;
}

/** What every command gets: AWS clients built from the global options, and where to write. */
export interface Context extends Io {
  aws: Aws;
}

/**
 * Prints one line. What it shows comes from events and the ledger, written by others: control and
 * bidirectional characters are stripped and line breaks made spaces, so no value can rewrite the
 * terminal, reorder what is read or forge a line of its own. Several lines: one call each.
 */
export function println(out: Output, text = ''): void {
  out.write(`${stripUnprintable(text)}\n`);
}
