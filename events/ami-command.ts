import { stripUnprintable } from './text';

/**
 * The grammar of the `AmiId` field of DeployRequested: a plain AMI id, or one of the original's
 * `$` commands. Parsing lives with the event contract because it *is* part of the contract.
 */
export type AmiCommand =
  | { kind: 'ami'; amiId: string }
  /** `resolve:ssm:<parameter>[:<version or label>]`, as a launch template's ImageId accepts it. */
  | { kind: 'ssm-parameter'; parameter: string }
  | { kind: 'name-prefix'; prefix: string }
  | { kind: 'launch-template'; version: LaunchTemplateVersionRef };

export type LaunchTemplateVersionRef =
  | { kind: 'number'; number: number }
  | { kind: 'latest' }
  | { kind: 'default' }
  | { kind: 'latest-minus'; minus: number };

export type ParseResult = { ok: true; command: AmiCommand } | { ok: false; reason: string };

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const NAME_PREFIX = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
const POSITIVE_INT = /^[1-9][0-9]{0,8}$/;
const NON_NEGATIVE_INT = /^(0|[1-9][0-9]{0,8})$/;
/** SSM's parameter names (1-2048 of `[a-zA-Z0-9_.-/]`), with an optional `:<version>` or `:<label>` selector. */
const SSM_PARAMETER = /^[a-zA-Z0-9_.\-/]{1,2048}(:[a-zA-Z0-9_.-]{1,100})?$/;
const RESOLVE_SSM = 'resolve:ssm:';

export function parseAmiCommand(value: string): ParseResult {
  if (value.startsWith(RESOLVE_SSM)) {
    const parameter = value.slice(RESOLVE_SSM.length);
    return SSM_PARAMETER.test(parameter)
      ? { ok: true, command: { kind: 'ssm-parameter', parameter } }
      : { ok: false, reason: `resolve:ssm: needs an SSM parameter name (letters, digits, _ . - /), optionally :<version>, got "${clip(parameter)}"` };
  }
  if (!value.startsWith('$')) {
    return AMI_ID.test(value)
      ? { ok: true, command: { kind: 'ami', amiId: value } }
      : { ok: false, reason: `AmiId "${clip(value)}" is not an AMI id (ami-xxxxxxxx), resolve:ssm:<parameter> or a $ command` };
  }
  const colon = value.indexOf(':');
  const name = colon === -1 ? value : value.slice(0, colon);
  const arg = colon === -1 ? undefined : value.slice(colon + 1);
  switch (name) {
    case '$name-prefix':
      if (arg === undefined || !NAME_PREFIX.test(arg)) {
        return { ok: false, reason: `$name-prefix needs 3-128 characters of A-Z a-z 0-9 ( ) [ ] space . / - ' @ _, got "${clip(arg ?? '')}"` };
      }
      return { ok: true, command: { kind: 'name-prefix', prefix: arg } };
    case '$launchtemplate':
      return parseLaunchTemplateArg(arg);
    default:
      return { ok: false, reason: `unknown AmiId command "${clip(name)}"; use $name-prefix:<prefix> or $launchtemplate:<N|$Latest|$Default|$LatestMinus:k>` };
  }
}

function parseLaunchTemplateArg(arg: string | undefined): ParseResult {
  const ok = (version: LaunchTemplateVersionRef): ParseResult => ({ ok: true, command: { kind: 'launch-template', version } });
  if (arg === '$Latest') return ok({ kind: 'latest' });
  if (arg === '$Default') return ok({ kind: 'default' });
  if (arg !== undefined && POSITIVE_INT.test(arg)) return ok({ kind: 'number', number: Number(arg) });
  if (arg?.startsWith('$LatestMinus:')) {
    const k = arg.slice('$LatestMinus:'.length);
    // The original takes 0 too ($LatestMinus:0 is $Latest).
    if (NON_NEGATIVE_INT.test(k)) return ok({ kind: 'latest-minus', minus: Number(k) });
  }
  return { ok: false, reason: `$launchtemplate needs a version: a number, $Latest, $Default or $LatestMinus:<k>, got "${clip(arg ?? '')}"` };
}

/** Keep hostile input out of logs and events at a readable size, and printable (it is echoed in DeployRejected). */
function clip(s: string): string {
  const printable = stripUnprintable(s);
  return printable.length > 80 ? `${printable.slice(0, 77)}...` : printable;
}
