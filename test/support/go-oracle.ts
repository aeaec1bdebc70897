// The Go oracles the differential tests check dpull against (scripts/go-oracle.sh builds them
// from Debian's Go sources, once), and one way to ask them: JSON lines in, JSON lines out.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/go-oracle.sh', import.meta.url));

/** Builds (or finds) the oracle `name` and returns a function that asks it about every input at once. */
export function goOracle<In, Out>(name: 'reference' | 'proxy'): (inputs: In[]) => Out[] {
  const binary = execFileSync('bash', [script, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return (inputs) => {
    const out = execFileSync(binary, { input: inputs.map((i) => JSON.stringify(i)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
    return out.trim().split('\n').map((line) => JSON.parse(line) as Out);
  };
}
