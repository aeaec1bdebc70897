import type { ContainerdAddress } from '../engine/address.js';
import type { PullEvent } from '../decode/pull-event.js';
import type { Descriptor } from '../registry/manifest.js';
import { isDigest } from '../registry/descriptor.js';
import { ContainerdCallError, ContainerdClient, containerdFailure, Status } from '../containerd/containerd-client.js';
import { hasContent, writeContent, type ContentBlob } from '../containerd/content-writer.js';
import { applyLayer, chainIds, hasSnapshot } from '../containerd/unpack.js';
import { crypto } from '../builtins.js';
import { formatBytes } from '../render/format.js';
import { isContainerdIdentifier } from '../containerd/identifier.js';
import pLimit from 'p-limit';

// containerd as an engine, the way `ctr image pull` fills it by default in 1.7 (`--local`): the
// client fetches (here dpull's registry client, into its verified cache, with its mirrors,
// proxies, credentials and one fetch for many engines), writes each blob into the content store
// under a lease, unpacks the layers through the snapshot and diff services, labels the content as
// containerd's own client does (gc references from index to manifest to config and layers, the
// config to its unpacked snapshot, each layer's uncompressed digest) and records the image.
//
// Why not the Transfer service (the daemon fetches and unpacks, progress on a stream): measured
// on the stack's containerd 1.7.24, `ctr images pull --local=false --plain-http` cannot reach a
// plain-HTTP registry at all ("server gave HTTP response to HTTPS client"); it needs the daemon's
// own network and asks credentials back over a second stream; and it is marked experimental in
// 1.7. The client-side pull gives the node's containerd exactly what ctr's gives it, from
// whatever network dpull has.

/** How long the lease keeps what a pull wrote if dpull is killed before it deletes it (ctr's: a day). */
const LEASE_HOURS = 24;

/** The image as the registry pull has it, ready for containerd. */
export interface ContainerdImage {
  /** The reference it is recorded under (`registry/repo:tag`, `…@sha256:…`). */
  name: string;
  domain: string;
  repository: string;
  /** The registry's own manifest, and the index it was chosen from. */
  manifest: { mediaType: string; digest: string; bytes: Buffer };
  index?: { mediaType: string; digest: string; bytes: Buffer };
  config: Descriptor;
  /** In the manifest's order (a layer listed twice is there twice). */
  layers: Descriptor[];
  diffIds: string[];
  platform: string;
}

export interface ContainerdHoldings {
  hasImage: boolean;
  /** Layer blobs containerd has: not fetched, not sent. */
  layers: Set<string>;
}


const layerId = (digest: string) => digest.replace(/^sha\d+:/, '').slice(0, 12);
const onScreen = (address: ContainerdAddress, namespace: string) => `containerd at ${address.url}, namespace ${namespace}`;

/** A pull's connection to containerd, under a lease of its own until `close`. */
export class ContainerdSession {
  private constructor(
    private readonly client: ContainerdClient,
    readonly address: ContainerdAddress,
    readonly namespace: string,
    readonly snapshotter: string,
  ) {}

