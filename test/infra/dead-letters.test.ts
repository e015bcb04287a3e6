import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import type * as Topology from '../../events/topology';
import { Deployomat } from '../../infra/cdk';
import { newApp, newStack, props, refId, resourcesOf, type CfnTemplate } from './helpers';

/**
 * The dead-letters handler is optional in the topology: with one, it reads every other handler's
 * dead-letter queue and has no queue of its own; without one, nothing reads them (they only alarm).
 * Both cases are built here from a topology that is the real one plus or minus that handler (and
 * a few broken ones, which the construct must reject).
 */
type Variant = 'without' | 'with' | 'two' | 'slow';
let variant: Variant = 'without';

vi.mock('../../events/topology', async (importOriginal) => {
  const original = await importOriginal<typeof Topology>();
  const others = original.handlers.filter((h) => h.trigger.kind !== 'dead-letters');
  const deadLetters: Topology.HandlerSpec = {
    name: 'dead-letter',
    entry: 'handlers/relay-timer.ts', // any existing entry: bundling is skipped here
    trigger: { kind: 'dead-letters' },
    queue: { visibilityTimeoutSeconds: 120, maxReceiveCount: 5, batchSize: 1 },
    timeoutSeconds: 45,
    memoryMb: 256,
    concurrency: { max: 2 },
  };
  const current = (): Topology.HandlerSpec[] => {
    switch (variant) {
      case 'without':
        return others;
      case 'with':
        return [...others, deadLetters];
      case 'two':
        return [...others, deadLetters, { ...deadLetters, name: 'dead-letter-2' }];
      case 'slow':
        return others.map((h, i) => (i === 0 ? { ...h, timeoutSeconds: h.queue.visibilityTimeoutSeconds + 1 } : h));
    }
  };
  return {
    ...original,
    get handlers() {
      return current();
    },
    queuedHandlers: () => current().filter((h) => h.trigger.kind !== 'dead-letters'),
  };
});

const topology = await import('../../events/topology');

function synth(which: Variant): CfnTemplate {
  variant = which;
  const stack = newStack(newApp(), `DeadLetters-${which}`);
  new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme' });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

const queueNames = (t: CfnTemplate, ids: (string | undefined)[]) =>
  ids.map((id) => props(t.Resources[id!]!).QueueName as string).sort();

describe('Construct: Deployomat, dead-letter queues', () => {
  it('without a dead-letters handler, maps no dead-letter queue', () => {
    const t = synth('without');
    const names = topology.resourceNames();
    // Core handlers only: feature handlers (e.g. `slack`) are built by constructs of their own.
    const queued = topology.handlers.filter((h) => h.trigger.kind !== 'dead-letters' && !h.feature);
    expect(resourcesOf(t, 'AWS::Lambda::Function')).toHaveLength(queued.length);
    const sources = resourcesOf(t, 'AWS::Lambda::EventSourceMapping').map(([, m]) => refId(props(m).EventSourceArn));
    expect(queueNames(t, sources)).toEqual(queued.map((h) => names.queue(h.name)).sort());
    // Still alarmed, and kept 14 days for someone to look at.
    expect(resourcesOf(t, 'AWS::CloudWatch::Alarm')).toHaveLength(queued.length);
  });

  it('with one, maps every dead-letter queue to it, and gives it no queue of its own', () => {
    const t = synth('with');
    const names = topology.resourceNames();
    // A feature handler's dead letters (e.g. Slack's) never roll a deploy back: only the core's are mapped.
    const queued = topology.queuedHandlers().filter((h) => !h.feature);
    const [fnId] = resourcesOf(t, 'AWS::Lambda::Function').find(([, f]) => props(f).FunctionName === 'deployomat-dead-letter')!;
    const mappings = resourcesOf(t, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refId(props(m).FunctionName) === fnId);
    // ...and a projection's (the audit history) never do either.
    expect(queueNames(t, mappings.map(([, m]) => refId(props(m).EventSourceArn)))).toEqual(
      queued.filter((h) => !h.projection).map((h) => names.deadLetterQueue(h.name)).sort(),
    );
    for (const [, m] of mappings) expect(props(m)).toMatchObject({ BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    const queues = resourcesOf(t, 'AWS::SQS::Queue').map(([, q]) => props(q));
    expect(queues.map((q) => q.QueueName)).not.toContain(names.queue('dead-letter'));
    expect(queues).toHaveLength(2 * queued.length);
    // Each dead-letter queue hides a message in flight longer than the dead-letters handler runs.
    for (const q of queues.filter((q) => String(q.QueueName).endsWith('-dlq'))) expect(q.VisibilityTimeout).toBe(120);
  });

  it('rejects two dead-letters handlers: they would split the dead letters between them', () => {
    expect(() => synth('two')).toThrow('at most one handler may consume the dead-letter queues (got dead-letter, dead-letter-2)');
  });

  it('rejects a queue that would redeliver a message its handler is still working on', () => {
    variant = 'slow';
    const [first] = topology.handlers;
    expect(() => synth('slow')).toThrow(
      `${first!.name}: queue visibility timeout (${first!.queue.visibilityTimeoutSeconds} s) must be at least the Lambda timeout (${first!.timeoutSeconds} s)`,
    );
  });
});
