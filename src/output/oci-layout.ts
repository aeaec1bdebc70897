import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { usageError } from '../errors.js';
import { jsonErrorWhere } from '../json-error.js';
import type { Descriptor } from '../registry/manifest.js';

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
    if (!existsSync(join(this.dir, 'oci-layout'))) writeFileSync(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    return this;
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', ...digest.split(':'));
  }

  /** A blob is only ever stored under its digest once verified, so one that is there is whole. */
  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  writeBlob(digest: string, bytes: Buffer): void {
    if (!this.hasBlob(digest)) writeFileSync(this.blobPath(digest), bytes);
  }

  private readIndex(): Index {
    const file = join(this.dir, 'index.json');
    if (!existsSync(file)) return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
    const text = readFileSync(file, 'utf8');
    try {
      const index = JSON.parse(text) as Index;
      if (!Array.isArray(index.manifests)) throw new Error('no manifests');
      return index;
    } catch {
      throw usageError(`${file} is not an OCI image index: ${jsonErrorWhere(text)}`);
    }
  }

  /** The manifest that `name` names in the layout, if any. */
  named(name: string): Descriptor | undefined {
    return this.readIndex().manifests.find((m) => m.annotations?.[REF_NAME] === name);
  }

  /** An index.json of one image, named `name` (an archive's). */
  static indexOf(manifest: Descriptor, name: string): Buffer {
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [named(manifest, name)] }));
  }

  /** Names a manifest `name` in index.json (replacing what had the name), written whole or not at all. */
  name(manifest: Descriptor, name: string): void {
    const index = this.readIndex();
    index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== name);
    index.manifests.push(named(manifest, name));
    const file = join(this.dir, 'index.json');
    writeFileSync(`${file}.partial`, JSON.stringify(index));
    renameSync(`${file}.partial`, file);
  }
}
