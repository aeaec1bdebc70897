import { crypto } from '../builtins.js';
import { ContainerdCallError, Status, type ContainerdClient } from './containerd-client.js';

// Unpacking as containerd's own client does it (rootfs.ApplyLayerWithOpts): each layer's
// snapshot is named by its chain ID; one that exists is not made again (another image, or
// another process, made it); else a snapshot is prepared on the parent chain, the layer applied
// into it by the diff service (which reads the blob from the content store and says the digest
// of what it unpacked), and committed under the chain ID.

/** The chain IDs of a stack of layers (OCI image spec: each the digest of "parent diffID"). */
export function chainIds(diffIds: string[]): string[] {
  const ids: string[] = [];
  for (const diffId of diffIds) {
    const parent = ids.at(-1);
    ids.push(parent === undefined ? diffId : `sha256:${crypto().createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`);
  }
  return ids;
}

export async function hasSnapshot(client: ContainerdClient, snapshotter: string, key: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.call('snapshots', 'Stat', { snapshotter, key }, { ...(signal && { signal }) });
    return true;
  } catch (err) {
    if (err instanceof ContainerdCallError && err.code === Status.NOT_FOUND) return false;
    throw err;
  }
}

export interface LayerToApply {
  /** The layer blob, in the content store. */
  blob: { mediaType: string; digest: string; size: number };
  diffId: string;
  chainId: string;
  /** The chain ID below it; none for the first layer. */
  parent?: string;
}

/** Applies one layer on its parent's snapshot; 'present' when its snapshot exists already. */
export async function applyLayer(client: ContainerdClient, snapshotter: string, layer: LayerToApply, signal: AbortSignal): Promise<'applied' | 'present'> {
  if (await hasSnapshot(client, snapshotter, layer.chainId, signal)) return 'present';
  // containerd's own key format for an unpack in progress ("extract-<unique> <chain ID>").
  const key = `extract-${process.hrtime.bigint() % 1_000_000_000n}-${crypto().randomBytes(3).toString('base64url')} ${layer.chainId}`;
  const prepared = await client.call<{ mounts: object[] }>('snapshots', 'Prepare', { snapshotter, key, parent: layer.parent ?? '' }, { signal });
  let committed = false;
  try {
    const { applied } = await client.call<{ applied?: { digest?: string } }>(
      'diff',
      'Apply',
      { diff: { media_type: layer.blob.mediaType, digest: layer.blob.digest, size: layer.blob.size }, mounts: prepared.mounts },
      { signal, deadlineMs: null }, // (as long as the layer takes: --timeout watches it)
    );
    if (applied?.digest !== layer.diffId) {
      throw new ContainerdCallError(Status.FAILED_PRECONDITION, `layer ${layer.blob.digest} unpacks to ${String(applied?.digest)}, not the ${layer.diffId} its config says`);
    }
    try {
      await client.call('snapshots', 'Commit', { snapshotter, name: layer.chainId, key }, { signal });
      committed = true;
    } catch (err) {
      // Another unpack of the same layers committed it first: it is the same snapshot.
      if (err instanceof ContainerdCallError && err.code === Status.ALREADY_EXISTS) return 'present';
      throw err;
    }
    return 'applied';
  } finally {
    if (!committed) await client.call('snapshots', 'Remove', { snapshotter, key }).catch(() => {});
  }
}
