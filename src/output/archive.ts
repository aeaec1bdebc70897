import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { moveFile, ownName, removeFile } from './file-moves.js';
import { readChunks } from './file-reader.js';
import { readArriving } from './arriving-file.js';
import { FileWriter } from './file-writer.js';
import { BufferRing } from './buffer-ring.js';
import { writeFailure } from './write-failure.js';

/** What `docker save` writes beside the layout for the docker CLI's own loader: manifest.json. */
export interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** One blob of an archive: its name there (`blobs/sha256/HEX`), its file, its size. */
export interface ArchiveBlob {
  name: string;
  path: string;
  size: number;
  /**
   * Its fetch, when it may still be under way: the blob is then read from `partial` as its bytes
   * reach the disk (arriving-file.ts), the archive made in the same pass as the fetch.
   */
  arriving?: { partial: string; done: Promise<unknown> };
}

/** What goes into an archive: the blobs of one image (by their files) and its own index.json. */
export interface ArchiveContents {
  blobs: ArchiveBlob[];
  index: Buffer;
  /** docker save's manifest.json, for a docker-archive. */
  docker?: DockerArchiveEntry;
}

/**
 * One image as a tar stream (an OCI layout, plus `manifest.json` for a docker-archive), read from
 * the blob files one at a time as it is consumed: never the whole image in memory, no copy of it
 * on disk. Destroyed with the error if a file cannot be read. (Files are read and written by fs
 * callbacks, src/output/file-reader.ts and file-writer.ts: fs's streams load 8 of Node's modules.)
 */
export async function archiveStream(
  contents: ArchiveContents,
  /** Where the blobs' files are read into (a BufferRing: the caller says when its chunks are written); by default new buffers. */
  buffers?: BufferRing,
): Promise<Readable> {
  const { default: tar } = await import('tar-stream'); // only archives need it
  const pack = tar.pack();
  const add = (name: string, size: number, source: ArchiveBlob | Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (Buffer.isBuffer(source)) return pack.entry({ name, size, mtime: new Date(0) }, source, (err) => (err ? reject(err) : resolve()));
      const entry = pack.entry({ name, size, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
      entry.on('error', reject); // the archive destroyed under it (an engine that hung up mid-load)
      // The next chunk is read once the entry has taken this one.
      const take = (chunk: Buffer) => (entry.write(chunk) ? undefined : new Promise<void>((drained) => entry.once('drain', drained)));
      const { arriving } = source;
      (arriving !== undefined ? readArriving({ path: source.path, size, ...arriving }, take, buffers) : readChunks(source.path, take, buffers)).then(
        () => entry.end(undefined),
        (err: Error) => {
          entry.destroy(err);
          reject(err);
        },
      );
    });
  (async () => {
    await add('oci-layout', ARCHIVE_LAYOUT_FILE.length, ARCHIVE_LAYOUT_FILE);
    await add('index.json', contents.index.length, contents.index);
    for (const blob of contents.blobs) await add(blob.name, blob.arriving !== undefined ? blob.size : statSync(blob.path).size, blob);
    if (contents.docker !== undefined) {
      const manifest = dockerManifest(contents.docker);
      await add('manifest.json', manifest.length, manifest);
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack as unknown as Readable; // tar-stream's streamx stream pipes as a Node stream
}

const BLOCK = 512;
const blocks = (bytes: number) => Math.ceil(bytes / BLOCK) * BLOCK;

/**
 * The size of archiveStream's tar, before it is made: a header block per entry, each entry's bytes
 * padded to a block, two zero blocks at the end (a name over 100 characters — a sha512 blob's —
 * takes a pax header as well: counted as a block and its record, which is close, not exact).
 */
export function archiveSize(contents: ArchiveContents): number {
  const entry = (name: string, size: number) => BLOCK + blocks(size) + (name.length > 100 ? BLOCK + blocks(name.length + 12) : 0);
  let total = entry('oci-layout', ARCHIVE_LAYOUT_FILE.length) + entry('index.json', contents.index.length);
  for (const blob of contents.blobs) total += entry(blob.name, blob.size);
  if (contents.docker !== undefined) total += entry('manifest.json', dockerManifest(contents.docker).length);
  return total + 2 * BLOCK;
}

const ARCHIVE_LAYOUT_FILE = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
const dockerManifest = (docker: DockerArchiveEntry) => Buffer.from(JSON.stringify([docker]));

/**
 * Packs one image into a tar at `file`: written to `file.PID-RANDOM.partial` and renamed into
 * place once whole, so an interrupted pull never leaves a half-written archive that looks whole.
 */
export async function packArchive(file: string, contents: ArchiveContents): Promise<void> {
  // A name of this run's own, made with O_EXCL: never another run's file, never through a planted symlink.
  const partial = ownName(file, 'partial');
  try {
    // The blobs are read into a few buffers, each reused once what was read into it is on disk.
    const ring = new BufferRing();
    const tar = await archiveStream(contents, ring);
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        tar.destroy();
        reject(err);
      };
      const out = new FileWriter(partial, { create: true }, fail, (onDisk) => ring.written(onDisk));
      let queued = 0;
      tar.on('data', (chunk: Buffer) => {
        queued += chunk.length;
        ring.placed(chunk, queued);
        if (!out.write(chunk)) {
          tar.pause();
          out.onDrain(() => tar.resume());
        }
      });
      tar.on('end', () => out.end().then(resolve, fail));
      // The file closed before the failure is passed on (and the partial file removed).
      tar.on('error', (err) => out.end().then(() => reject(err), () => reject(err)));
    });
    await moveFile(partial, file);
  } catch (err) {
    await removeFile(partial).catch(() => {}); // (its own failure would hide the one that counts)
    // A write's error names no file: the archive's (a blob file that cannot be read names its own).
    // (This run's temporary name means nothing to the user: the archive's is said.)
    const path = (err as NodeJS.ErrnoException).path;
    throw writeFailure(err, path === undefined || path === partial ? file : path) ?? err;
  }
}
