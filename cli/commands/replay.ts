import { DescribeArchiveCommand, DescribeEventBusCommand, DescribeReplayCommand, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import { handlers } from '../../events/topology';
import { println, type Context } from '../context';
import { EXIT, UsageError } from '../errors';

/**
 * replay: re-sends the bus archive's events of a time window onto the bus. Only projections
 * (the audit history) take replayed events; every choreography rule excludes them, so this
 * rebuilds history and never re-runs a deploy. Prints who will see the replay before starting.
 */
export async function replay(ctx: Context, o: { from?: string; to?: string; archive?: string; name?: string }): Promise<number> {
  const from = Date.parse(o.from ?? '');
  const to = o.to ? Date.parse(o.to) : Date.now();
  if (Number.isNaN(from)) throw new UsageError('--from is required: an ISO 8601 time, e.g. 2026-11-26T00:00:00Z');
  if (Number.isNaN(to) || to <= from) throw new UsageError('--to must be an ISO 8601 time after --from');
  const events = ctx.aws.events();
  const bus = await events.send(new DescribeEventBusCommand({ Name: ctx.aws.options.bus }));
  const archiveName = o.archive ?? `${ctx.aws.options.bus}-archive`;
  const archive = await events.send(new DescribeArchiveCommand({ ArchiveName: archiveName }));

  const consumers = handlers.filter((h) => h.trigger.kind === 'events' && h.trigger.subscriptions.some((s) => s.replays === 'include'));
  println(ctx.stdout, `Replaying ${archiveName} from ${new Date(from).toISOString()} to ${new Date(to).toISOString()} onto ${ctx.aws.options.bus}.`);
  println(ctx.stdout, `Seen by: ${consumers.map((h) => h.name).join(', ') || 'nothing'} (projections).`);
  println(ctx.stdout, `Ignored by: ${handlers.length - consumers.length} choreography handler(s) — a replay never re-runs a deploy.`);

  const name = o.name ?? `replay-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
  await events.send(
    new StartReplayCommand({
      ReplayName: name,
      EventSourceArn: archive.ArchiveArn,
      EventStartTime: new Date(from),
      EventEndTime: new Date(to),
      Destination: { Arn: bus.Arn },
    }),
  );
  for (let i = 0; i < 600; i++) {
    const r = await events.send(new DescribeReplayCommand({ ReplayName: name }));
    if (r.State === 'COMPLETED') {
      println(ctx.stdout, `Replay ${name} completed.`);
      return EXIT.ok;
    }
    if (r.State === 'FAILED' || r.State === 'CANCELLED') {
      println(ctx.stderr, `Replay ${name} ${r.State.toLowerCase()}: ${r.StateReason ?? 'no reason given'}`);
      return EXIT.failed;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  println(ctx.stdout, `Replay ${name} still running; check it with: aws events describe-replay --replay-name ${name}`);
  return EXIT.ok;
}
