import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { homeDir } from '../config/docker-config.js';
import pLimit from 'p-limit';
import type { PullEvent } from '../decode/pull-event.js';
import { formatReference, parseReference, withDefaultTag, type ImageReference } from '../reference/reference.js';
import { RegistryClient, credentialsFromHeader } from '../registry/registry-client.js';
import { resolveImage, type Descriptor } from '../registry/manifest.js';
import { clip, platformPart } from '../registry/descriptor.js';
import { readRegistriesConf } from '../config/registries-conf.js';
import { endpointsFor, type Endpoint } from './registry-endpoints.js';
import { fetchBlob } from '../registry/blob-fetch.js';
import type { OutputTarget } from '../output/destination.js';
import { OciLayout } from '../output/oci-layout.js';
import { ociManifest } from '../output/oci-manifest.js';
import { packArchive, type ArchiveContents } from '../output/archive.js';
import { ArrivingFileReplaced } from '../output/arriving-file.js';
import type { EngineAddress } from '../engine/address.js';
import { DpullError, ExitCode, pullError, usageError } from '../errors.js';
import { formatPlatform } from '../reference/platform.js';
import { IdleTimeout } from './idle-timeout.js';
import { negotiateApiVersion } from '../engine/api-version.js';
import { engineHoldings } from '../engine/engine-holdings.js';
import { lookUpImage } from '../engine/image-lookup.js';
import type { Environment } from '../environment.js';
import { writeFailure } from '../output/write-failure.js';
import { useRegistryPullSettings } from '../v8-settings.js';

/** Blobs fetched at once from one registry (peers use 3 to 6; bench/registry.mjs measures ours). */
export const BLOBS_AT_ONCE = 4;
/** DPULL_BLOBS_AT_ONCE (1 to 16) overrides it, for a slow link or the benchmark. */
const blobsAtOnce = () => {
  const n = Number(process.env.DPULL_BLOBS_AT_ONCE);
  return Number.isInteger(n) && n >= 1 && n <= 16 ? n : BLOBS_AT_ONCE;
};

export interface RegistryPullOptions {
  reference: ImageReference;
  output: OutputTarget;
  platform?: string;
  /** The same `X-Registry-Auth` value the engine path sends: the user's credentials for the registry. */
  registryAuth?: string;
  /** Registries spoken to in plain HTTP (loopback ones always are). */
  insecureRegistries?: string[];
  signal?: AbortSignal;
  /** Cancel when nothing has come from the registry for this long. */
  idleTimeoutMs?: number;
  /** Where archives are made from: blobs whole and partial, kept between runs. */
  cacheDir?: string;
  /** Keep the registry's manifest bytes (and digest) in a layout: tools that open layouts by name then cannot (README). */
  preserveDigests?: boolean;
  /** The daemon's registry-mirrors (`http[s]://HOST[:PORT]`), tried first for Docker Hub images. */
  registryMirrors?: string[];
  /** The `X-Registry-Auth` value for another registry (a mirror), found as for the image's own. */
  authFor?: (domain: string) => Promise<string | undefined>;
  /** Where certificate settings are read from (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, DPULL_CERTS_D, HOME); default process.env. */
  env?: Environment;
  /** With `output.kind` `load`: the engine the image is loaded into. */
  engine?: EngineAddress;
}

/** `$XDG_CACHE_HOME/dpull`, else `~/.cache/dpull` (clear it with `rm -rf` whenever you like). */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homeDir(env), '.cache');
  return join(base, 'dpull');
}

const layerId = (digest: string) => digest.replace(/^sha\d+:/, '').slice(0, 12);
const layer = (blob: Descriptor, phase: 'pending' | 'waiting' | 'downloading' | 'complete' | 'exists', status: string, current?: number): PullEvent => ({
  type: 'layer',
  id: layerId(blob.digest),
  phase,
  status,
  ...(current !== undefined && { current, total: blob.size }),
});

