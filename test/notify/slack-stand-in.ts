import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stand-in received. */
export interface SlackCall {
  method: string;
  /** The arguments, form or JSON bodies alike; `blocks` decoded. */
  args: Record<string, unknown>;
  authorization?: string;
  contentType?: string;
}

export interface SlackStandIn {
  /** Base URL for `SLACK_API_URL` (WebClient's `slackApiUrl`), ending in `/api/`. */
  url: string;
  calls: SlackCall[];
  /** Resolves once `predicate` holds for the calls so far. */
  waitFor(predicate: (calls: SlackCall[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Resolves once no request has arrived for `ms` (counted from the call at the earliest). */
  quiet(ms?: number): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL_ID = 'C123';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(body: string, contentType: string | undefined): Record<string, unknown> {
  const args: Record<string, unknown> = contentType?.startsWith('application/json')
    ? (JSON.parse(body || '{}') as Record<string, unknown>)
    : Object.fromEntries(new URLSearchParams(body));
  if (typeof args.blocks === 'string') args.blocks = JSON.parse(args.blocks);
  return args;
}

/**
 * A stand-in for the Slack Web API on 127.0.0.1 (a real HTTP server, never the internet):
 * `chat.postMessage` and `chat.update`, form-encoded or JSON, answering as Slack does
 * (`{ ok: true, channel, ts }`), recording every request. A wrong token gets `invalid_auth`.
 */
export async function startSlackStandIn(opts: { token?: string } = {}): Promise<SlackStandIn> {
  const calls: SlackCall[] = [];
  let lastCallAt = Date.now();
  let seq = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
      const contentType = req.headers['content-type'];
      const args = parseArgs(await readBody(req), contentType);
      const authorization = req.headers.authorization;
      calls.push({ method, args, authorization, contentType });
      lastCallAt = Date.now();
      const reply = (body: Record<string, unknown>) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      if (opts.token && authorization !== `Bearer ${opts.token}`) return reply({ ok: false, error: 'invalid_auth' });
      switch (method) {
        case 'chat.postMessage': {
          const ts = `1700000000.${String(++seq).padStart(6, '0')}`;
          return reply({ ok: true, channel: CHANNEL_ID, ts, message: { text: args.text, ts, thread_ts: args.thread_ts } });
        }
        case 'chat.update':
          return reply({ ok: true, channel: args.channel, ts: args.ts, text: args.text });
        default:
          return reply({ ok: false, error: 'unknown_method' });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    async waitFor(predicate, timeoutMs = 60_000, what = 'the expected Slack requests') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(calls)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(calls.map((c) => [c.method, c.args.text]))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async quiet(ms = 1500) {
      const since = Date.now();
      while (Date.now() - Math.max(lastCallAt, since) < ms) await new Promise((r) => setTimeout(r, 100));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
