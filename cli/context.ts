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

export function println(out: Output, text = ''): void {
  out.write(`${text}\n`);
}
