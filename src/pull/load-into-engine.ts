import type { EngineAddress } from '../engine/address.js';
import { negotiateApiVersion } from '../engine/api-version.js';
import { readBody, requestEngine } from '../engine/transport.js';
import { errorMessage } from '../engine/pull-request.js';
import { lookUpImage } from '../engine/image-lookup.js';
import { JsonMessageDecoder } from '../decode/json-stream.js';
import type { PullEvent } from '../decode/pull-event.js';
import { archiveStream, type ArchiveContents } from '../output/archive.js';
import { pullError } from '../errors.js';
import { sanitize } from '../sanitize.js';

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
  name: string,
  contents: ArchiveContents,
  /** Each layer's diff ID (uncompressed digest) → the id its row has on screen. */
  layerOfDiffId: Map<string, string>,
  onBatch: (events: PullEvent[]) => void,
  signal?: AbortSignal,
): Promise<void> {
  const apiVersion = await negotiateApiVersion(engine, signal);
  onBatch([{ type: 'message', message: `Loading into the engine at ${engine.url}` }]);
  const response = await requestEngine(engine, {
    method: 'POST',
    path: `/v${apiVersion}/images/load?quiet=0`,
    headers: { 'Content-Type': 'application/x-tar' },
    body: await archiveStream(contents),
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
    if (typeof message.stream === 'string' && /^Loaded image/.test(message.stream)) loaded = sanitize(message.stream.trim());
    if (message.status === 'Loading layer' && typeof message.id === 'string') {
      const id = [...layerOfDiffId].find(([diffId]) => diffId.replace('sha256:', '').startsWith(message.id as string))?.[1];
      const current = message.progressDetail?.current;
      const total = message.progressDetail?.total;
      if (id === undefined) return;
      loading.add(id);
      onBatch([{ type: 'layer', id, phase: 'extracting', status: 'Loading layer', ...(typeof current === 'number' && typeof total === 'number' && total > 0 && { current, total }) }]);
    }
  };
  for await (const chunk of response) for (const message of decoder.push(chunk as Buffer)) handle(message);
  decoder.end();
  if (loaded === undefined) throw pullError(`the engine at ${engine.url} did not say it loaded ${name}`);
  onBatch([
    ...[...layerOfDiffId.values()].map((id): PullEvent => ({ type: 'layer', id, phase: 'complete', status: 'Loaded' })),
    { type: 'status', message: `${loaded} into the engine at ${engine.url}`, upToDate: false },
  ]);
  const image = await lookUpImage(engine, apiVersion, name, false, signal);
  onBatch([{ type: 'image', ...(image ?? { warning: `the engine lists no image ${name} after loading it` }) }]);
}
