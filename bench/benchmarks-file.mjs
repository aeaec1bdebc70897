// BENCHMARKS.md is made of sections, each written by one bench script; a script replaces only
// its own section (found by its heading) and leaves the others, and the hand-written notes, alone.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const HEAD = '# Benchmarks\n\nThe figures below are written by the bench scripts (`node bench/run.mjs --write`, `node bench/startup.mjs --write`, `node bench/registry.mjs --write`, `node bench/ssh.mjs --write`, `node bench/fleet.mjs --write`, `node bench/slow-link.mjs --write`, `node bench/throughput.mjs --write`, `node bench/containerd.mjs --write`); nothing in them is typed by hand. The notes at the end are.\n';

export function writeSection(heading, body) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  // sections[0] is always the header; the rest each start with their `## ` heading.
  const sections = [HEAD, ...text.split(/\n(?=## )/).filter((s) => s.startsWith('## '))];
  const fresh = `## ${heading}\n\n${body.trim()}\n`;
  const at = sections.findIndex((s) => s.startsWith(`## ${heading}\n`));
  if (at === -1) {
    const notes = sections.findIndex((s) => s.startsWith('## Notes'));
    sections.splice(notes === -1 ? sections.length : notes, 0, fresh);
  } else {
    sections[at] = fresh;
  }
  writeFileSync(file, sections.map((s) => s.trimEnd() + '\n').join('\n'));
}
