import type { EngineAddress } from './address.js';
import { getJson } from './image-lookup.js';

// What an engine already holds of an image, so that --load sends it only what it lacks. The
// classic image store (dockerd's graph drivers) loads a docker-archive whose manifest.json lists
// layers it already has without their files (measured: 10 KB sent instead of 145 MB). Docker's
// containerd image store refuses that form ("failed to resolve layers") and podman needs every
// layer file ("Some layer tarfiles are missing"): those are sent everything.

/** At most this many images are inspected for their layers; an engine with more is sent everything. */
const MAX_IMAGES = 500;

export interface EngineHoldings {
  /** The engine has the image under its name (with one of its IDs): nothing to send. */
  hasImage: boolean;
  /** Diff IDs of layers the engine has and whose files it can do without in an archive. */
  layers: Set<string>;
}

const isDigest = (value: unknown): value is string => typeof value === 'string' && /^sha256:[a-f0-9]{64}$/.test(value);

/**
 * Asks the engine whether it has the image `name` as one of `ids` (config digest in the classic
 * store and podman, manifest or index digest in the containerd store) and, for a classic store,
 * which layers it has. Anything it cannot answer counts as held nowhere.
 */
export async function engineHoldings(engine: EngineAddress, apiVersion: string, name: string, ids: string[], signal?: AbortSignal): Promise<EngineHoldings> {
  const none: EngineHoldings = { hasImage: false, layers: new Set() };
  try {
    const named = await getJson(engine, `/v${apiVersion}/images/${encodeURIComponent(name)}/json`, signal);
    const id = (named.body as { Id?: unknown } | undefined)?.Id;
    if (named.status === 200 && typeof id === 'string' && ids.includes(id)) return { hasImage: true, layers: new Set() };
    const [version, info] = await Promise.all([getJson(engine, `/v${apiVersion}/version`, signal), getJson(engine, `/v${apiVersion}/info`, signal)]);
    const components = (version.body as { Components?: { Name?: unknown }[] } | undefined)?.Components;
    if (Array.isArray(components) && components.some((c) => typeof c?.Name === 'string' && /podman/i.test(c.Name))) return none;
    const driverStatus = (info.body as { DriverStatus?: unknown } | undefined)?.DriverStatus;
    if (info.status !== 200 || JSON.stringify(driverStatus ?? null).includes('io.containerd.snapshotter')) return none;
    const listed = await getJson(engine, `/v${apiVersion}/images/json?all=1`, signal);
    if (listed.status !== 200 || !Array.isArray(listed.body) || listed.body.length > MAX_IMAGES) return none;
    const layers = new Set<string>();
    for (const image of listed.body as { Id?: unknown }[]) {
      if (!isDigest(image?.Id)) continue;
      const inspected = await getJson(engine, `/v${apiVersion}/images/${image.Id}/json`, signal);
      const held = (inspected.body as { RootFS?: { Layers?: unknown } } | undefined)?.RootFS?.Layers;
      if (Array.isArray(held)) for (const diffId of held) if (isDigest(diffId)) layers.add(diffId);
    }
    return { hasImage: false, layers };
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    return none;
  }
}
