import http from 'node:http';
import { inject } from 'vitest';

/** The running test stack's addresses, from test/support/stack-setup.ts. */
export function stack() {
  const env = inject('stack');
  return {
    dockerHost: env.DPULL_TEST_DOCKER_HOST,
    socketPath: env.DPULL_TEST_DOCKER_HOST.replace('unix://', ''),
    registry: env.DPULL_TEST_REGISTRY,
    slowRegistry: env.DPULL_TEST_SLOW_REGISTRY,
    authRegistry: env.DPULL_TEST_AUTH_REGISTRY,
    authUser: env.DPULL_TEST_AUTH_USER,
    authPassword: env.DPULL_TEST_AUTH_PASSWORD,
    downRegistry: env.DPULL_TEST_DOWN_REGISTRY,
    tlsHost: env.DPULL_TEST_TLS_HOST,
    podmanHost: env.DPULL_TEST_PODMAN_HOST,
    certPath: env.DPULL_TEST_CERT_PATH,
    otherCertPath: env.DPULL_TEST_OTHER_CERT_PATH,
    /** Docker 26 with the containerd image store. */
    docker26Host: env.DPULL_TEST_DOCKER26_HOST,
    docker26Socket: env.DPULL_TEST_DOCKER26_HOST.replace('unix://', ''),
    /** A containerd of its own (1.7, CRI off): `containerd:///…/containerd.sock`, its socket, and ctr from the same package. */
    containerdHost: env.DPULL_TEST_CONTAINERD_HOST,
    containerdSocket: env.DPULL_TEST_CONTAINERD_HOST.replace('containerd://', ''),
    ctr: env.DPULL_TEST_CTR,
    /** The same with containerd 2.x (Debian forky's) and its ctr. */
    containerd2Host: env.DPULL_TEST_CONTAINERD2_HOST,
    containerd2Socket: env.DPULL_TEST_CONTAINERD2_HOST.replace('containerd://', ''),
    ctr2: env.DPULL_TEST_CTR2,
    /** sshd whose far side reaches the stack's dockerd; its ssh client config is in sshPath's `ssh`. */
    sshHost: env.DPULL_TEST_SSH_HOST,
    sshNoDockerHost: env.DPULL_TEST_SSH_NO_DOCKER_HOST,
    /** Put first on PATH: an `ssh` that reads the stack's client config (key, known hosts), as ~/.ssh/config would. */
    sshPath: `${env.DPULL_TEST_SSH_PATH}:${process.env.PATH}`,
    sshWrongKeyPath: `${env.DPULL_TEST_SSH_WRONG_KEY_PATH}:${process.env.PATH}`,
    /** The reference registry with token auth: public/three:1.0 anonymously, private/three:1.0 with the stack's credentials. */
    tokenRegistry: env.DPULL_TEST_TOKEN_REGISTRY,
    /** The reference registry over HTTPS by a host name (htpasswd: authUser/authPassword), its CA the stack's own. */
    tlsRegistry: env.DPULL_TEST_TLS_REGISTRY,
    /** The same with token auth (tokenRegistry's issuer): private/three with the stack's credentials. */
    tlsTokenRegistry: env.DPULL_TEST_TLS_TOKEN_REGISTRY,
    /** The same asking for a client certificate (open otherwise). */
    mtlsRegistry: env.DPULL_TEST_MTLS_REGISTRY,
    /** ca.pem, client.cert, client.key for both. */
    registryCerts: env.DPULL_TEST_REGISTRY_CERTS,
    /** The host name the registries are reached by when they must not be loopback (proxies): `registry.dpull.test`. */
    registryHost: env.DPULL_TEST_REGISTRY_HOST,
    /** squid with basic auth: http://USER:PASSWORD@127.0.0.1:PORT, and its access log. */
    proxy: env.DPULL_TEST_PROXY,
    proxyLog: env.DPULL_TEST_PROXY_LOG,
    /** The reference registry as a pull-through cache of tokenRegistry, holding the credentials for it. */
    cacheRegistry: env.DPULL_TEST_CACHE_REGISTRY,
  };
}

/** A request to the stack's engine (or another one's socket) straight over its socket, not through dpull. */
export function engineRequest(method: string, path: string, socketPath = stack().socketPath): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The image as the engine has it, or undefined when it has none by that reference. */
export async function inspectImage(ref: string): Promise<{ Id: string; RepoTags: string[]; RepoDigests: string[] } | undefined> {
  const { status, body } = await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`);
  return status === 200 ? JSON.parse(body) : undefined;
}

/** Removes every image of the stack's engine (or another's), so the next pull downloads every layer. */
export async function removeAllImages(socketPath = stack().socketPath): Promise<void> {
  const { body } = await engineRequest('GET', '/images/json?all=1', socketPath);
  for (const image of JSON.parse(body) as { Id: string }[]) {
    await engineRequest('DELETE', `/images/${image.Id}?force=1`, socketPath);
  }
  const left = JSON.parse((await engineRequest('GET', '/images/json?all=1', socketPath)).body) as unknown[];
  if (left.length > 0) throw new Error(`${socketPath} still has ${left.length} images`);
}

/** Whether the engine at socketPath has the image by this reference. */
export async function engineHas(ref: string, socketPath = stack().socketPath): Promise<boolean> {
  return (await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, socketPath)).status === 200;
}

/** The compressed layer sizes of an image, from the registry's manifest (what a pull downloads). */
export async function manifestLayerSizes(registry: string, repository: string, tag: string): Promise<number[]> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  const manifest = (await response.json()) as { layers: { size: number }[] };
  return manifest.layers.map((layer) => layer.size);
}
