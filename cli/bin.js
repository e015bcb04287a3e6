#!/usr/bin/env node
// The `deployomat` bin: runs the TypeScript CLI (cli/main.ts) through tsx's loader in this same
// process, so no build step is needed (tsx is a devDependency: install with `npm ci`, not
// `--omit=dev`). Ctrl-C reaches the CLI directly, which removes its temporary subscription.
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
