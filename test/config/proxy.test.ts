// What dpull adds around Go's rules (the variables' names, the scheme, refusing other proxies).
// NO_PROXY itself is checked against Go's own implementation (test/e2e/proxy-oracle.test.ts) and
// with a real proxy (test/e2e/proxy.test.ts).
import { describe, expect, test } from 'vitest';
import { proxyFor } from '../../src/config/proxy.js';

describe('the proxy for a URL', () => {
  test('HTTPS_PROXY for https, HTTP_PROXY for http; upper case first; no scheme means http://', () => {
    const env = { HTTPS_PROXY: 'proxy.corp:3128', https_proxy: 'http://lower:1', HTTP_PROXY: 'http://plain.corp:8080' };
    expect(proxyFor(new URL('https://r.example/v2/'), env)?.url.href).toBe('http://proxy.corp:3128/');
    expect(proxyFor(new URL('http://r.example/v2/'), env)?.url.href).toBe('http://plain.corp:8080/');
    expect(proxyFor(new URL('https://r.example/v2/'), { https_proxy: 'http://lower:1' })?.variable).toBe('https_proxy');
  });

  test('localhost and loopback addresses are never proxied', () => {
    const env = { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1' };
    for (const url of ['http://localhost:5000/v2/', 'https://127.0.0.1:5000/v2/', 'http://[::1]:5000/v2/', 'http://127.9.9.9/']) expect(proxyFor(new URL(url), env)).toBeUndefined();
  });

  test('a proxy URL of another scheme is a usage error', () => {
    expect(() => proxyFor(new URL('https://r.example/'), { HTTPS_PROXY: 'socks5://p:1080' })).toThrow(/http and https proxies only/);
  });
});
