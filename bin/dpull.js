#!/usr/bin/env node
// `dpull --version` alone answers without loading the program: as fast as Node starts.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  // A pull is short-lived and its heap small: V8's memory reducer would spend ~50 ms of CPU on
  // two full collections 8 s in, to give back a megabyte the process returns at exit anyway.
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--no-memory-reducer-for-small-heaps');
  const { main } = await import('../dist/cli.js');
  await main();
}
