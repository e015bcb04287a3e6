/**
 * What a rejection can say back about a request it could not accept: the string fields it names,
 * clipped, so a malformed or hostile request still gets an answer subscribers can match on.
 */
export function echoFields(detail: unknown): { AccountCanonicalSlug?: string; ServiceName?: string; AmiId?: string; DeployId?: string } {
  const d = (typeof detail === 'object' && detail ? detail : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 256) : undefined);
  return { AccountCanonicalSlug: str(d.AccountCanonicalSlug), ServiceName: str(d.ServiceName), AmiId: str(d.AmiId), DeployId: str(d.DeployId) };
}
