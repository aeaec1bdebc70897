// What is retried: a row per text, each as a real engine printed it (dockerd 20.10, Docker 26 with
// the containerd store, podman) when a registry failed in the test stack, or as dpull says it.
import { describe, expect, test } from 'vitest';
import { backoffMs, classifyFailure } from '../../src/pull/retry-policy.js';
import { DpullError, ExitCode } from '../../src/errors.js';

const pullFailed = (message: string) => new DpullError(message, ExitCode.pullFailed);

describe('passing failures are retried', () => {
  test.each([
    ['dockerd: 503 on the manifest', 'received unexpected HTTP status: 503 Service Unavailable'],
    ['Docker 26: 503 on the manifest', 'failed to resolve reference "127.0.0.1:37669/demo/three:1.0": unexpected status from HEAD request to http://127.0.0.1:37669/v2/demo/three/manifests/1.0: 503 Service Unavailable'],
    ['Docker 26: 503 on a blob', 'failed to copy: httpReadSeeker: failed open: unexpected status code https://127.0.0.1:36567/v2/demo/three/manifests/sha256:3fcf733153e65c100dc40d6747a3d18ea28ddc738f7fd6cfca981b993426819b: 503 Service Unavailable'],
    ['dockerd: a reset connection', 'Head "http://127.0.0.1:33023/v2/demo/three/manifests/1.0": EOF'],
    ['Docker 26: a reset connection', 'failed to resolve reference "127.0.0.1:39887/demo/three:1.0": failed to do request: Head "https://127.0.0.1:39887/v2/demo/three/manifests/1.0": EOF'],
    ['dockerd: the registry gone', 'Get "http://127.0.0.1:5734/v2/": dial tcp 127.0.0.1:5734: connect: connection refused'],
    ['Docker 26: the registry gone', 'failed to resolve reference "127.0.0.1:5734/demo/three:1.0": failed to do request: Head "https://127.0.0.1:5734/v2/demo/three/manifests/1.0": dial tcp 127.0.0.1:5734: connect: connection refused'],
    ['a 502 from a proxy', 'received unexpected HTTP status: 502 Bad Gateway'],
    ['a timeout', 'Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)'],
    ['an i/o timeout', 'Get "https://r.example/v2/": dial tcp 10.0.0.1:443: i/o timeout'],
    ['the engine went silent (--timeout)', 'nothing from the engine for 30s (--timeout); the pull was cancelled'],
    ['the engine stream broke off', 'the connection to the engine at unix:///var/run/docker.sock was lost before the pull finished'],
  ])('%s', (_, message) => {
    expect(classifyFailure(pullFailed(message))).toBe('passing');
  });
});

describe('rate limits are retried, after asking the registry', () => {
  test.each([
    ['dockerd: 429', 'toomanyrequests: You have reached your pull rate limit.'],
    ['Docker 26: 429', 'failed to resolve reference "127.0.0.1:40911/demo/three:1.0": unexpected status from HEAD request to http://127.0.0.1:40911/v2/demo/three/manifests/1.0: 429 Too Many Requests'],
    ['Docker 26: 429 on a blob', 'failed to copy: httpReadSeeker: failed open: unexpected status code https://127.0.0.1:42709/v2/demo/three/manifests/sha256:3fcf73: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.'],
  ])('%s', (_, message) => {
    expect(classifyFailure(pullFailed(message))).toBe('rate-limited');
  });
});

describe('lasting failures fail at once', () => {
  test.each([
    ['dockerd: unknown tag', 'manifest for 127.0.0.1:5731/demo/three:9.9 not found: manifest unknown: manifest unknown'],
    ['Docker 26: unknown tag', 'failed to resolve reference "127.0.0.1:5731/demo/three:9.9": 127.0.0.1:5731/demo/three:9.9: not found'],
    ['podman: unknown tag', 'initializing source docker://127.0.0.1:5731/demo/nope:1.0: reading manifest 1.0 in 127.0.0.1:5731/demo/nope: manifest unknown'],
    ['dockerd: no credentials', 'Head "http://127.0.0.1:5732/v2/private/three/manifests/1.0": no basic auth credentials'],
    ['Docker 26: no credentials', 'failed to resolve reference "127.0.0.1:5732/private/three:1.0": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials'],
    ['denied', 'pull access denied for app, repository does not exist or may require \'docker login\': denied: requested access to the resource is denied'],
    ['unauthorized', 'unauthorized: authentication required'],
    ['a platform the index lacks', 'no matching manifest for linux/s390x in the manifest list entries'],
    ['a digest mismatch', 'filesystem layer verification failed for digest sha256:abc: digest mismatch'],
    ['a full disk', 'write /var/lib/docker/tmp/GetImageBlob123: no space left on device'],
    ['something dpull does not know', 'the engine reported an error without a message'],
  ])('%s', (_, message) => {
    expect(classifyFailure(pullFailed(message))).toBe('lasting');
  });

  test.each([
    ['bad input (exit 2)', new DpullError('invalid reference format: repository name (A) must be lowercase', ExitCode.usage)],
    ['an engine that cannot be reached (exit 3)', new DpullError('cannot connect to the Docker engine at unix:///var/run/docker.sock: connection refused (is the Docker daemon running?)', ExitCode.engineUnreachable)],
  ])('%s, even when its words look passing', (_, error) => {
    expect(classifyFailure(error)).toBe('lasting');
  });
});

test('the wait doubles from the first, within ±20 %, and never passes a minute', () => {
  expect(backoffMs(2, 2000, () => 0.5)).toBe(2000);
  expect(backoffMs(3, 2000, () => 0.5)).toBe(4000);
  expect(backoffMs(4, 2000, () => 0.5)).toBe(8000);
  expect(backoffMs(2, 2000, () => 0)).toBe(1600);
  expect(backoffMs(2, 2000, () => 1)).toBe(2400);
  expect(backoffMs(12, 2000, () => 0.5)).toBe(60_000);
});
