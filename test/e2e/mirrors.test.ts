// Mirrors and pull-through caches: the reference registry in `proxy:` mode in front of the token
// registry (it holds the credentials; dpull has none), a mirror that is down, one that lacks the
// image; registries.conf as podman and skopeo read it, --registry-mirror as the daemon takes it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
const down = () => `127.0.0.1:${Number(s.registry.split(':')[1]) + 14}`;
const privateImage = () => `${s.tokenRegistry}/private/three:1.0`;

/** A registries.conf of the test's own (CONTAINERS_REGISTRIES_CONF), and an empty docker config. */
function conf(toml: string): Record<string, string> {
  const dir = scratchDir('dpull-conf-');
  writeFileSync(join(dir, 'registries.conf'), toml);
  writeFileSync(join(dir, 'config.json'), '{}');
  return { CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'), DOCKER_CONFIG: dir, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
}
const mirrored = (mirrors: string[], extra = '') =>
  `[[registry]]\nprefix = "${s.tokenRegistry}"\nlocation = "${s.tokenRegistry}"\n${extra}\n${mirrors.map((m) => `[[registry.mirror]]\nlocation = "${m}"\n`).join('\n')}`;

const index = (dir: string) => JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };

describe('registries.conf mirrors', () => {
  test('a pull-through cache holding credentials dpull lacks: pulled from it, the mirror down before it said once, the names the origin\'s', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'out');
    const run = await runDpull(['--no-tty', '-o', `oci:${dir}`, privateImage()], conf(mirrored([down(), s.cacheRegistry])));
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n');
    expect(lines.filter((l) => l.includes('did not serve'))).toEqual([
      expect.stringMatching(new RegExp(`the mirror ${down()} did not serve ${privateImage()} \\(cannot reach the registry ${down()} .*connection refused\\); trying ${s.cacheRegistry}$`)),
    ]);
    expect(lines.some((l) => l.includes(`Downloaded newer image for ${privateImage()} to oci:${dir}, named 1.0 (from the mirror ${s.cacheRegistry})`))).toBe(true);
    expect(index(dir).manifests[0].annotations['io.containerd.image.name']).toBe(privateImage());
  });

  test('the cache down as well: the origin, with dpull\'s credentials, each fall back said once', async () => {
    const env = conf(mirrored([down(), `127.0.0.1:${Number(s.registry.split(':')[1]) + 15}`]));
    env.DOCKER_AUTH_CONFIG = JSON.stringify({ auths: { [s.tokenRegistry]: { auth: Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64') } } });
    const run = await runDpull(['--no-tty', '-o', `oci:${scratchDir('dpull-oci-')}/out`, privateImage()], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.includes('did not serve'))).toHaveLength(2);
    expect(run.stderr).toMatch(new RegExp(`trying ${s.tokenRegistry}\\n`));
    expect(run.stderr).not.toContain('(from the mirror');
  });

  test('a mirror without the image (404): the next one', async () => {
    const run = await runDpull(['--no-tty', '-o', `oci:${scratchDir('dpull-oci-')}/out`, privateImage()], conf(mirrored([s.registry, s.cacheRegistry])));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`the mirror ${s.registry} did not serve ${privateImage()} \\(manifest for ${s.registry}/private/three:1\\.0 not found: manifest unknown\\); trying ${s.cacheRegistry}`));
  });

  test('pull-from-mirror = "digest-only": a tag goes to the origin, a digest to the mirror', async () => {
    const toml = `[[registry]]\nprefix = "${s.tokenRegistry}"\n[[registry.mirror]]\nlocation = "${s.cacheRegistry}"\npull-from-mirror = "digest-only"\n`;
    const byTag = await runDpull(['--progress', 'json', '-o', `oci:${scratchDir('dpull-oci-')}/out`, privateImage()], conf(toml));
    expect(byTag.code).toBe(1); // the origin: private, and dpull has no credentials
    expect(byTag.stderr).toMatch(/denied access to private\/three/);
    const digest = JSON.parse(
      (await runDpull(['--progress', 'json', '-o', `oci:${scratchDir('dpull-oci-')}/out`, privateImage()], conf(mirrored([s.cacheRegistry])))).stdout.trim().split('\n').at(-1)!,
    ).digest as string;
    const byDigest = await runDpull(['--no-tty', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${s.tokenRegistry}/private/three@${digest}`], conf(toml));
    expect(byDigest.code, byDigest.stderr).toBe(0);
    expect(byDigest.stderr).toContain(`(from the mirror ${s.cacheRegistry})`);
  });
});

describe('--registry-mirror, as the daemon\'s registry-mirrors', () => {
  test('Docker Hub images from the mirror first (Docker Hub itself out of reach here); the name stays docker.io\'s', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'out');
    const run = await runDpull(['--no-tty', '--registry-mirror', `http://${s.cacheRegistry}`, '-o', `oci:${dir}`, 'private/three:1.0'], conf(''));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Downloaded newer image for docker.io/private/three:1.0 to oci:${dir}, named 1.0 (from the mirror ${s.cacheRegistry})`);
    expect(index(dir).manifests[0].annotations['io.containerd.image.name']).toBe('docker.io/private/three:1.0');
  });

  test('not for other registries; a mirror that is not a URL is a usage error', async () => {
    const other = await runDpull(['--no-tty', '--registry-mirror', `http://${down()}`, '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${s.registry}/demo/three:1.0`], conf(''));
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).not.toContain('did not serve');
    const bad = await runDpull(['--registry-mirror', 'mirror.corp/path', '-o', `oci:${scratchDir('dpull-oci-')}/out`, 'alpine'], conf(''));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('dpull: invalid --registry-mirror "mirror.corp/path": expected http://HOST[:PORT] or https://HOST[:PORT]\n');
  });
});
