import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

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
 * Packs one image into a tar at `file` (an OCI layout, plus `manifest.json` for a docker-archive),
 * streamed blob by blob: written to `file.partial` and renamed into place once whole, so an
 * interrupted pull never leaves a half-written archive that looks whole.
 */
export async function packArchive(file: string, contents: ArchiveContents): Promise<void> {
  const pack = tar.pack();
  const partial = `${file}.partial`;
  const written = pipeline(pack, createWriteStream(partial));
  try {
    const add = (name: string, size: number, source: NodeJS.ReadableStream | Buffer) =>
      new Promise<void>((resolve, reject) => {
        if (Buffer.isBuffer(source)) return pack.entry({ name, size, mtime: new Date(0) }, source, (err) => (err ? reject(err) : resolve()));
        const entry = pack.entry({ name, size, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
        pipeline(source, entry).catch(reject);
      });
    const layoutFile = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
    await add('oci-layout', layoutFile.length, layoutFile);
    await add('index.json', contents.index.length, contents.index);
    for (const [name, path] of contents.blobs) await add(name, statSync(path).size, createReadStream(path));
    if (contents.docker !== undefined) {
      const manifest = Buffer.from(JSON.stringify([contents.docker]));
      await add('manifest.json', manifest.length, manifest);
    }
    pack.finalize();
    await written;
    await rename(partial, file);
  } catch (err) {
    pack.destroy();
    await written.catch(() => {});
    await rm(partial, { force: true });
    throw err;
  }
}
