import { createReadStream, createWriteStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { moveFile, removeFile } from './file-moves.js';

/** What `docker save` writes beside the layout for the docker CLI's own loader: manifest.json. */
export interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** What goes into an archive: the blobs of one image (by their files) and its own index.json. */
export interface ArchiveContents {
  /** `blobs/sha256/HEX` → the file holding it. */
  blobs: [string, string][];
  index: Buffer;
  /** docker save's manifest.json, for a docker-archive. */
  docker?: DockerArchiveEntry;
}

/**
 * One image as a tar stream (an OCI layout, plus `manifest.json` for a docker-archive), read from
 * the blob files one at a time as it is consumed: never the whole image in memory, no copy of it
 * on disk. Destroyed with the error if a file cannot be read.
 */
export async function archiveStream(contents: ArchiveContents): Promise<Readable> {
  const { default: tar } = await import('tar-stream'); // only archives need it
  const pack = tar.pack();
  const add = (name: string, size: number, source: Readable | Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (Buffer.isBuffer(source)) return pack.entry({ name, size, mtime: new Date(0) }, source, (err) => (err ? reject(err) : resolve()));
      const entry = pack.entry({ name, size, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
      pipeline(source, entry).catch(reject);
    });
  (async () => {
    const layoutFile = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
    await add('oci-layout', layoutFile.length, layoutFile);
    await add('index.json', contents.index.length, contents.index);
    for (const [name, path] of contents.blobs) await add(name, statSync(path).size, createReadStream(path));
    if (contents.docker !== undefined) {
      const manifest = Buffer.from(JSON.stringify([contents.docker]));
      await add('manifest.json', manifest.length, manifest);
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack as unknown as Readable; // tar-stream's streamx stream pipes as a Node stream
}

/**
 * Packs one image into a tar at `file`: written to `file.partial` and renamed into place once
 * whole, so an interrupted pull never leaves a half-written archive that looks whole.
 */
export async function packArchive(file: string, contents: ArchiveContents): Promise<void> {
  const partial = `${file}.partial`;
  try {
    await pipeline(await archiveStream(contents), createWriteStream(partial));
    await moveFile(partial, file);
  } catch (err) {
    await removeFile(partial);
    throw err;
  }
}
