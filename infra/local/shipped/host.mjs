// Runs one shipped Lambda bundle in this process (a Node of the function's Lambda runtime), as
// Lambda's Node.js runtime does: loads the bundle once (the init phase), then calls its handler
// export once per invocation the parent sends over IPC, and sends back the response or the error.
// Plain JavaScript: it runs on the Lambda Node, without the repository's TypeScript loader.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';

const [codeDir, handlerSetting] = process.argv.slice(2);
const dot = handlerSetting.lastIndexOf('.');
const file = handlerSetting.slice(0, dot);
const exportName = handlerSetting.slice(dot + 1);

const serialize = (err) => ({ name: err?.name ?? 'Error', message: err?.message ?? String(err), stack: err?.stack });

let handler;
try {
  const load = createRequire(join(codeDir, 'package.json'));
  handler = load(join(codeDir, file))[exportName];
  if (typeof handler !== 'function') throw new TypeError(`${file}.js has no function export ${exportName} (Handler ${handlerSetting})`);
} catch (err) {
  process.send({ type: 'init-error', error: serialize(err) }, () => process.exit(1));
}

if (handler) {
  process.on('message', async ({ id, event, context }) => {
    const { deadline, ...fields } = context;
    const lambdaContext = {
      ...fields,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    try {
      const result = await handler(event, lambdaContext);
      process.send({ type: 'result', id, result: result ?? null });
    } catch (err) {
      process.send({ type: 'error', id, error: serialize(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready' });
}
