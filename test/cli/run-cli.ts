import { run } from '../../cli/main';
import type { TestDeployomat } from '../helpers/deployomat';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, as `deployomat <args>`, collecting what it prints (no TTY: plain output). */
export async function cli(args: string[]): Promise<CliResult> {
  return start(args).done;
}

/** Starts the CLI in-process; `until` waits for its output so far to match (e.g. a follower being ready). */
export function start(args: string[]) {
  let stdout = '';
  let stderr = '';
  const done = run(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } }).then((code) => ({ code, stdout, stderr }));
  const until = async (pattern: RegExp, timeoutMs = 15_000) => {
    for (const deadline = Date.now() + timeoutMs; !pattern.test(stdout); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error(`CLI output never matched ${pattern}: ${stdout}${stderr}`);
    }
  };
  return { done, until };
}

/** The global options that point the CLI at a test's private emulator and installation. */
export function globals(t: TestDeployomat): string[] {
  return ['--endpoint', t.local.endpoint, '--region', 'us-east-1', '--bus', t.local.install.busName, '--table', t.local.install.tableName];
}

/** Every `NN% new` of the traffic bars, in order. */
export function percentages(output: string): number[] {
  return [...output.matchAll(/(\d+)% new/g)].map((m) => Number(m[1]));
}
