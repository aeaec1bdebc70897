// Credentials dpull holds (a password, an identity token, a registry token) must never reach
// the screen, a log or a library caller's error, even when a hostile registry echoes them back.
// Every secret is remembered here in every form it may come back in: as it is, base64 (standard
// and URL-safe, padded or not), URL-encoded (upper- and lower-case hex, `+` for a space) and
// JSON-escaped (`\/`, `\u003c`, non-ASCII as `\uXXXX`). Everything dpull prints passes through
// `redact`: sanitize does it where text enters, every DpullError's message is redacted when it
// is made, and the command's output streams redact what they are given. Credentials found in
// such text that dpull does not hold (`Basic …`, `Bearer …`, a JWT) are taken out too.

const REDACTED = '[redacted]';
/** Secrets shorter than this are redacted only where they stand alone (not inside a word). */
const ANYWHERE_LENGTH = 4;
const held = new Set<string>();
let heldList: string[] = [];
let shortPattern: RegExp | undefined;
let heldVersion = 0;

/** Changes whenever a secret is added: text redacted before may need redacting again. */
export const secretsVersion = () => heldVersion;

/** The forms a secret travels or comes back in. */
function formsOf(secret: string): string[] {
  const base64 = Buffer.from(secret).toString('base64');
  const url = base64.replace(/\+/g, '-').replace(/\//g, '_');
  const encoded = encodeURIComponent(secret).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const json = JSON.stringify(secret).slice(1, -1);
  const asciiJson = json.replace(/[\u007f-\uffff<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [
    secret,
    base64,
    base64.replace(/=+$/, ''),
    url,
    url.replace(/=+$/, ''),
    encodeURIComponent(secret),
    encoded,
    encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    encoded.replace(/%20/g, '+'),
    json,
    json.replace(/\//g, '\\/'),
    asciiJson,
    asciiJson.replace(/\//g, '\\/'),
  ];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Remembers a secret, whatever its length, in every form it may come back in. */
export function rememberSecret(secret: string | undefined): void {
  if (secret === undefined || secret === '') return;
  const before = held.size;
  for (const form of formsOf(secret)) held.add(form);
  if (held.size === before) return;
  const all = [...held].sort((a, b) => b.length - a.length); // the longest first: no half-redacted form
  heldList = all.filter((s) => s.length >= ANYWHERE_LENGTH);
  const short = all.filter((s) => s.length < ANYWHERE_LENGTH);
  shortPattern = short.length > 0 ? new RegExp(`(?<![A-Za-z0-9])(?:${short.map(escapeRegExp).join('|')})(?![A-Za-z0-9])`, 'g') : undefined;
  heldVersion++;
}

/** Remembers a user's password in each form: the password, `user:password` and their encodings. */
export function rememberCredentials(username: string | undefined, password: string | undefined): void {
  rememberSecret(password);
  if (username !== undefined && password !== undefined) rememberSecret(`${username}:${password}`);
}

/**
 * Remembers what an `X-Registry-Auth` value (base64url JSON) carries: the value itself, the
 * password and `user:password`, an identity token or registry token.
 */
export function rememberRegistryAuth(header: string | undefined): void {
  if (header === undefined || header === '' || header === 'e30=') return;
  rememberSecret(header);
  try {
    const decoded = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, unknown>;
    const text = (key: string) => (typeof decoded[key] === 'string' && decoded[key] !== '' ? (decoded[key] as string) : undefined);
    rememberCredentials(text('username'), text('password'));
    rememberSecret(text('identitytoken'));
    rememberSecret(text('registrytoken'));
  } catch {
    // Not JSON: the value itself is remembered.
  }
}

// Basic/Bearer credentials (`Basic dXNlcjpwdw==`), and JWT-shaped tokens anywhere.
const CREDENTIAL = /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{4,}|\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const MAYBE_CREDENTIAL = /Basic|Bearer|eyJ/;

/** The text with every secret dpull holds, and every credential-shaped token, replaced. */
export function redact(text: string): string {
  let out = text;
  for (const secret of heldList) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (shortPattern !== undefined) out = out.replace(shortPattern, REDACTED);
  if (MAYBE_CREDENTIAL.test(out)) out = out.replace(CREDENTIAL, (match, scheme: string | undefined) => (scheme ? `${scheme} ${REDACTED}` : REDACTED));
  return out;
}