/**
 * Pulls an image straight from its registry into a layout or an archive, with no engine, and
 * hands over the same typed events an engine pull gives (a blob fetching is a layer
 * `downloading`, stored and verified is `complete`, already in the layout is `exists`), so the
 * state and every renderer serve it unchanged.
 */
export async function streamRegistryPull(options: RegistryPullOptions, onBatch: (events: PullEvent[]) => void): Promise<void> {
  useRegistryPullSettings();
  const { reference: ref, output } = options;
  const idle = new IdleTimeout(options.idleTimeoutMs, `the registry ${ref.domain}`);
  // The first blob that fails stops the others (their requests aborted, their locks released).
  const failed = new AbortController();
  const signal = AbortSignal.any([...(options.signal ? [options.signal] : []), idle.signal, failed.signal]);
  setMaxListeners(64, signal); // a listener per request in flight: many blobs at once are no leak
  let client: RegistryClient | undefined;
  const name = formatReference(ref);
  const archive = output.kind !== 'oci';
  // Layouts hold OCI media types throughout (what skopeo, umoci and podman open by name), unless
  // the registry's own bytes are asked for; docker-archives and loads keep them (docker's own).
  const asOci = (output.kind === 'oci' || output.kind === 'oci-archive') && options.preserveDigests !== true;
  // The name to open it by: in a layout the tag (skopeo `oci:DIR:1.0`, umoci, containerd's export);
  // in an archive the full name, which podman load names the image by.
  const names = { image: name, ref: output.name ?? (output.kind === 'oci' ? (ref.tag ?? name) : name), explicit: output.name !== undefined };
  const repoTags = output.kind === 'docker-archive' && output.name !== undefined ? [dockerName(output.name)] : ref.tag !== undefined ? [name.replace(/@.*$/, '')] : [];
  // An archive is made from the cache's layout, where blobs (whole, and partial ones to resume)
  // stay between runs and are shared by every archive pull.
  const layoutDir = archive ? join(options.cacheDir ?? defaultCacheDir(), 'layout') : output.path;
  /** Each layer's fetch once started, by digest; the archive being written while they run. */
  const fetching = new Map<string, Promise<void>>();
  let packing: Promise<boolean> | undefined;
  /** Into containerd: the session (and its lease) for the pull, and the image as it is given to it. */
  let containerd: import('./load-into-containerd.js').ContainerdSession | undefined;
  let forContainerd: import('./load-into-containerd.js').ContainerdImage | undefined;
  try {
    const layout = new OciLayout(layoutDir).check(); // before the registry is asked anything
    // containerd is reached while the manifest is asked for (pulls of one image into several
    // engines at once then ask once: resolveFromEndpoints), and a wrong socket is said before
    // anything is fetched.
    const engine = options.engine;
    const opening = engine?.kind === 'containerd'
      ? import('./load-into-containerd.js').then(({ ContainerdSession }) => ContainerdSession.open(engine, engine.namespace ?? 'default', engine.snapshotter, signal))
      : undefined;
    opening?.catch(() => {}); // (awaited below)
    const resolving = resolveFromEndpoints(options, name, signal, onBatch);
    if (opening !== undefined) {
      resolving.catch(() => {}); // (awaited below, once containerd answered)
      try {
        containerd = await opening;
      } catch (err) {
        resolving.then(({ client: unused }) => unused.close(), () => {});
        throw err;
      }
    }
    const { image, endpoint, client: answered } = await resolving;
    client = answered;
    const registry = client; // (for the closures below)
    const from = endpoint.mirror ? ` (from the mirror ${endpoint.domain})` : '';
    idle.touch();
    // As an engine says it: once the manifest is resolved.
    onBatch([{ type: 'pulling', repository: ref.path, tag: ref.digest ?? ref.tag ?? 'latest' }]);
    layout.open();
    const stored = asOci ? ociManifest(image.manifest, image.config, image.layers) : image.manifest;
    const already = !archive && layout.entryFor(name)?.digest === stored.digest;
    // A layer listed twice (a valid image may) is one blob: fetched once, one row.
    const layers = [...new Map(image.layers.map((blob): [string, Descriptor] => [blob.digest, blob])).values()];
    // Every size is known from the manifest: the total and the ETA are exact from the first frame.
    onBatch(layers.map((blob) => ({ ...layer(blob, 'pending', 'Pulling fs layer'), total: blob.size })));
    const limit = pLimit(blobsAtOnce());
    const layerBytes = layers.reduce((sum, blob) => sum + blob.size, 0);
    const imageBytes = image.config.size + layerBytes;
    const digest = image.index?.digest ?? image.manifest.digest; // what the user asked for: the index, if there was one
    const onePass = output.kind === 'docker-archive' || output.kind === 'oci-archive';
    const fetch = (blob: Descriptor, shown: boolean) =>
      limit(async () => {
        if (layout.hasBlob(blob.digest)) {
          if (shown) onBatch([layer(blob, 'exists', 'Already exists')]);
          return;
        }
        const got = await fetchBlob(
          registry,
          endpoint.path,
          blob,
          layout.blobPath(blob.digest),
          (bytes) => {
            idle.touch();
            if (shown) onBatch([layer(blob, 'downloading', 'Downloading', bytes)]);
          },
          // Another pull (this process's or another's) is fetching it into the same folder.
          () => shown && onBatch([layer(blob, 'waiting', 'Waiting')]),
        );
        if (shown) onBatch([got === 'present' ? layer(blob, 'exists', 'Already exists') : layer(blob, 'complete', 'Pull complete')]);
      });
    const ids = [image.config.digest, image.manifest.digest, ...(image.index ? [image.index.digest] : [])];
    /** An engine that has the image already (--load, containerd): every layer there, nothing sent. */
    const upToDate = (message: string, engineUrl: string): PullEvent[] => [
      ...layers.map((blob) => layer(blob, 'exists', 'Already exists')),
      { type: 'digest', digest },
      { type: 'status', message, upToDate: true },
      { type: 'load', engine: engineUrl, sentBytes: 0, skippedBytes: layerBytes, upToDate: true },
    ];
    /** A single-platform image says its platform in its config: it must be the one asked for. */
    const checkPlatform = (platform: string) => {
      if (image.index === undefined && options.platform !== undefined && options.platform !== platform) {
        throw pullError(`${ref.domain}/${ref.path} is an image for ${platform} only, not ${options.platform}`);
      }
    };
    // --load: what the engine has decides what is fetched and sent (the config first: it names the layers).
    let held = new Set<string>();
    // The config, once fetched (verified, and at most MAX_CONFIG_BYTES), read once.
    const readConfig = () => parseConfig(readFileSync(layout.blobPath(image.config.digest), 'utf8'), image.config.digest);
    let config: ReturnType<typeof parseConfig> | undefined;
    if (output.kind === 'load') {
      await allOrNone([fetch(image.config, false)], failed);
      config = readConfig();
      const { diffIds } = config;
      if (containerd !== undefined) {
        forContainerd = {
          name,
          domain: ref.domain,
          repository: ref.path,
          manifest: image.manifest,
          ...(image.index !== undefined && { index: image.index }),
          config: image.config,
          layers: image.layers,
          diffIds,
          platform: image.index !== undefined ? image.platform : formatPlatform(config),
        };
        checkPlatform(forContainerd.platform); // (before containerd is given anything)
        const holdings = await containerd.holdings(forContainerd, signal);
        idle.touch();
        if (holdings.hasImage) {
          onBatch([...upToDate(containerd.upToDateWords(forContainerd), containerd.url), { type: 'image', ...containerd.imageWords(forContainerd) }]);
          return;
        }
        held = holdings.layers;
        onBatch(layers.filter((blob) => held.has(blob.digest)).map((blob) => layer(blob, 'exists', 'Already exists')));
      } else {
        const apiVersion = await negotiateApiVersion(options.engine!, signal);
        const holdings = await engineHoldings(options.engine!, apiVersion, name, ids, signal);
        idle.touch();
        if (holdings.hasImage) {
          onBatch(upToDate(`Image is up to date for ${name} in the engine at ${options.engine!.url}`, options.engine!.url));
          const inEngine = await lookUpImage(options.engine!, apiVersion, name, false, signal);
          onBatch([{ type: 'image', ...(inEngine ?? { warning: `the engine lists no image ${name}` }) }]);
          return;
        }
        held = new Set(image.layers.filter((blob, i) => diffIds[i] !== undefined && holdings.layers.has(diffIds[i])).map((blob) => blob.digest));
        onBatch(layers.filter((blob) => held.has(blob.digest)).map((blob) => layer(blob, 'exists', 'Already exists')));
      }
    }
    // An archive is written in the same pass as the fetch (each layer read as it reaches the disk):
    // its index, made from the config, comes first in it, so the config is fetched first.
    if (onePass) await allOrNone([fetch(image.config, false)], failed);
    const startLayers = () => layers.filter((blob) => !held.has(blob.digest)).forEach((blob) => fetching.set(blob.digest, fetch(blob, true)));
    if (!onePass) {
      startLayers();
      // Into containerd, each layer goes in as soon as it has arrived (load-into-containerd.ts).
      const session = containerd;
      const loading = session === undefined ? undefined : (async () => {
        onBatch([{ type: 'digest', digest }]);
        // (Once every blob is here, what --timeout waits on is containerd.)
        Promise.all(fetching.values()).then(() => idle.waitingOn(`containerd at ${session.url}`), () => {});
        await session.load(forContainerd!, (blob) => layout.blobPath(blob), held, onBatch, {
          signal,
          onActivity: () => idle.touch(),
          arrived: (digest) => fetching.get(digest) ?? Promise.resolve(),
        });
      })();
      await allOrNone([fetch(image.config, false), ...fetching.values(), ...(loading ? [loading] : [])], failed);
      if (loading !== undefined) return;
    }
    // The manifest as stored (the registry's bytes, and the index it was chosen from, unless made anew as OCI).
    layout.writeBlob(stored.digest, stored.bytes);
    if (image.index !== undefined && stored === image.manifest) layout.writeBlob(image.index.digest, image.index.bytes);
    // A single-platform image says its platform in its config.
    config ??= readConfig();
    const platform = image.index !== undefined ? image.platform : formatPlatform(config);
    checkPlatform(platform);
    if (onePass) startLayers(); // (once the platform is known to be the one asked for)
    const [os, architecture, variant] = platform.split('/');
    const manifest: Descriptor = { mediaType: stored.mediaType, digest: stored.digest, size: stored.bytes.length, platform: { os, architecture, ...(variant && { variant }) } };
    const inArchive = (d: { digest: string }) => `blobs/${d.digest.replace(':', '/')}`;
    const contents: ArchiveContents = {
      // (Layers the engine has are listed in manifest.json, their files left out: it reads only what it lacks.)
      blobs: [image.config, ...layers.filter((blob) => !held.has(blob.digest)), { digest: stored.digest, size: stored.bytes.length }].map((d) => {
        const path = layout.blobPath(d.digest);
        const done = onePass ? fetching.get(d.digest) : undefined;
        return { name: inArchive(d), path, size: d.size, ...(done !== undefined && { arriving: { partial: `${path}.partial`, done } }) };
      }),
      index: OciLayout.indexOf(manifest, names),
      ...(output.kind !== 'oci-archive' && {
        docker: { Config: inArchive(image.config), RepoTags: repoTags, Layers: image.layers.map(inArchive) },
      }),
    };
    if (output.kind === 'load') {
      // Through the client, into the engine: the engine never talks to the registry.
      const diffIds = config.diffIds;
      // (Rows of layers the engine has stay `Already exists`: only the others are loaded.)
      const layerOfDiffId = new Map(diffIds.flatMap((diffId, i): [string, string][] => (image.layers[i] === undefined || held.has(image.layers[i].digest) ? [] : [[diffId, layerId(image.layers[i].digest)]])));
      onBatch([{ type: 'digest', digest }]);
      const { loadIntoEngine } = await import('./load-into-engine.js');
      idle.waitingOn(`the engine at ${options.engine!.url}`);
      const notSent = layers.filter((blob) => held.has(blob.digest)).reduce((sum, blob) => sum + blob.size, 0);
      await loadIntoEngine(options.engine!, { name, ids }, contents, layerOfDiffId, onBatch, { signal, onActivity: () => idle.touch(), notSent });
      return;
    }
    // The name to open it by, said with the destination (a layout can hold several images).
    let openAs = output.kind === 'oci-archive' ? `, named ${names.ref}` : '';
    if (archive) {
      // A layer's file replaced while it was read (a fetch that started again from zero): the
      // archive is made again once every blob is whole, from the finished files.
      packing = packArchive(output.path, contents).then(
        () => true,
        (err: unknown) => {
          if (err instanceof ArrivingFileReplaced) return false;
          throw err;
        },
      );
      let packed = false;
      await allOrNone([...fetching.values(), packing.then((done) => void (packed = done))], failed);
      if (!packed) await packArchive(output.path, { ...contents, blobs: contents.blobs.map(({ arriving: _, ...blob }) => blob) });
    } else openAs = `, named ${await layout.name(manifest, names, signal)}`;
    onBatch([
      { type: 'digest', digest },
      already
        ? { type: 'status', message: `Image is up to date for ${name} in ${output.label}${openAs}${from}`, upToDate: true }
        : { type: 'status', message: `Downloaded newer image for ${name} to ${output.label}${openAs}${from}`, upToDate: false },
      {
        type: 'image',
        id: image.config.digest,
        size: imageBytes,
        platform,
        ...(image.rateLimit !== undefined && { rateLimit: { registry: ref.domain, ...image.rateLimit } }),
      },
    ]);
  } catch (err) {
    // No fetch goes on after the pull has failed (one started before the failure is stopped and waited for).
    if (!failed.signal.aborted) failed.abort(err);
    await Promise.allSettled([...fetching.values(), ...(packing ? [packing] : [])]); // (the archive's partial file removed)
    if (signal.aborted && signal.reason !== err) throw signal.reason;
    const failure = writeFailure(err);
    // An archive's blobs go through the cache folder first: say so, and how to move it.
    if (failure !== undefined && archive && String((err as NodeJS.ErrnoException).path ?? '').startsWith(layoutDir)) {
      throw pullError(`${failure.message} (dpull's cache folder, where archives are made from: --cache-dir or XDG_CACHE_HOME moves it)`);
    }
    throw failure ?? err;
  } finally {
    idle.stop();
    client?.close();
    await containerd?.close();
  }
}

