import type { ServiceState } from '../../../domain/ledger';
import { DeployConfig } from '../../../events/client';

export const T0 = Date.parse('2026-01-01T12:00:00.000Z');
export const iso = (ms: number) => new Date(ms).toISOString();

/** A deploy of shop started at T0, at `Phase` (paused at 50 % since `pausedAt`, if given). */
export function serviceState(opts: { phase?: ServiceState['Phase']; pausedAt?: number; rollbackAt?: number; config?: Record<string, unknown>; heldSince?: number } = {}): ServiceState {
  const paused = opts.pausedAt !== undefined;
  return {
    AccountCanonicalSlug: 'acme',
    ServiceName: 'shop',
    ActiveDeployId: 'shop-2',
    Phase: opts.phase ?? (paused ? 'Paused' : 'Shifting'),
    Seq: 5,
    DeployAsgName: 'shop-new',
    ProductionAsgName: 'shop-old',
    UndeployState: '',
    Request: {
      DeployId: 'shop-2',
      AmiId: 'ami-1',
      Config: DeployConfig.parse({ TrafficShiftPerStep: 50, ...opts.config }),
      StartedAt: iso(T0),
      Timestamp: '20260101T120000Z',
      RoleArn: 'arn:aws:iam::2:role/x',
      Org: 'acme',
      ListenerArns: ['l'],
    },
    Progress: { Step: 1, Percent: 50, ...(opts.heldSince !== undefined ? { HeldSince: iso(opts.heldSince) } : {}) },
    ...(paused
      ? {
          Paused: {
            Since: iso(opts.pausedAt!),
            FromPhase: 'Shifting' as const,
            NextStep: 2,
            By: 'request' as const,
            Reason: 'checking',
            ...(opts.rollbackAt !== undefined ? { RollbackAt: iso(opts.rollbackAt) } : {}),
          },
        }
      : {}),
    Outbox: [],
    OutboxCause: 'e',
    UpdatedAt: iso(T0),
  };
}
