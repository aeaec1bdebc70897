import { createReadStream, createWriteStream, readdirSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** What `docker save` writes beside the layout for the docker CLI's own loader: manifest.json. */
export interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** Every file under `dir`, as paths relative to it, folders first. */
function filesOf(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix)).sort().flatMap((name) => {
    const path = prefix === '' ? name : `${prefix}/${name}`;
    return statSync(join(dir, path)).isDirectory() ? filesOf(dir, path) : [path];
  });
}

/**
 * Packs an OCI layout folder into one tar at `file` (with `manifest.json` for a docker-archive),
 * streamed file by file: written to `file.partial` and renamed into place once whole, so an
 * interrupted pull never leaves a half-written archive that looks whole.
 */
export async function packArchive(layoutDir: string, file: string, docker?: DockerArchiveEntry): Promise<void> {
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
    for (const path of filesOf(layoutDir)) {
      await add(path, statSync(join(layoutDir, path)).size, createReadStream(join(layoutDir, path)));
    }
    if (docker !== undefined) {
      const manifest = Buffer.from(JSON.stringify([docker]));
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
