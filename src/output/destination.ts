import { usageError } from '../errors.js';

/** Where a pull without an engine writes the image. */
export interface OutputTarget {
  /** `load`: into the engine (--load), through the client. */
  kind: 'oci' | 'oci-archive' | 'docker-archive' | 'load';
  /** The folder (oci) or the file (archives). */
  path: string;
  /** As the user wrote it, to name the destination on screen. */
  label: string;
  /**
   * `oci:DIR:NAME`, `oci-archive:FILE:NAME`: the name to open the image by (its
   * `org.opencontainers.image.ref.name`); `docker-archive:FILE:NAME`: the name docker load gives it.
   */
  name?: string;
}

// A name as skopeo takes it after the path (the first colon ends the path): a reference or a tag.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,254}$/;

/**
 * `oci:DIR[:NAME]` (an OCI image layout), `oci-archive:FILE` (the same, as one tar), `docker-archive:FILE`
 * (`docker save`'s format); a bare `FILE.tar` is a docker-archive, anything else bare a layout.
 */
export function parseOutput(value: string): OutputTarget {
  const m = /^(oci|oci-archive|docker-archive):([^:]*)(?::(.*))?$/.exec(value);
  if (m) {
    if (m[2] === '') throw usageError(`invalid --output "${value}": ${m[1]}: needs a path`);
    if (m[3] !== undefined && !NAME.test(m[3])) throw usageError(`invalid --output "${value}": "${m[3]}" is not a name to give an image`);
    return { kind: m[1] as OutputTarget['kind'], path: m[2], label: value, ...(m[3] !== undefined && { name: m[3] }) };
  }
  if (value === '') throw usageError('invalid --output "": expected oci:DIR, oci-archive:FILE or docker-archive:FILE');
  return { kind: value.endsWith('.tar') ? 'docker-archive' : 'oci', path: value, label: value };
}

/** An archive holds one image: several images into one file is refused before anything is pulled. */
export function checkOutputFor(images: number, output: OutputTarget): void {
  if (images > 1 && output.kind !== 'oci' && output.kind !== 'load') {
    throw usageError(`${output.label}: an archive holds one image; pull one image into it, or several into an OCI layout (oci:DIR)`);
  }
}
