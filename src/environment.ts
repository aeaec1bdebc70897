/**
 * The environment a pull reads (DOCKER_HOST, DOCKER_CONFIG, HOME …): `process.env` fits it. Our
 * own name for it keeps Node's type definitions out of the library's public types.
 */
export type Environment = Record<string, string | undefined>;
