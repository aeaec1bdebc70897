import { crypto } from '../builtins.js';
import type { Descriptor } from '../registry/descriptor.js';

// skopeo 1.9/1.18 and umoci find an image in an OCI layout by name and then refuse Docker v2
// media types ("no descriptor found", "unsupported manifest MIME type"); relabelling only the
// index entry fails too ("invalid mixed OCI image with Docker v2s2 config"). So a layout they
// can open holds OCI media types throughout, as `skopeo copy … oci:` writes it: the manifest is
// made anew with OCI types, while the config and layer bytes stay as they are (the image ID, the
// config's digest, stays; the manifest's digest changes).

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

const OCI_TYPE_OF = new Map([
  ['application/vnd.docker.container.image.v1+json', 'application/vnd.oci.image.config.v1+json'],
  ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'application/vnd.oci.image.layer.v1.tar+gzip'],
  ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'],
]);

/** A manifest as stored: its bytes, their digest, its media type. */
export interface StoredManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

const descriptor = (d: Descriptor) => ({ mediaType: OCI_TYPE_OF.get(d.mediaType) ?? d.mediaType, digest: d.digest, size: d.size });

/**
 * The image's manifest with OCI media types: a Docker v2 manifest made anew from its checked
 * config and layers; an OCI manifest as it came.
 */
export function ociManifest(manifest: StoredManifest, config: Descriptor, layers: Descriptor[]): StoredManifest {
  if (manifest.mediaType !== DOCKER_MANIFEST) return manifest;
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(config), layers: layers.map(descriptor) }));
  return { bytes, digest: `sha256:${crypto().createHash('sha256').update(bytes).digest('hex')}`, mediaType: OCI_MANIFEST };
}
