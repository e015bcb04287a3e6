/**
 * `npm run schemas`: writes the event reference (docs/events/<DetailType>.json and docs/events.md)
 * from the zod schemas, and removes the JSON Schema of any event no longer in the catalog.
 * `npm run schemas -- --check` only reports drift (exit 1), writing nothing.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEventDocs } from './json-schema';

const docsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
const check = process.argv.includes('--check');

const files = generateEventDocs();
await mkdir(join(docsDir, 'events'), { recursive: true });
const stale = (await readdir(join(docsDir, 'events')))
  .filter((name) => name.endsWith('.json'))
  .map((name) => `events/${name}`)
  .filter((path) => !files.has(path));

const changed: string[] = [];
for (const [path, content] of files) {
  const current = await readFile(join(docsDir, path), 'utf8').catch(() => undefined);
  if (current === content) continue;
  changed.push(path);
  if (!check) await writeFile(join(docsDir, path), content);
}
if (!check) for (const path of stale) await rm(join(docsDir, path));

const report = [...changed.map((p) => `docs/${p}`), ...stale.map((p) => `docs/${p} (removed)`)];
if (check && report.length) {
  console.error(`Out of date — run \`npm run schemas\`:\n  ${report.join('\n  ')}`);
  process.exitCode = 1;
} else {
  console.log(report.length ? `${check ? 'Would write' : 'Wrote'}:\n  ${report.join('\n  ')}` : `docs/events up to date (${files.size} files)`);
}
