// dpull's proxy rules against Go's own (golang.org/x/net/http/httpproxy, which docker, skopeo,
// crane and regctl use; built from Debian 13's source packages by scripts/go-oracle.sh): for every
// generated HTTPS_PROXY/HTTP_PROXY/NO_PROXY and URL, the same choice — direct, or which proxy.
import { goOracle } from '../support/go-oracle.js';
import fc from 'fast-check';
import { beforeAll, expect, test } from 'vitest';
import { proxyFor } from '../../src/config/proxy.js';

let goVerdicts: (cases: Case[]) => { proxy: string; error?: string }[];
beforeAll(() => {
  goVerdicts = goOracle('proxy');
}, 300_000);

interface Case {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
  url: string;
}

/** Go's choice for each case: '' for direct, else the proxy's host:port. */
function goChoices(cases: Case[]): string[] {
  return goVerdicts(cases).map((verdict) => (verdict.error !== undefined ? 'error' : verdict.proxy === '' ? '' : new URL(verdict.proxy).host));
}

function dpullChoice(c: Case): string {
  try {
    return proxyFor(new URL(c.url), { HTTP_PROXY: c.httpProxy, HTTPS_PROXY: c.httpsProxy, NO_PROXY: c.noProxy })?.url.host ?? '';
  } catch {
    return 'error';
  }
}

const host = fc.constantFrom('example.com', 'registry.example.com', 'notexample.com', 'EXAMPLE.com', '10.1.2.3', '11.1.2.3', '192.168.1.7', '[fd00::1]', '[2001:db8::5]', 'localhost', '127.0.0.1', '127.5.5.5', '[::1]', 'registry.dpull.test', 'a.b.dpull.test');
const port = fc.constantFrom('', ':443', ':80', ':5000', ':5731');
const scheme = fc.constantFrom('http', 'https');
const entry = fc.constantFrom(
  'example.com', '.example.com', '*.example.com', 'example.com:5000', 'example.com:443', 'EXAMPLE.COM', '10.0.0.0/8', '10.1.2.3',
  '10.1.2.3:5000', '192.168.1.7', '192.168.1.7:80', '192.168.0.0/16', 'fd00::/8', '[fd00::1]:5000', 'fd00::1', '2001:db8::/32', '*',
  'dpull.test', '.dpull.test', 'registry.dpull.test:5731', '.test', ' example.com ', '', 'other.example', 'com',
);
const proxyValue = fc.constantFrom('http://proxy.corp:3128', 'proxy.corp:8080', 'https://secure.corp:443', 'http://user:pw@proxy.corp:3128', '');
const aCase = fc.record({
  httpProxy: proxyValue,
  httpsProxy: proxyValue,
  noProxy: fc.array(entry, { maxLength: 4 }).map((entries) => entries.join(',')),
  url: fc.tuple(scheme, host, port).map(([s, h, p]) => `${s}://${h}${p}/v2/`),
});

test('NO_PROXY, HTTPS_PROXY and HTTP_PROXY: the same choice as Go for 3000 generated cases', () => {
  const cases = fc.sample(aCase, { numRuns: 3000, seed: 29 });
  const go = goChoices(cases);
  const differing = cases.map((c, i) => ({ ...c, go: go[i], dpull: dpullChoice(c) })).filter((c) => c.go !== c.dpull);
  expect(differing.slice(0, 10)).toEqual([]);
  // The generator reaches both outcomes often: the comparison is not all one way.
  expect(go.filter((g) => g === '').length).toBeGreaterThan(300);
  expect(go.filter((g) => g !== '' && g !== 'error').length).toBeGreaterThan(300);
});