/** What dpull reads of an image's config: its platform (plain words only) and its layers' diff IDs. */
function parseConfig(text: string, digest: string): { os?: string; architecture?: string; variant?: string; diffIds: string[] } {
  let config: { os?: unknown; architecture?: unknown; variant?: unknown; rootfs?: { diff_ids?: unknown } };
  try {
    config = JSON.parse(text);
  } catch {
    throw pullError(`the image's config (${digest}) is not JSON`);
  }
  if (typeof config !== 'object' || config === null) throw pullError(`the image's config (${digest}) is not a JSON object`);
  const diffIds = Array.isArray(config.rootfs?.diff_ids) ? config.rootfs.diff_ids.filter((d): d is string => typeof d === 'string') : [];
  const os = platformPart(config.os);
  const architecture = platformPart(config.architecture);
  const variant = platformPart(config.variant);
  return { ...(os && { os }), ...(architecture && { architecture }), ...(variant && { variant }), diffIds };
}

/**
 * Waits for every task; the first that fails aborts the rest (with its error as the reason) and
 * is thrown once all have ended, so that no fetch goes on writing after the pull has failed.
 */
async function allOrNone(tasks: Promise<unknown>[], failed: AbortController): Promise<void> {
  for (const task of tasks) task.catch((err: unknown) => failed.signal.aborted || failed.abort(err));
  const results = await Promise.allSettled(tasks);
  if (failed.signal.aborted) throw failed.signal.reason;
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
}

