import type { EngineAddress } from '../engine/address.js';
import { negotiateApiVersion } from '../engine/api-version.js';
import { readBody, requestEngine } from '../engine/transport.js';
import { errorMessage } from '../engine/pull-request.js';
import { lookUpImage } from '../engine/image-lookup.js';
import { JsonMessageDecoder } from '../decode/json-stream.js';
import type { PullEvent } from '../decode/pull-event.js';
import { archiveSize, archiveStream, type ArchiveContents } from '../output/archive.js';
import { BufferRing } from '../output/buffer-ring.js';
import { pullError } from '../errors.js';
import { sanitize } from '../sanitize.js';
import { formatBytes } from '../render/format.js';
import { clip } from '../registry/descriptor.js';

interface LoadMessage {
  status?: unknown;
  id?: unknown;
  stream?: unknown;
  progressDetail?: { current?: unknown; total?: unknown };
  error?: unknown;
  errorDetail?: { message?: unknown };
}

/**
 * Loads an image the client pulled into an engine: a docker-archive streamed from the blob files
 * as the body of `POST /images/load` (no copy of the image on disk or in memory), over whatever
 * transport reaches the engine (ssh included). The engine's progress comes back as the layers'
 * `Loading layer` (by the layer each diff ID belongs to), then the engine's own view of the image.
 */
export async function loadIntoEngine(
  engine: EngineAddress,
  /**
   * The image: its name, and the IDs it may have in the engine (the config's digest in the
   * classic store and podman, the manifest's or index's in the containerd store).
   */
  image: { name: string; ids: string[] },
  contents: ArchiveContents,
  /** Each layer's diff ID (uncompressed digest) → the id its row has on screen. */
  layerOfDiffId: Map<string, string>,
  onBatch: (events: PullEvent[]) => void,
  /** `notSent`: bytes of layers the engine has, left out of the archive (said in the closing line). */
  options: { signal?: AbortSignal; onActivity?: () => void; notSent?: number } = {},
): Promise<void> {
  const { name } = image;
  const { signal, onActivity = () => {} } = options;
  const apiVersion = await negotiateApiVersion(engine, signal);
  onActivity();
  onBatch([{ type: 'message', message: `Loading into the engine at ${engine.url}` }]);
  // The blobs are read into a few buffers, each reused once what was read into it has gone to the engine.
  const ring = new BufferRing();
  const body = await archiveStream(contents, ring);
  const totalBytes = archiveSize(contents);
  const sending = (): PullEvent => ({ type: 'sending', engine: engine.url, sentBytes: sent, totalBytes: Math.max(totalBytes, sent), layers: layerOfDiffId.size });
  let sent = 0;
  let percent = 0; // the upload said at each whole percent: a hundred events, whatever its size
  onBatch([sending()]);
  body.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    ring.placed(chunk, sent);
    onActivity(); // the upload moving is life (an engine reads it as it loads)
    const now = Math.floor((sent * 100) / Math.max(totalBytes, sent));
    if (now > percent) {
      percent = now;
      onBatch([sending()]);
    }
  });
  const response = await requestEngine(engine, {
    method: 'POST',
    path: `/v${apiVersion}/images/load?quiet=0`,
    headers: { 'Content-Type': 'application/x-tar' },
    body,
    onSent: (bytes) => ring.written(bytes),
    ...(signal !== undefined && { signal }),
  });
  if (response.statusCode !== 200) throw pullError(errorMessage(response.statusCode, await readBody(response)));
  const decoder = new JsonMessageDecoder();
  const loading = new Set<string>();
  let loaded: string | undefined;
  const handle = (raw: object) => {
    const message = raw as LoadMessage;
    if (message.error !== undefined || message.errorDetail !== undefined) {
      const text = typeof message.errorDetail?.message === 'string' ? message.errorDetail.message : String(message.error ?? '');
      throw pullError(sanitize(text) || 'the engine could not load the image');
    }
    if (typeof message.stream === 'string' && /^Loaded image/.test(message.stream)) {
      // Only the image dpull sent: by its name, or by its ID where it has no tag.
      const said = message.stream.trim();
      const names = said.replace(/^Loaded image(\(s\))?( ID)?: */, '').split(/[,\s]+/);
      if (names.includes(name.replace(/@.*$/, '')) || image.ids.some((id) => names.includes(id))) loaded = sanitize(said);
      else throw pullError(`the engine at ${engine.url} says "${clip(said)}", not the image dpull sent (${name})`);
    }
    if (message.status === 'Loading layer' && typeof message.id === 'string') {
      const id = [...layerOfDiffId].find(([diffId]) => diffId.replace('sha256:', '').startsWith(message.id as string))?.[1];
      const current = message.progressDetail?.current;
      const total = message.progressDetail?.total;
      if (id === undefined) return;
      loading.add(id);
      onBatch([{ type: 'layer', id, phase: 'extracting', status: 'Loading layer', ...(typeof current === 'number' && typeof total === 'number' && total > 0 && { current, total }) }]);
    }
  };
  for await (const chunk of response) {
    onActivity();
    for (const message of decoder.push(chunk as Buffer)) handle(message);
  }
  decoder.end();
  if (loaded === undefined) throw pullError(`the engine at ${engine.url} did not say it loaded ${name}`);
  onBatch([
    ...[...layerOfDiffId.values()].map((id): PullEvent => ({ type: 'layer', id, phase: 'complete', status: 'Loaded' })),
    { type: 'status', message: `${loaded} into the engine at ${engine.url} (${formatBytes(sent)} sent${options.notSent ? `; ${formatBytes(options.notSent)} of layers it has left out` : ''})`, upToDate: false },
    { type: 'load', engine: engine.url, sentBytes: sent, skippedBytes: options.notSent ?? 0, upToDate: false },
  ]);
  const held = await lookUpImage(engine, apiVersion, name, false, signal);
  if (held?.id !== undefined && !image.ids.includes(held.id)) {
    throw pullError(`the engine at ${engine.url} holds ${clip(held.id)} under ${name} after the load, not the image dpull sent (${image.ids[0]})`);
  }
  onBatch([{ type: 'image', ...(held ?? { warning: `the engine lists no image ${name} after loading it` }) }]);
}
