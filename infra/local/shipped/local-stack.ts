import { LOCAL_ACCOUNT, LOCAL_REGION } from '../local-env';
import { LOCAL_ENVIRONMENT } from '../provision';
import { ORG } from '../seed';
import { ShippedBundleError } from './errors';
import { synthShippedStack, type ShippedStack, type ShippedStackProps } from './stack';

type Seconds = (value: string) => import('aws-cdk-lib').Duration;

/**
 * The construct prop that makes the stack set each handler variable a local run may change: the
 * way back from the environment the source mode takes (`startLocal({ env })`) to the props of the
 * Deployomat construct, whose `handlerEnvironment` turns them into the template's variables again.
 */
const PROP_OF: Record<string, (value: string, seconds: Seconds) => Partial<ShippedStackProps>> = {
  DEPLOYOMAT_ENVIRONMENT: (v) => ({ environment: v }),
  DEPLOYOMAT_META_ROLE_ARN: (v) => ({ metaRoleArn: v }),
  DEPLOYOMAT_ROLE_EXTERNAL_ID: (v) => ({ roleExternalId: v }),
  DEPLOYOMAT_SERVICE_NAME: (v) => ({ serviceName: v }),
  DEPLOYOMAT_AMI_OWNERS: (v) => ({ amiOwners: v.split(',') }),
  DEPLOYOMAT_REQUIRE_OWNER_TAGS: (v) => ({ requireOwnerTags: v === 'true' }),
  DEPLOYOMAT_HEALTH_CHECK_INTERVAL: (v, s) => ({ healthCheckInterval: s(v) }),
  DEPLOYOMAT_ALARM_CHECK_INTERVAL: (v, s) => ({ alarmCheckInterval: s(v) }),
  DEPLOYOMAT_DRAIN_SECONDS: (v, s) => ({ drainTime: s(v) }),
  DEPLOYOMAT_DEADLINE_MARGIN_SECONDS: (v, s) => ({ deadlineMargin: s(v) }),
  DEPLOYOMAT_RETRY_BASE_SECONDS: (v, s) => ({ retryBase: s(v) }),
  DEPLOYOMAT_SCHEDULER_LEAD_SECONDS: (v, s) => ({ schedulerLead: s(v) }),
  DEPLOYOMAT_DRY_RUN_INTERVAL_SECONDS: (v, s) => ({ dryRunInterval: s(v) }),
  DEPLOYOMAT_MAX_PAUSE_SECONDS: (v, s) => ({ maxPause: s(v) }),
};

/**
 * The Deployomat stack of a local installation, for the bundle mode: synthesized (cached) for the
 * local account and region, with `prefix`, and with `settings` — the handler variables the source
 * mode would take from the environment — as construct props. A variable no prop sets throws: in
 * AWS nothing else could set it either.
 */
export async function synthLocalStack(settings: Record<string, string> = {}, prefix?: string): Promise<ShippedStack> {
  const { Duration } = await import('aws-cdk-lib');
  const seconds: Seconds = (v) => Duration.seconds(Number(v));
  const props: ShippedStackProps = { environment: LOCAL_ENVIRONMENT, organizationPrefix: ORG, ...(prefix ? { prefix } : {}) };
  for (const [name, value] of Object.entries(settings)) {
    const prop = PROP_OF[name];
    if (!prop) throw new ShippedBundleError(`${name} is set by no prop of the Deployomat construct: the bundles cannot get it (known: ${Object.keys(PROP_OF).join(', ')})`);
    Object.assign(props, prop(value, seconds));
  }
  return synthShippedStack(props, { account: LOCAL_ACCOUNT, region: LOCAL_REGION });
}
