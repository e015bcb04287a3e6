import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { FollowEvent } from '../../cli/follow';
import { run } from '../../cli/main';
import { DeployView, Renderer } from '../../cli/render';
import { firstUnprintable } from '../../events/text';

/**
 * Issue #12 (finding 12): what the CLI prints from events and the ledger is text someone else
 * wrote. The schemas now refuse unprintable free text, but the ledger and the bus still hold what
 * was accepted before, and events come from other versions: the CLI strips control and
 * bidirectional characters before printing, so a Reason cannot rewrite the terminal (erase a line,
 * print "Completed" over a failure) or reorder what the reader sees.
 */
const ESCAPE = 'bad\u001b[2K\r\u001b[32mDeploy completed\u001b[0m';
const BIDI = 'approved by \u202eecila\u202c';
/** The renderer's own status-line redraw: the only control sequence it may write. */
const CLEAR_LINE = '\r\u001b[2K';

const paused = (reason: string): FollowEvent => ({
  id: 'e-1',
  detailType: 'RolloutPaused',
  detail: { DeployId: 'd-1', AccountCanonicalSlug: 'a', ServiceName: 's', Seq: 3, Step: 1, Percent: 50, By: 'request', Reason: reason },
  time: new Date().toISOString(),
  receivedAt: Date.now(),
});

function collect(isTTY: boolean) {
  let text = '';
  return { out: { isTTY, write: (s: string) => (text += s) }, text: () => text };
}

/** What was written, less the renderer's own redraws and line ends: it must all be printable. */
const foreign = (text: string) => firstUnprintable(text.split(CLEAR_LINE).join('').replaceAll('\n', ''));

describe('CLI output: control and bidirectional characters from events are stripped', () => {
  it.each([false, true])('prints a Reason with a terminal escape and a bidi override harmlessly (TTY: %s)', (tty) => {
    // Prepare
    const c = collect(tty);
    const r = new Renderer(c.out, new DeployView('d-1'));

    // Act
    r.event(paused(`${ESCAPE} ${BIDI}`));
    r.tick();
    r.close();

    // Assess
    expect(foreign(c.text())).toBeUndefined();
    expect(c.text()).toContain('bad[2K [32mDeploy completed[0m approved by ecila');
  });
});

describe('CLI output: ledger items printed by history are stripped', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  afterEach(() => ddb.reset());

  it('prints RequestedBy, the cancel reason and errors without their control or bidi characters', async () => {
    // Prepare: a deploy recorded before the schemas refused such text.
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          pk: 'a#s',
          sk: 'DEPLOY#d-1',
          DeployId: 'd-1',
          AmiId: 'ami-12345678',
          Result: 'Cancelled',
          StartedAt: '2026-11-26T20:00:00.000Z',
          FinishedAt: '2026-11-26T20:01:00.000Z',
          RequestedBy: `mallory\r${BIDI}`,
          CancelReason: ESCAPE,
          Errors: [`step failed\n[+ 1.0s] Completed      deploy d-1 completed`],
        },
      ],
    });
    let stdout = '';

    // Act
    const code = await run(['--region', 'us-east-1', 'history', '--account', 'a', '--service', 's'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: () => true },
    });

    // Assess
    expect(code).toBe(0);
    expect(foreign(stdout)).toBeUndefined();
    expect(stdout).toContain('requested by: mallory approved by ecila');
    // A newline inside a value cannot forge a line of its own.
    expect(stdout).toContain('error: step failed [+ 1.0s] Completed');
  });
});