  static async open(address: ContainerdAddress, namespace: string, snapshotter: string | undefined, signal: AbortSignal): Promise<ContainerdSession> {
    const { client } = await ContainerdClient.connect(address, namespace, signal);
    try {
      const chosen = snapshotter ?? (await defaultSnapshotter(client, signal));
      const id = `dpull-${process.pid}-${crypto().randomBytes(6).toString('hex')}`;
      const expire = new Date(Date.now() + LEASE_HOURS * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      await client.call('leases', 'Create', { id, labels: { 'containerd.io/gc.expire': expire } }, { signal });
      client.lease = id;
      return new ContainerdSession(client, address, namespace, chosen);
    } catch (err) {
      client.close();
      throw containerdFailure('starting the pull', err);
    }
  }

  get url(): string {
    return this.address.url;
  }

  /** Deletes the lease (what the pull recorded is then held by the image; what it did not, collected) and hangs up. */
  async close(): Promise<void> {
    const { lease } = this.client;
    this.client.lease = undefined;
    if (lease !== undefined) await this.client.call('leases', 'Delete', { id: lease, sync: false }, { deadlineMs: 5000 }).catch(() => {});
    this.client.close();
  }

  /**
   * What containerd has of the image: the image itself (its record naming this target, every blob
   * and its unpacked snapshot there), and which layer blobs. What it has is added to the lease.
   */
  async holdings(image: ContainerdImage, signal: AbortSignal): Promise<ContainerdHoldings> {
    try {
      const target = image.index?.digest ?? image.manifest.digest;
      const unique = [...new Set(image.layers.map((layer) => layer.digest))];
      const present = new Set<string>();
      await Promise.all(
        [image.config.digest, image.manifest.digest, ...(image.index ? [image.index.digest] : []), ...unique].map(async (digest) => {
          if (!(await hasContent(this.client, digest, signal))) return;
          present.add(digest);
          await this.lease({ id: digest, type: 'content' }, signal);
        }),
      );
      const layers = new Set(unique.filter((digest) => present.has(digest)));
      if (present.size < unique.length + (image.index ? 3 : 2)) return { hasImage: false, layers };
      const top = chainIds(image.diffIds).at(-1);
      if (top === undefined || !(await hasSnapshot(this.client, this.snapshotter, top, signal))) return { hasImage: false, layers };
      const names = [image.name, ...(this.namespace === 'k8s.io' ? [image.config.digest] : [])];
      const recorded = await Promise.all(names.map((name) => this.recordedTarget(name, signal)));
      return { hasImage: recorded.every((digest) => digest === target), layers };
    } catch (err) {
      throw containerdFailure(`asking what it holds of ${image.name}`, err);
    }
  }

  private async recordedTarget(name: string, signal: AbortSignal): Promise<string | undefined> {
    try {
      const answer = await this.client.call<{ image?: { target?: { digest?: string } } }>('images', 'Get', { name }, { signal });
      return answer.image?.target?.digest;
    } catch (err) {
      if (err instanceof ContainerdCallError && err.code === Status.NOT_FOUND) return undefined;
      throw err;
    }
  }

  private lease(resource: { id: string; type: string }, signal: AbortSignal): Promise<unknown> {
    return this.client.call('leases', 'AddResource', { id: this.client.lease, resource }, { signal });
  }

  /**
   * Writes the blobs containerd lacks (`path` of each verified blob file), unpacks every layer,
   * records the image; the rows of the layers go `Extracting` → `Pull complete` as ctr's unpack
   * goes. `held`: layer blobs containerd had (not sent).
   */
  async load(
    image: ContainerdImage,
    blobPath: (digest: string) => string,
    held: Set<string>,
    onBatch: (events: PullEvent[]) => void,
    options: { signal: AbortSignal; onActivity: () => void; arrived?: (digest: string) => Promise<unknown> },
  ): Promise<void> {
    const { signal, onActivity, arrived = async () => {} } = options;
    const target = image.index ?? image.manifest;
    const source = { [`containerd.io/distribution.source.${image.domain.replace(/:\d+$/, '')}`]: image.repository };
    const chain = chainIds(image.diffIds);
    const uniqueLayers = [...new Map(image.layers.map((layer): [string, Descriptor] => [layer.digest, layer])).values()];
    const toSend = uniqueLayers.filter((layer) => !held.has(layer.digest));
    // The labels are containerd's client's (images.ChildGCLabels); parents after their children.
    const parents: ContentBlob[] = [
      {
        digest: image.config.digest,
        size: image.config.size,
        path: blobPath(image.config.digest),
        labels: { ...source, ...(chain.length > 0 && { [`containerd.io/gc.ref.snapshot.${this.snapshotter}`]: chain.at(-1)! }) },
      },
      {
        digest: image.manifest.digest,
        size: image.manifest.bytes.length,
        bytes: image.manifest.bytes,
        labels: {
          ...source,
          'containerd.io/gc.ref.content.config': image.config.digest,
          ...Object.fromEntries(image.layers.map((layer, i) => [`containerd.io/gc.ref.content.l.${i}`, layer.digest])),
        },
      },
      ...(image.index ? [{ digest: image.index.digest, size: image.index.bytes.length, bytes: image.index.bytes, labels: { ...source, ...indexLabels(image.index.bytes) } }] : []),
    ];
    const totalBytes = [...toSend, ...parents].reduce((sum, blob) => sum + blob.size, 0);
    let sent = 0;
    let percent = 0;
    const sending = (): PullEvent => ({ type: 'sending', engine: this.url, sentBytes: sent, totalBytes, layers: toSend.length });
    const write = async (blob: ContentBlob) => {
      const wrote = await writeContent(this.client, blob, (bytes) => {
        sent += bytes;
        onActivity();
        const now = Math.floor((sent * 100) / Math.max(totalBytes, 1));
        if (now > percent) {
          percent = now;
          onBatch([sending()]);
        }
      }, signal).catch((err: unknown) => Promise.reject(signal.aborted ? signal.reason : containerdFailure('writing the image into its content store', err)));
      onActivity();
      if (wrote === 'present') {
        // (Someone else's blob: this pull's labels on it, and its lease over it.)
        await this.lease({ id: blob.digest, type: 'content' }, signal);
        const paths = Object.keys(blob.labels).map((key) => `labels.${key}`);
        await this.client.call('content', 'Update', { info: { digest: blob.digest, labels: blob.labels }, update_mask: { paths } }, { signal });
        sent += blob.size;
      }
    };
    onBatch([{ type: 'message', message: `Loading into ${onScreen(this.address, this.namespace)}` }, sending()]);
    // Each layer goes in as soon as it has arrived, and is unpacked (in the manifest's order) as
    // soon as it and those below it are in: containerd works while the rest is still fetched.
    // (Two at once: containerd takes them no faster in parallel, and each holds buffers in gRPC's queues.)
    const writing = pLimit(2);
    const written = new Map<string, Promise<void>>();
    for (const layer of toSend) {
      const done = arrived(layer.digest).then(() => writing(() => write({ digest: layer.digest, size: layer.size, path: blobPath(layer.digest), labels: source })));
      done.catch(() => {}); // (awaited below)
      written.set(layer.digest, done);
    }
    try {
      for (let i = 0; i < image.layers.length; i++) {
        const layer = image.layers[i];
        const id = layerId(layer.digest);
        if (image.diffIds[i] === undefined) throw new ContainerdCallError(Status.FAILED_PRECONDITION, `the image's config names ${image.diffIds.length} layers, its manifest ${image.layers.length}`);
        await written.get(layer.digest);
        onBatch([{ type: 'layer', id, phase: 'extracting', status: 'Extracting' }]);
        const applied = await applyLayer(this.client, this.snapshotter, {
          blob: layer,
          diffId: image.diffIds[i],
          chainId: chain[i],
          ...(i > 0 && { parent: chain[i - 1] }),
        }, signal);
        onActivity();
        if (applied === 'applied') {
          await this.client.call('content', 'Update', {
            info: { digest: layer.digest, labels: { 'containerd.io/uncompressed': image.diffIds[i] } },
            update_mask: { paths: ['labels.containerd.io/uncompressed'] },
          }, { signal });
        }
        onBatch([{ type: 'layer', id, phase: 'complete', status: 'Pull complete' }]);
      }
      await Promise.all(written.values());
      for (const blob of parents) await write(blob);
      onBatch([sending()]);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw containerdFailure('unpacking the image', err);
    }
    try {
      // In k8s.io, the records the CRI plugin keeps for an image it manages: the reference and the
      // image ID (the config's digest), so that the kubelet sees the image as pulled.
      const cri = this.namespace === 'k8s.io';
      const labels: Record<string, string> = cri ? { 'io.cri-containerd.image': 'managed' } : {};
      for (const name of [image.name, ...(cri ? [image.config.digest] : [])]) {
        await this.record(name, { media_type: target.mediaType, digest: target.digest, size: target.bytes.length }, labels, signal);
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw containerdFailure('recording the image', err);
    }
    const notSent = uniqueLayers.filter((layer) => held.has(layer.digest)).reduce((sum, layer) => sum + layer.size, 0);
    onBatch([
      { type: 'status', message: `Loaded ${image.name} into ${onScreen(this.address, this.namespace)} (${formatBytes(sent)} sent${notSent ? `; ${formatBytes(notSent)} of layers it has left out` : ''})`, upToDate: false },
      { type: 'load', engine: this.url, sentBytes: sent, skippedBytes: notSent, upToDate: false },
      { type: 'image', ...this.imageWords(image) },
    ]);
  }

  /** The image as `crictl images` says it: ID the config's digest, size of its blobs. */
  imageWords(image: ContainerdImage): { id: string; size: number; platform: string } {
    const layers = [...new Map(image.layers.map((layer): [string, number] => [layer.digest, layer.size])).values()];
    return { id: image.config.digest, size: image.config.size + layers.reduce((sum, size) => sum + size, 0), platform: image.platform };
  }

  /** Up to date: said as a docker pull says it, with where. */
  upToDateWords(image: ContainerdImage): string {
    return `Image is up to date for ${image.name} in ${onScreen(this.address, this.namespace)}`;
  }

  private async record(name: string, target: object, labels: Record<string, string>, signal: AbortSignal): Promise<void> {
    const record = { name, target, labels };
    try {
      await this.client.call('images', 'Create', { image: record }, { signal });
    } catch (err) {
      if (!(err instanceof ContainerdCallError && err.code === Status.ALREADY_EXISTS)) throw err;
      // (As ctr does: the name now points at this image; the old one's content is collected unless another name holds it.)
      await this.client.call('images', 'Update', { image: record }, { signal });
    }
  }
}

/**
 * An index's gc references: one per manifest it lists, by position — every platform's, as
 * containerd's client labels it, though only one platform is fetched (the index was read and
 * checked by the registry pull; a digest that is not one is left out here).
 */
function indexLabels(bytes: Buffer): Record<string, string> {
  const listed = (JSON.parse(bytes.toString('utf8')) as { manifests?: { digest?: unknown }[] }).manifests ?? [];
  return Object.fromEntries(listed.flatMap((m, i) => (isDigest(m?.digest) ? [[`containerd.io/gc.ref.content.m.${i}`, m.digest]] : [])));
}

/** ctr's choice when none is given: the namespace's `containerd.io/defaults/snapshotter` label, else overlayfs. */
async function defaultSnapshotter(client: ContainerdClient, signal: AbortSignal): Promise<string> {
  try {
    const answer = await client.call<{ namespace?: { labels?: Record<string, string> } }>('namespaces', 'Get', { name: client.namespace }, { signal });
    const chosen = answer.namespace?.labels?.['containerd.io/defaults/snapshotter'];
    if (chosen !== undefined && isContainerdIdentifier(chosen)) return chosen;
  } catch (err) {
    if (!(err instanceof ContainerdCallError && err.code === Status.NOT_FOUND)) throw err;
  }
  return 'overlayfs';
}
