import { BlockList, isIP } from 'node:net';
import { usageError } from '../errors.js';
import type { Environment } from '../environment.js';
import { rememberCredentials, rememberSecret } from '../secrets.js';

// The proxy a request goes through, read from the environment as Go's httpproxy reads it (docker,
// skopeo, crane and regctl all use it): HTTPS_PROXY for https URLs, HTTP_PROXY for http ones (the
// upper-case name first, then the lower-case one), NO_PROXY a comma-separated list of `*`, host
// names (matching the host and its subdomains; `.example.com` only subdomains), IP addresses and
// CIDRs, each with an optional `:port`. Requests to localhost and loopback addresses are never
// proxied. A proxy URL without a scheme is http://.

const variable = (env: Environment, name: string): [string, string] | undefined => {
  for (const key of [name, name.toLowerCase()]) if (env[key]) return [key, env[key]!];
  return undefined;
};

const isLoopbackHost = (host: string) => host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';

/** The host as NO_PROXY compares it: lower case, no brackets. */
const bare = (host: string) => host.toLowerCase().replace(/^\[(.*)\]$/, '$1');

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/** True when NO_PROXY says `url` goes direct. */
export function bypassesProxy(noProxy: string, url: URL): boolean {
  const host = bare(url.hostname);
  const port = defaultPort(url);
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const cidr = /^([0-9a-f:.]+)\/(\d{1,3})$/.exec(entry);
    if (cidr !== null && isIP(cidr[1]) !== 0) {
      if (isIP(host) === 0) continue;
      const list = new BlockList();
      try {
        list.addSubnet(cidr[1], Number(cidr[2]), isIP(cidr[1]) === 6 ? 'ipv6' : 'ipv4');
      } catch {
        continue;
      }
      if (list.check(host, isIP(host) === 6 ? 'ipv6' : 'ipv4')) return true;
      continue;
    }
    // host, host:port, [v6]:port, v6
    const withPort = /^(.*?)(?::(\d+))?$/.exec(isIP(bare(entry)) === 6 ? `[${bare(entry)}]` : entry)!;
    const name = bare(withPort[1]);
    const wanted = withPort[2];
    if (wanted !== undefined && wanted !== port) continue;
    if (isIP(name) !== 0) {
      if (name === host) return true;
      continue;
    }
    const suffix = name.startsWith('*.') ? name.slice(1) : name;
    if (suffix.startsWith('.') ? host.endsWith(suffix) : host === suffix || host.endsWith(`.${suffix}`)) return true;
  }
  return false;
}

/** A proxy, and the variable that named it (for messages: never the URL, which may hold a password). */
export interface ProxyChoice {
  url: URL;
  variable: string;
  /** `host:port` of the proxy, for messages. */
  label: string;
}

/** The proxy for a request to `url`, or undefined to go direct. */
export function proxyFor(url: URL, env: Environment = process.env): ProxyChoice | undefined {
  if (isLoopbackHost(bare(url.hostname))) return undefined;
  const chosen = variable(env, url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY');
  if (chosen === undefined) return undefined;
  const noProxy = variable(env, 'NO_PROXY');
  if (noProxy !== undefined && bypassesProxy(noProxy[1], url)) return undefined;
  const [name, value] = chosen;
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw usageError(`${name} is not a URL`);
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') throw usageError(`${name}: dpull speaks to http and https proxies only, not ${proxy.protocol}`);
  // Held from now on: the proxy's password is never printed, nor its URL.
  if (proxy.password !== '') {
    rememberCredentials(decodeURIComponent(proxy.username), decodeURIComponent(proxy.password));
    rememberSecret(proxy.password);
    rememberSecret(value);
  }
  return { url: proxy, variable: name, label: proxy.host };
}
