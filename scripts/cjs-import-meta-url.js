// Injected into the CommonJS CLI bundle (scripts/build.mjs): `import.meta.url` there is this.
export const __dpullUrl = require('node:url').pathToFileURL(__filename).href;
