/**
 * `deployomat`: the command line for Deployomat (commander wiring only; each command lives in
 * cli/commands/). Runs with tsx, no build step: `npm run cli -- <args>`, `npx tsx cli/main.ts`,
 * or the package bin (cli/bin.js). `run()` is what tests call, in-process.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { resourceNames } from '../events/topology';
import { Aws, type GlobalOptions } from './aws';
import { cancel } from './commands/cancel';
import { deploy } from './commands/deploy';
import { history } from './commands/history';
import { importOriginal } from './commands/import';
import { replay } from './commands/replay';
import { steer } from './commands/rollout';
import { status } from './commands/status';
import { undeploy } from './commands/undeploy';
import { watch } from './commands/watch';
import { println, type Context, type Io } from './context';
import { CliError, EXIT } from './errors';
import { collect } from './options';
import { ORIGINAL_TABLE } from '../domain/original';

type Action<O> = (ctx: Context, opts: O) => Promise<number>;

export function buildProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command('deployomat')
    .description('Blue/green AMI deploys with Deployomat: start, follow, steer, cancel and inspect them.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    .option('--endpoint <url>', 'AWS endpoint for every service, e.g. the local runtime http://127.0.0.1:<port>')
    .option('--region <region>', 'AWS region (default: AWS_REGION / the profile)')
    .option('--profile <name>', 'AWS profile (default: AWS_PROFILE / the default chain)')
    .option('--bus <name>', 'Deployomat event bus', resourceNames().bus)
    .option('--table <name>', 'Deployomat ledger table', resourceNames().table);

  const action =
    <O>(fn: Action<O>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      done(await fn({ ...io, aws: new Aws(globals) }, cmd.opts() as O));
    };
  const key = (c: Command, what = 'the service') =>
    c.option('--account <slug>', `account canonical slug of ${what} (required)`).option('--service <name>', 'service name (required)');
  const concurrent = (def: string) =>
    new Option('--on-concurrent-deploy <policy>', `fail or rollback when a deploy of the service is running (default: ${def})`);

  key(program.command('deploy').description('Start a deploy of an AMI; prints the deploy id'))
    .option('--ami <ami>', 'AMI id or command ($name-prefix:<p>, $launchtemplate:<n>|$Latest|$Default|$LatestMinus:<k>) (required)')
    .option('--bake-time <s>', 'seconds at 100 % before the previous version is deleted (default 60)')
    .option('--traffic-shift-per-step <p>', 'whole percent of traffic moved per step, 1-100 (default 5)')
    .option('--wait-per-step <s>', 'seconds between steps (default 15)')
    .option('--health-timeout <s>', 'seconds for the new instances to become healthy (default 300)')
    .addOption(concurrent('rollback'))
    .option('--allow-undeploy <bool>', 'true or false: whether the service may then be undeployed')
    .option('--automatic-undeploy-minutes <m>', 'undeploy automatically this long after the deploy completes')
    .option('--skip-notifications', 'no notifications except failures')
    .option('--rollback-alarm <name>', 'CloudWatch alarm gating the rollout: in ALARM, the deploy rolls back (repeatable)', collect)
    .option('--alarm-grace-period <s>', 'seconds an alarm must stay in ALARM before it counts')
    .option('--pause-at <percent>', 'pause the rollout once a step reaches this share of traffic, 1-99 (repeatable)', collect)
    .option('--pause-timeout <s>', 'roll a paused rollout back after this long without resume or promote (default and most: the installation\'s maximum pause, 24 h unless set otherwise)')
    .option('--dry-run', 'resolve and plan only, change nothing: prints what the deploy would do (always waits for the plan)')
    .option('--deploy-id <id>', 'deploy id (default <service>-<yyyymmddThhmmss>-<random>); publishing the same id twice starts one deploy')
    .option('--requested-by <who>', 'who or what asks, kept in the history (default: the CI run, or user@host)')
    .option('--wait', 'follow the deploy; exit 0 when completed, 1 when it fails, is cancelled or rejected')
    .action(action(deploy));

  const rolloutVerbs = [
    ['pause', 'Pause the running rollout where it is (traffic stays as it is) until resume or promote'],
    ['resume', 'Resume a paused rollout'],
    ['promote', 'Promote the running rollout: the remaining traffic steps and the bake are skipped'],
  ] as const;
  for (const [verb, description] of rolloutVerbs) {
    key(program.command(verb).description(description))
      .option('--deploy-id <id>', 'act only if this is the running deploy (a command meant for one deploy never steers the next)')
      .option('--reason <text>', 'why (shown in the answer, the history and Slack)')
      .option('--wait', `wait for Deployomat's answer; exit 0 when applied, 1 when rejected`)
      .action(action(steer(verb)));
  }

  key(program.command('cancel').description('Cancel the running deploy of a service (it is rolled back)'))
    .option('--reason <text>', 'why (shown in DeployCancelled)')
    .option('--wait', 'follow the rollback; exit 0 once rolled back, 1 if there was nothing to cancel')
    .action(action(cancel));

  key(program.command('undeploy').description("Delete a service's production ASG, target groups and rules (if its last deploy allowed it)"))
    .addOption(concurrent('fail'))
    .option('--wait', 'follow it; exit 0 when undeployed, 1 when rejected or failed')
    .action(action(undeploy));

  program
    .command('status')
    .description('What is deploying and in production per service, with the live ALB weights')
    .option('--account <slug>', 'only this account')
    .option('--service <name>', 'only this service')
    .action(action(status));

  key(program.command('history').description('Past deploys of a service, newest first'))
    .option('--limit <n>', 'at most this many', '20')
    .action(action(history));

  program
    .command('replay')
    .description('Re-send archived events onto the bus: rebuilds the audit history, never re-runs a deploy')
    .option('--from <time>', 'start of the window, ISO 8601 (required)')
    .option('--to <time>', 'end of the window, ISO 8601 (default: now)')
    .option('--archive <name>', 'archive name (default: <bus>-archive)')
    .option('--name <name>', 'replay name (default: replay-<timestamp>)')
    .action(action(replay));

  program
    .command('import')
    .description("Hand services over from the original Deployomat (run once, by an operator with their own credentials)")
    .option('--original-table <name>', "the original's DynamoDB table", ORIGINAL_TABLE)
    .option('--account <slug>', 'only this account')
    .option('--service <name>', 'only this service (with --account)')
    .option('--dry-run', 'print what would be imported and what is refused, and why; change nothing')
    .option('--meta-role-arn <arn>', 'role to read the account registry with, when it is in another account')
    .option('--workload-role-arn <arn>', "an operator's role in the workload account (Deployomat's own roles may not retag)")
    .option('--scheduler-role-arn <arn>', "the installation's scheduler role: needed to move the original's automatic undeploys")
    .option('--deployomat-service-name <name>', 'the Managed tag value and role name both installations use', 'deployomat')
    .action(action(importOriginal));

  key(program.command('watch').description('Follow a running deploy (the output of deploy --wait)').argument('<deploy-id>', 'the deploy id'))
    .action(async (deployId: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      done(await watch({ ...io, aws: new Aws(globals) }, deployId, cmd.opts()));
    });

  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code; never exits the process. */
export async function run(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; every other commander error is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      println(io.stderr, `error: ${err.message}`);
      for (const d of err.details) println(io.stderr, `  - ${d}`);
      return err.exitCode;
    }
    const lines = (err instanceof Error ? (err.stack ?? err.message) : String(err)).split('\n');
    lines.forEach((line, i) => println(io.stderr, i ? line : `error: ${line}`));
    return EXIT.failed;
  }
}

function isEntry(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) process.exitCode = await run(process.argv.slice(2));
