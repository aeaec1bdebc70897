// Credentials dpull holds (a password, an identity token, a registry token) must never reach
// the screen or a log, even when a hostile registry echoes them back in an error. Every secret
// is remembered here in every form it is sent in, and every text dpull prints from outside
// passes through `redact` (sanitize does it). Credentials found in such text that dpull does not
// hold (`Basic …`, `Bearer …`, a JWT) are taken out too.

const REDACTED = '[redacted]';
/** Too short to hide without hiding ordinary words. */
const MIN_SECRET_LENGTH = 4;
const held = new Set<string>();
let heldList: string[] = [];
let heldVersion = 0;

/** Changes whenever a secret is added: text redacted before may need redacting again. */
export const secretsVersion = () => heldVersion;

/** Remembers a secret and the forms it travels in: itself, and base64 (standard and URL-safe). */
export function rememberSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return;
  const base64 = Buffer.from(secret).toString('base64');
  for (const form of [secret, base64, base64.replace(/=+$/, ''), base64.replace(/\+/g, '-').replace(/\//g, '_')]) {
    if (form.length >= MIN_SECRET_LENGTH) held.add(form);
  }
  heldList = [...held].sort((a, b) => b.length - a.length); // the longest first: no half-redacted form
  heldVersion++;
}

/** Remembers a user's password in each form: the password, `user:password` and their base64. */
export function rememberCredentials(username: string | undefined, password: string | undefined): void {
  rememberSecret(password);
  if (username !== undefined && password !== undefined) rememberSecret(`${username}:${password}`);
}

// Basic/Bearer credentials (`Basic dXNlcjpwdw==`), and JWT-shaped tokens anywhere.
const CREDENTIAL = /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{4,}|\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const MAYBE_CREDENTIAL = /Basic|Bearer|eyJ/;

/** The text with every secret dpull holds, and every credential-shaped token, replaced. */
export function redact(text: string): string {
  let out = text;
  for (const secret of heldList) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (MAYBE_CREDENTIAL.test(out)) out = out.replace(CREDENTIAL, (match, scheme: string | undefined) => (scheme ? `${scheme} ${REDACTED}` : REDACTED));
  return out;
}
