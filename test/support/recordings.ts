import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../fixtures/streams/', import.meta.url));

/** Names of the streams recorded from the real engine by scripts/record-streams.mjs. */
export const recordingNames = () => readdirSync(dir).filter((f) => f.endsWith('.stream')).map((f) => f.replace(/\.stream$/, ''));

export const recording = (name: string): Buffer => readFileSync(`${dir}/${name}.stream`);
