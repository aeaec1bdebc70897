// The library: what the dpull command is built on.
export { pull, type Pull, type PullOptions, type PullResult } from './pull/pull.js';
export type { EngineOutcome } from './state/pull-result.js';
export type { PullEvent, LayerPhase } from './decode/pull-event.js';
export { PullState, type PullTotals, type TagResult } from './state/pull-state.js';
export type { LayerRecord } from './state/layer-state.js';
export { parseReference, formatReference, type ImageReference } from './reference/reference.js';
export { parseEngineUrl, type EngineAddress, type EngineTls } from './engine/address.js';
export { resolveEngine, candidateSockets, type EngineChoice } from './engine/engine-resolution.js';
export { DpullError, ExitCode } from './errors.js';
export { resolveAuth, registryKey } from './config/registry-auth.js';
export { readDockerConfig, configDir, type DockerConfig } from './config/docker-config.js';
