// The README's samples are what dpull prints today: each is made again against the test stack
// the way scripts/readme-samples.mjs made it, and every line of the sample must have the shape of
// a line the new run printed (numbers, ids, digests and bars aside; the parts of a totals line
// each on their own, since which of them show depends on the moment).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { inject } from 'vitest';
// @ts-ignore: a plain ES module script, no types
import { readmeSamples, samples, shape } from '../../scripts/readme-samples.mjs';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const inReadme: Record<string, string[]> = readmeSamples(readme);
const stack = inject('stack');

/** A line's parts: its label (up to two spaces), then what ` · ` separates. */
const parts = (line: string) => {
  const [label, ...rest] = line.split('  ');
  return rest.length > 0 && line.includes(' · ') ? [shape(label), ...rest.join('  ').split(' · ').map((p) => shape(p))] : [shape(line)];
};

describe('README samples', () => {
  test('there are the samples the script makes', () => {
    expect(Object.keys(inReadme).sort()).toEqual(Object.keys(samples).sort());
  });

  test.each(Object.keys(samples))('%s: every line is one dpull prints today', async (name) => {
    // A sample is one moment of a live display: a line may show a state (a layer's status, a
    // total with unknown sizes) that one run passes through too fast to be drawn. So the lines
    // of up to three runs count together; a line no run prints is a sample that drifted.
    const seenShapes = new Set<string>();
    const seenParts = new Map<string, Set<string>>();
    const unmatchedNow = () =>
      inReadme[name].filter((line) => {
        if (seenShapes.has(shape(line))) return false;
        const [label, ...rest] = parts(line);
        return rest.length === 0 || !rest.every((part) => seenParts.get(label)?.has(part));
      });
    let unmatched: string[] = inReadme[name];
    for (let run = 0; run < 3 && unmatched.length > 0; run++) {
      const { seen } = await samples[name](stack);
      for (const line of seen as Set<string>) {
        seenShapes.add(shape(line));
        const [label, ...rest] = parts(line);
        for (const part of rest) (seenParts.get(label) ?? seenParts.set(label, new Set()).get(label)!).add(part);
      }
      unmatched = unmatchedNow();
    }
    expect(unmatched, 'run `node scripts/readme-samples.mjs` to make the samples anew').toEqual([]);
  }, 120_000);
});
