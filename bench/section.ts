/**
 * Runs one bench section in this process and writes its result (JSON) to a file; bench/run.ts
 * starts one such process per section, so each has its own emulator, SDK clients and clock.
 * Usage: tsx bench/section.ts <section> <out.json> '<options JSON>'
 * The simulated clock must be in place before any other module reads the time: everything else
 * is imported after it.
 */
import { writeFileSync } from 'node:fs';
import { installVirtualClock } from './clock';

const [section, outFile, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson ?? '{}') as { parts?: string[]; runs?: number; n?: number };
if (section === 'scheduler') installVirtualClock();

async function run(): Promise<unknown> {
  switch (section) {
    case 'choreography': {
      const { runChoreography } = await import('./sections/choreography');
      return runChoreography(new Set((options.parts ?? ['steps', 'e2e', 'api']) as ('steps' | 'e2e' | 'api')[]), options.runs ?? 5);
    }
    case 'scheduler':
      return (await import('./sections/scheduler')).runScheduler();
    case 'cold-start':
      return (await import('./sections/cold-start')).runColdStart(options.runs ?? 10);
    case 'scale':
      return (await import('./sections/scale')).runScale(options.n ?? 1);
    default:
      throw new Error(`unknown section ${section}`);
  }
}

if (!section || !outFile) {
  console.error('usage: tsx bench/section.ts <section> <out.json> [options JSON]');
  process.exit(2);
}
writeFileSync(outFile, JSON.stringify(await run()));
process.exit(0);
