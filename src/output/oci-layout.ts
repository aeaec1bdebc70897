import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { usageError } from '../errors.js';
import { jsonErrorWhere } from '../json-error.js';
import type { Descriptor } from '../registry/descriptor.js';
import { isDigest } from '../registry/descriptor.js';
import { lockFile } from './file-lock.js';
import { isRegularFile, ownName } from './file-moves.js';

/**
 * Writes `bytes` to `file` whole or not at all: into a new file of this process's own (O_EXCL,
 * no symlink followed), then renamed over `file`.
 */
export function writeWhole(file: string, bytes: Buffer | string): void {
  const temporary = ownName(file, 'tmp');
  try {
    const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      for (let at = 0; at < buffer.length; ) at += writeSync(fd, buffer, at);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (err) {
    try {
      unlinkSync(temporary);
    } catch {
      // Never made.
    }
    throw err;
  }
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** The name skopeo (`oci:DIR:NAME`), umoci (`--image DIR:NAME`) and podman look an entry up by. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** The image's full name, which docker load (25+) and containerd name the image by. */
export const IMAGE_NAME = 'io.containerd.image.name';

/**
 * What an entry is called: `image`, the full reference (`registry/repo:tag`); `ref`, the name to
 * open it by (by default the tag, as skopeo and containerd write it); `explicit` when the user
 * chose `ref` (`oci:DIR:NAME`), so that it replaces whatever had it.
 */
export interface EntryNames {
  image: string;
  ref: string;
  explicit?: boolean;
}

const named = (manifest: Descriptor, ref: string, image: string): Descriptor => ({
  mediaType: manifest.mediaType,
  digest: manifest.digest,
  size: manifest.size,
  ...(manifest.platform !== undefined && { platform: manifest.platform }),
  annotations: { [REF_NAME]: ref, [IMAGE_NAME]: image },
});

/** What a folder holds while a dpull makes it a layout: the layout file being written, the blobs folder. */
const BEING_MADE = /^(blobs|oci-layout\.\d+-[a-z0-9]+\.tmp)$/;

interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`), made or added to. */
export class OciLayout {
  constructor(readonly dir: string) {}

  /** An existing folder must be empty or a layout already (usage error otherwise); nothing is made yet. */
  check(): this {
    if (existsSync(this.dir)) {
      if (!statSync(this.dir).isDirectory()) throw usageError(`${this.dir} exists and is not a folder: an OCI layout is a folder (or use oci-archive:FILE)`);
      // (What another dpull making this layout at this moment has put there so far is no obstacle.)
      if (!existsSync(join(this.dir, 'oci-layout')) && readdirSync(this.dir).some((name) => !BEING_MADE.test(name))) {
        throw usageError(`${this.dir} exists and is not an OCI image layout (no oci-layout file); give an empty or new folder`);
      }
    }
    return this;
  }

  /** Makes the folder a layout (or keeps the one it is). */
  open(): this {
    this.check();
    mkdirSync(this.dir, { recursive: true });
    if (!existsSync(join(this.dir, 'oci-layout'))) writeWhole(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    mkdirSync(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    return this;
  }

  /** Where a blob is kept; `digest` must be a checked one (descriptor.ts): it becomes a path. */
  blobPath(digest: string): string {
    if (!isDigest(digest)) throw new Error(`not a digest: ${String(digest).slice(0, 80)}`); // checked where it entered; never a path
    const [algorithm, hex] = digest.split(':');
    if (algorithm !== 'sha256') mkdirSync(join(this.dir, 'blobs', algorithm), { recursive: true });
    return join(this.dir, 'blobs', algorithm, hex);
  }

  /** A blob is only ever stored under its digest once verified, so a plain file there is whole (a symlink is not taken). */
  hasBlob(digest: string): boolean {
    return isRegularFile(this.blobPath(digest));
  }

  /** Stores a blob held in memory (a manifest, hashed from these bytes), whole or not at all. */
  writeBlob(digest: string, bytes: Buffer): void {
    if (!this.hasBlob(digest)) writeWhole(this.blobPath(digest), bytes);
  }

  private readIndex(): Index {
    const file = join(this.dir, 'index.json');
    if (!existsSync(file)) return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
    const text = readFileSync(file, 'utf8');
    let index: Index;
    try {
      index = JSON.parse(text) as Index;
    } catch {
      throw usageError(`${file} is not an OCI image index: ${jsonErrorWhere(text)}`);
    }
    if (typeof index !== 'object' || index === null || !Array.isArray(index.manifests)) throw usageError(`${file} is not an OCI image index: it lists no manifests`);
    const bad = index.manifests.findIndex((m) => typeof m !== 'object' || m === null || !isDigest(m.digest));
    if (bad >= 0) throw usageError(`${file} is not an OCI image index: manifests[${bad}] is not a descriptor`);
    return index;
  }

  /** The entry holding the image `image` (its full reference), if any. */
  entryFor(image: string): Descriptor | undefined {
    const { manifests } = this.readIndex();
    return manifests.find((m) => m.annotations?.[IMAGE_NAME] === image) ?? manifests.find((m) => m.annotations?.[REF_NAME] === image);
  }

  /** An index.json of one image (an archive's). */
  static indexOf(manifest: Descriptor, names: EntryNames): Buffer {
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [named(manifest, names.ref, names.image)] }));
  }

  /**
   * Adds the image to index.json, replacing the entry it had; written whole or not at all, under
   * the index's lock and read again inside it: pulls into one layout at once (in this process or
   * others) each add their entry, none lost. Its name to open it by is `names.ref` unless another
   * image has that name already (two repositories' `1.0` in one layout): then its full reference.
   * Returns the name given.
   */
  async name(manifest: Descriptor, names: EntryNames, signal?: AbortSignal): Promise<string> {
    const file = join(this.dir, 'index.json');
    const lock = await lockFile(`${file}.lock`, signal, () => {});
    try {
      const index = this.readIndex();
      const others = index.manifests.filter((m) => m.annotations?.[IMAGE_NAME] !== names.image && m.annotations?.[REF_NAME] !== names.image);
      const ref = names.explicit === true || !others.some((m) => m.annotations?.[REF_NAME] === names.ref) ? names.ref : names.image;
      index.manifests = [...others.filter((m) => m.annotations?.[REF_NAME] !== ref), named(manifest, ref, names.image)];
      writeWhole(file, JSON.stringify(index));
      return ref;
    } finally {
      lock.release();
    }
  }
}
