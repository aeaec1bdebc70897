import { ExitCode, type DpullError } from '../errors.js';

/** Whether a failed pull may succeed if run again. */
export type FailureKind = 'passing' | 'rate-limited' | 'lasting';

// One table for the engine's texts and the registry's statuses, from what real engines print
// (dockerd 20.10, Docker 26 with the containerd store) when a registry fails; each row has its
// unit test. Lasting reasons are matched first: a denied pull is never retried, whatever else
// its text says.
const LASTING: [RegExp, string][] = [
  [/manifest unknown|manifest for .* not found|: not found$|name unknown|repository does not exist/i, 'the image does not exist'],
  [/unauthorized|denied|no basic auth credentials|authentication required|authorization failed/i, 'access denied'],
  [/invalid reference format|invalid tag format/i, 'an invalid reference'],
  [/no matching manifest for|does not provide the specified platform/i, 'no such platform'],
  [/does not match|digest mismatch|unexpected commit digest/i, 'a digest mismatch'],
  [/no space left on device|disk quota exceeded/i, 'the disk is full'],
  [/no such host/i, 'an unknown registry host'],
];
const RATE_LIMITED = /\b429 Too Many Requests\b|toomanyrequests/i;
const PASSING: RegExp[] = [
  // dpull's own words for a registry's answer (`HOST: 503 …`): the status, whatever reason phrase came with it.
  /^\S+: (500|502|503|504|408)\b/,
  /\b5\d\d (Service Unavailable|Bad Gateway|Gateway Timeout|Internal Server Error)\b/,
  /received unexpected HTTP status: 5\d\d/,
  /\b408\b|Request Timeout/,
  /: EOF$|": EOF\b|unexpected EOF/,
  /connection reset by peer|connection refused|connection was reset|broken pipe/i,
  /i\/o timeout|TLS handshake timeout|context deadline exceeded|Client\.Timeout exceeded|: timed out$/i,
  /no route to host|network is unreachable/i,
  // dpull's own words for an engine that went silent (--timeout) or whose stream broke off.
  /nothing from (the engine|the registry \S+) for .* \(--timeout\)/,
  /was lost before the pull finished/,
];

/** Why a pull failed, as far as trying again is concerned. Unknown failures are lasting. */
export function classifyFailure(error: DpullError): FailureKind {
  // Bad input and an engine that cannot be reached are not a registry's passing fault.
  if (error.exitCode !== ExitCode.pullFailed) return 'lasting';
  const text = error.message;
  if (LASTING.some(([pattern]) => pattern.test(text))) return 'lasting';
  if (RATE_LIMITED.test(text)) return 'rate-limited';
  return PASSING.some((pattern) => pattern.test(text)) ? 'passing' : 'lasting';
}

/** The wait before attempt `attempt` (2, 3, …): `first`, doubling, at most a minute, ±20 % jitter. */
export function backoffMs(attempt: number, firstMs: number, random: () => number = Math.random): number {
  const base = Math.min(60_000, firstMs * 2 ** Math.max(0, attempt - 2));
  return Math.round(base * (0.8 + 0.4 * random()));
}
