// dpull's reference parser against the docker CLI's own (distribution/reference, built from Debian
// 13's source packages by scripts/go-oracle.sh): the same verdict for every reference, the
// same normalised reference when valid, the CLI's words where dpull repeats them.
import { goOracle } from '../support/go-oracle.js';
import fc from 'fast-check';
import { beforeAll, expect, test } from 'vitest';
import { formatReference, parseReference } from '../../src/reference/reference.js';

let cliVerdicts: (inputs: string[]) => Verdict[];
beforeAll(() => {
  /** The docker CLI's verdicts on every input, from one run of the oracle. */
  cliVerdicts = goOracle<string, Verdict>('reference');
}, 300_000);

interface Verdict {
  ok: boolean;
  ref?: string;
  error?: string;
}


function dpullVerdict(input: string): Verdict {
  try {
    return { ok: true, ref: formatReference(parseReference(input)) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

// The grammar's pieces, and near-misses of each.
const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const component = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9]{1,5}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,4}){0,2}$/) },
  { weight: 1, arbitrary: fc.constantFrom('A', 'Ab', 'a_', '_a', 'a___b', 'a..b', 'a-', '', '.', 'a:b', 'é', 'a b') },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 258 }).map((n) => 'a'.repeat(n)) },
);
const domain = fc.oneof(
  fc.constantFrom('docker.io', 'index.docker.io', 'localhost', 'localhost:5000', '127.0.0.1:5000', '[::1]:5000', '[fe80::1]',
    'Example.COM', 'example.com:0', 'host_name.com', '-x.com', 'a.b-c.d', 'My-Reg:443', 'UPPER', 'registry:', 'a..b', ':5000'),
  fc.tuple(fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,4}[a-zA-Z0-9])?$/), fc.option(fc.stringMatching(/^[a-z0-9]{1,4}$/)), fc.option(fc.integer({ min: 0, max: 70000 })))
    .map(([a, b, port]) => `${a}${b !== null ? `.${b}` : ''}${port !== null ? `:${port}` : ''}`),
);
const tag = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[\w][\w.-]{0,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom('.x', '-x', '', 'a/b', 'a@b', 't'.repeat(128), 't'.repeat(129), 'Latest') },
);
const digest = fc.oneof(
  { weight: 3, arbitrary: hex(64).map((h) => `sha256:${h}`) },
  { weight: 1, arbitrary: hex(64).map((h) => `sha256:${h.toUpperCase()}`) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 66 }).chain((n) => hex(n)).map((h) => `sha256:${h}`) },
  { weight: 1, arbitrary: hex(96).map((h) => `sha384:${h}`) },
  { weight: 1, arbitrary: hex(128).map((h) => `sha512:${h}`) },
  { weight: 1, arbitrary: hex(32).map((h) => `md5:${h}`) },
  { weight: 1, arbitrary: hex(64).map((h) => `sha256+b64:${h}`) },
  { weight: 1, arbitrary: hex(64).map((h) => `SHA256:${h}`) },
);
const wellFormed = fc
  .tuple(fc.option(domain, { freq: 2 }), fc.array(component, { minLength: 1, maxLength: 4 }), fc.option(tag, { freq: 2 }), fc.option(digest, { freq: 3 }))
  .map(([d, path, t, dg]) => `${d !== null ? `${d}/` : ''}${path.join('/')}${t !== null ? `:${t}` : ''}${dg !== null ? `@${dg}` : ''}`);
/** A well-formed reference with one character put in, taken out or changed. */
const nearMiss = fc
  .tuple(wellFormed, fc.nat(), fc.constantFrom('/', ':', '@', '.', '_', '-', 'A', ' ', '', '//', '::'))
  .map(([s, at, c]) => {
    const i = s.length === 0 ? 0 : at % s.length;
    return c === '' ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + c + s.slice(i);
  });
const reference = fc.oneof({ weight: 3, arbitrary: wellFormed }, { weight: 2, arbitrary: nearMiss }, { weight: 1, arbitrary: hex(64) });

test('5,000 generated references: the same verdict as the docker CLI, the same normalised reference', () => {
  const seed = Date.now();
  const inputs = fc.sample(reference, { numRuns: 5000, seed });
  const cli = cliVerdicts(inputs);
  expect(cli).toHaveLength(inputs.length);
  const differences = inputs.flatMap((input, i) => {
    const ours = dpullVerdict(input);
    const theirs = cli[i];
    const same =
      ours.ok === theirs.ok &&
      (!ours.ok || `${theirs.ref}` === ours.ref!.replace(/:latest$/, '') || theirs.ref === ours.ref) &&
      // Where dpull says what the CLI says (lowercase, 64-hex names), it says it in the CLI's words.
      (ours.ok || !/repository name \(.*\) must be lowercase|64-byte hexadecimal/.test(theirs.error!) || ours.error === theirs.error);
    return same ? [] : [{ input, dpull: ours, cli: theirs }];
  });
  expect(differences.slice(0, 10), `seed ${seed}: ${differences.length} differences`).toEqual([]);
  // The run covered both verdicts in numbers, not one side only.
  expect(cli.filter((v) => v.ok).length).toBeGreaterThan(500);
  expect(cli.filter((v) => !v.ok).length).toBeGreaterThan(500);
});

test('the three differences once found: other digest algorithms, the 255-character limit, the lowercase message', () => {
  const inputs = [
    `x@md5:${'a'.repeat(32)}`,
    `x@sha256+b64:${'a'.repeat(64)}`,
    `x@sha512:${'a'.repeat(128)}`,
    `x@sha384:${'a'.repeat(96)}`,
    `127.0.0.1:5000/${'a'.repeat(255)}`,
    `127.0.0.1:5000/${'a'.repeat(256)}`,
    `x/${'a'.repeat(253)}`,
    'A:a',
    'A:a:b',
    'x/A@sha256:abc',
    'Host:5000/A:tag',
  ];
  const cli = cliVerdicts(inputs);
  inputs.forEach((input, i) => {
    const ours = dpullVerdict(input);
    expect(ours.ok, input).toBe(cli[i].ok);
    if (ours.ok) expect(ours.ref, input).toBe(cli[i].ref);
    else if (/must be lowercase/.test(cli[i].error!)) expect(ours.error, input).toBe(cli[i].error);
  });
});
