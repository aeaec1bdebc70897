// Reading registries.conf: what a machine without mirrors costs, and a missing file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { readRegistriesConf } from '../../src/config/registries-conf.js';
import { scratchDir } from '../support/scratch.js';

const file = (text: string) => {
  const path = join(scratchDir('dpull-conf-'), 'registries.conf');
  writeFileSync(path, text);
  return path;
};

test('CONTAINERS_REGISTRIES_CONF naming a file that is not there: no rules, as the containers tools take it', async () => {
  expect(await readRegistriesConf({ CONTAINERS_REGISTRIES_CONF: '/nonexistent/registries.conf' })).toEqual([]);
});

test('a file with no [[registry]] table (podman\'s default, all comments) is not parsed: even broken TOML after it is no error', async () => {
  expect(await readRegistriesConf({ CONTAINERS_REGISTRIES_CONF: file('# unqualified-search-registries = ["docker.io"]\n[aliases]\n"x" = "docker.io/library/x"\nthis is not = = toml\n') })).toEqual([]);
});

test('a [[registry]] table with mirrors is read; a broken file that has one is a usage error naming it', async () => {
  const rules = await readRegistriesConf({ CONTAINERS_REGISTRIES_CONF: file('[[registry]]\nprefix = "docker.io"\nlocation = "registry-1.docker.io"\n[[registry.mirror]]\nlocation = "mirror.corp:5000"\npull-from-mirror = "digest-only"\n') });
  expect(rules).toMatchObject([{ prefix: 'docker.io', location: 'registry-1.docker.io', mirrors: [{ location: 'mirror.corp:5000', insecure: false, pullFromMirror: 'digest-only' }] }]);
  const broken = file('[[registry]]\nprefix = \n');
  await expect(readRegistriesConf({ CONTAINERS_REGISTRIES_CONF: broken })).rejects.toThrow(new RegExp(`^${broken} is not valid TOML: `));
});