/** A name for docker load (`docker-archive:FILE:NAME`): a full reference with a tag, as docker save writes it. */
function dockerName(given: string): string {
  const ref = withDefaultTag(parseReference(given));
  if (ref.digest !== undefined) throw usageError(`docker-archive:…:${given}: docker load names an image by a tag, not a digest`);
  return formatReference(ref);
}

/**
 * The first endpoint (mirror, then the registry) whose `attempt` succeeds; a mirror that fails (down,
 * 404, 5xx, denied, a manifest that does not verify) hands over to the next, `onFallback` saying so.
 * The last one's failure is the pull's; bad input and an abort end it at once.
 */
async function firstToServe<T>(
  endpoints: Endpoint[],
  attempt: (endpoint: Endpoint) => Promise<T>,
  onFallback: (failed: Endpoint, next: Endpoint, err: DpullError) => void,
  signal: AbortSignal,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt(endpoints[i]);
    } catch (err) {
      if (signal.aborted || i === endpoints.length - 1 || !(err instanceof DpullError) || err.exitCode === ExitCode.usage) throw err;
      onFallback(endpoints[i], endpoints[i + 1], err);
    }
  }
}

const inFlight = new Map<string, Promise<unknown>>();
/** `make()`'s promise, shared with every caller of the same key while it is unsettled; `first` for the caller that made it. */
function sharedWhileInFlight<T>(key: string, make: () => Promise<T>): { value: Promise<T>; first: boolean } {
  const running = inFlight.get(key) as Promise<T> | undefined;
  if (running !== undefined) return { value: running, first: false };
  const value = make();
  inFlight.set(key, value);
  const forget = () => inFlight.delete(key);
  value.then(forget, forget);
  return { value, first: true };
}

