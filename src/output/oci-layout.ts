import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { usageError } from '../errors.js';
import { jsonErrorWhere } from '../json-error.js';
import type { Descriptor } from '../registry/descriptor.js';
import { isDigest } from '../registry/descriptor.js';
import { lockFile } from './file-lock.js';

/**
 * Writes `bytes` to `file` whole or not at all: into a new file of this process's own (O_EXCL,
 * no symlink followed), then renamed over `file`.
 */
export function writeWhole(file: string, bytes: Buffer | string): void {
  const temporary = `${file}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`;
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
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** The annotation docker load (25+) and containerd read the image's full name from. */
const IMAGE_NAME = 'io.containerd.image.name';

const named = (manifest: Descriptor, name: string): Descriptor => ({ ...manifest, annotations: { ...manifest.annotations, [REF_NAME]: name, [IMAGE_NAME]: name } });

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
      if (!existsSync(join(this.dir, 'oci-layout')) && readdirSync(this.dir).length > 0) {
        throw usageError(`${this.dir} exists and is not an OCI image layout (no oci-layout file); give an empty or new folder`);
      }
    }
    return this;
  }

  /** Makes the folder a layout (or keeps the one it is). */
  open(): this {
    this.check();
    mkdirSync(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    if (!existsSync(join(this.dir, 'oci-layout'))) writeWhole(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
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
    try {
      return lstatSync(this.blobPath(digest)).isFile();
    } catch {
      return false;
    }
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

  /** The manifest that `name` names in the layout, if any. */
  named(name: string): Descriptor | undefined {
    return this.readIndex().manifests.find((m) => m.annotations?.[REF_NAME] === name);
  }

  /** An index.json of one image, named `name` (an archive's). */
  static indexOf(manifest: Descriptor, name: string): Buffer {
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [named(manifest, name)] }));
  }

  /**
   * Names a manifest `name` in index.json (replacing what had the name), written whole or not at
   * all, under the index's lock and read again inside it: pulls into one layout at once (in this
   * process or others) each add their entry, none lost.
   */
  async name(manifest: Descriptor, name: string, signal?: AbortSignal): Promise<void> {
    const file = join(this.dir, 'index.json');
    const lock = await lockFile(`${file}.lock`, signal, () => {});
    try {
      const index = this.readIndex();
      index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== name);
      index.manifests.push(named(manifest, name));
      writeWhole(file, JSON.stringify(index));
    } finally {
      lock.release();
    }
  }
}
