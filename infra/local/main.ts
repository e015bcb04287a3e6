/**
 * `npm run local`: Deployomat on your machine. Starts the AWS emulator (or attaches to one with
 * --endpoint), provisions the topology, runs the handlers, seeds a sample account and services
 * (unless --no-seed), prints how to start a deploy with the AWS CLI, and prints every lifecycle
 * event until interrupted (Ctrl-C).
 */
import { parseArgs } from 'node:util';
import { startEmulator, type Emulator } from './emulator';
import { LOCAL_ACCOUNT, LOCAL_REGION, startLocal } from './local-env';
import { Observer } from './observer';
import { describeEvent } from './progress';
import { accountOf, MULTI_ACCOUNT, seedAccount, seedService, SINGLE_ACCOUNT } from './seed';
import { synthLocalStack } from './shipped/local-stack';

const { values: args } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    port: { type: 'string' },
    prefix: { type: 'string', default: 'deployomat' },
    'no-seed': { type: 'boolean', default: false },
    'single-account': { type: 'boolean', default: false },
    'meta-role-arn': { type: 'string' },
    'initial-health-seconds': { type: 'string', default: '3' },
    bundles: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`Usage: npm run local -- [--endpoint URL | --port N] [--prefix NAME] [--no-seed | --single-account] [--meta-role-arn ARN]
                       [--initial-health-seconds S] [--bundles]

  --endpoint URL              attach to an already running emulator instead of starting one
  --port N                    port for the emulator this command starts (default: a free one)
  --prefix NAME               installation prefix: bus, queues, table names (default: deployomat)
  --no-seed                   do not create the sample account, services and AMIs (use your own)
  --single-account            seed everything in Deployomat's own account (registry included)
                              instead of separate meta (111111111111) and workload (222222222222) ones
  --meta-role-arn ARN         read the account registry through this role (default: the seed's
                              meta role; with --no-seed, none: the registry is in this account)
  --initial-health-seconds S  new targets report 'initial' for S seconds (default: 3)
  --bundles                   run the esbuild bundles of the synthesized stack on Lambda's Node
                              (installed into .cache/ on first use), not the TypeScript sources`);
  process.exit(0);
}
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

let emulator: Emulator | undefined;
if (!args.endpoint) {
  const port = args.port ? Number(args.port) : undefined;
  if (args.port && !Number.isInteger(port)) throw new Error(`--port must be a number, got ${args.port}`);
  emulator = await startEmulator({ port, initialHealthSeconds: Number(args['initial-health-seconds']) });
}
const endpoint = args.endpoint ?? emulator!.endpoint;
const layout = args['single-account'] ? SINGLE_ACCOUNT : MULTI_ACCOUNT;
// A meta role only where there is one: the sample's own, or the one given (single-account setups have none).
const metaRoleArn = args['meta-role-arn'] ?? (args['no-seed'] ? undefined : layout.metaRoleArn);
const settings = { ...(metaRoleArn && { DEPLOYOMAT_META_ROLE_ARN: metaRoleArn }), DEPLOYOMAT_HEALTH_CHECK_INTERVAL: '5' };
// With --bundles the settings are construct props: the functions get them from the template.
const local = await startLocal({
  endpoint,
  prefix: args.prefix,
  env: args.bundles ? {} : settings,
  runtime: args.bundles ? { bundles: { stack: await synthLocalStack(settings, args.prefix) } } : undefined,
});
const observer = await Observer.start(local.install.busName, 'local-watch');

let example = '{"AccountCanonicalSlug":"<slug>","ServiceName":"<service>","AmiId":"ami-..."}';
if (!args['no-seed']) {
  const account = await seedAccount({ slug: 'acme-workload-dev', layout });
  const web = await seedService(account, { service: 'storefront', web: true, amis: ['storefront-v1', 'storefront-v2'] });
  const worker = await seedService(account, { service: 'worker', web: false, priority: 20, amis: ['worker-v1'] });
  example = JSON.stringify({ AccountCanonicalSlug: 'acme-workload-dev', ServiceName: 'storefront', AmiId: web.amis['storefront-v1'] });
  console.log(`Seeded account acme-workload-dev: web service "storefront" (AMIs ${Object.values(web.amis).join(', ')}),`);
  console.log(`non-web service "worker" (AMI ${worker.amis['worker-v1']}).`);
}
const entries = JSON.stringify([
  { EventBusName: local.install.busName, Source: 'deployomat.client', DetailType: 'DeployRequested', Detail: example },
]);
console.log(`
Deployomat is running locally.
  endpoint   ${endpoint}
  region     ${LOCAL_REGION}
  account    ${LOCAL_ACCOUNT} (Deployomat)${args['no-seed'] ? '' : `, workload ${accountOf(layout.deployRoleArn)}`}
  registry   ${metaRoleArn ? `through ${metaRoleArn}` : `in ${LOCAL_ACCOUNT} (no meta role)`}
  bus        ${local.install.busName}
  ledger     ${local.install.tableName}${local.install.slackTableName ? `\n  slack      ${local.install.slackTableName} (the notifier's messages)` : ''}

Start a deploy from another terminal:
  export AWS_ENDPOINT_URL=${endpoint} AWS_REGION=${LOCAL_REGION} AWS_DEFAULT_REGION=${LOCAL_REGION} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  aws events put-events --entries '${entries}'

Lifecycle events appear below. Ctrl-C stops everything.
`);
observer.onEvent((e) => console.log(`${new Date().toISOString()}  ${String(e.detail.DeployId ?? '').padEnd(36)}  ${e.detailType.padEnd(16)} ${describeEvent(e)}`));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping...');
  await observer.stop();
  await local.stop();
  await emulator?.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