/**
 * The image's manifest from the first endpoint that serves it (mirrors, then the registry), with
 * the client that asked. Pulls of the same image at once (one image into several engines with
 * --load) ask once: the first asks, the others take its answer and get a client of their own (the
 * cache's locks then have each blob fetched once); one that took another pull's answer and saw it
 * fail asks for itself (the failure, or the abort, was the other's).
 */
async function resolveFromEndpoints(options: RegistryPullOptions, name: string, signal: AbortSignal, onBatch: (events: PullEvent[]) => void) {
  const ref = options.reference;
  const endpoints = endpointsFor(ref, await readRegistriesConf(options.env), options.registryMirrors ?? [], options.insecureRegistries ?? []);
  const connect = async (candidate: Endpoint) => {
    const auth = candidate.domain === ref.domain ? options.registryAuth : await options.authFor?.(candidate.domain);
    const { insecure, plain } = candidate;
    return new RegistryClient(candidate.domain, credentialsFromHeader(auth), { insecure, plain, signal, ...(options.env !== undefined && { env: options.env }) });
  };
  const resolve = () =>
    firstToServe(endpoints, async (candidate) => {
      const client = await connect(candidate);
      try {
        return { image: await resolveImage(client, { ...ref, domain: candidate.domain, path: candidate.path }, options.platform), endpoint: candidate, client };
      } catch (err) {
        client.close();
        throw err;
      }
    }, (candidate, next, err) => onBatch([{ type: 'message', message: `the mirror ${candidate.domain} did not serve ${name} (${clip(err.message, 160)}); trying ${next.domain}` }]), signal);
  const shared = sharedWhileInFlight(`${name}\n${options.platform ?? ''}\n${options.registryAuth ?? ''}`, resolve);
  let own = shared.first;
  const resolved = await shared.value.catch((err: unknown) => {
    if (own || signal.aborted) throw err;
    own = true;
    return resolve();
  });
  return own ? resolved : { ...resolved, client: await connect(resolved.endpoint) };
}
