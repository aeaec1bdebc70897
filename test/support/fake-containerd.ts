// A containerd that is not one: a gRPC server on a unix socket speaking containerd's services
// (from the same protocol files dpull uses) and answering as a test tells it — a hostile engine.
// It does what a pull asks of a real one well enough for dpull to go through a pull, except where
// `hostile` says otherwise, and records every call.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { afterEach } from 'vitest';
import { scratchDir } from './scratch.js';

const proto = fileURLToPath(new URL('../../src/containerd/proto/', import.meta.url));
const api = 'github.com/containerd/containerd/api/services/';
const files = ['content/v1/content.proto', 'diff/v1/diff.proto', 'images/v1/images.proto', 'leases/v1/leases.proto', 'namespaces/v1/namespace.proto', 'snapshots/v1/snapshots.proto', 'version/v1/version.proto'];

export interface Hostility {
  /** Content.Write fails on its first message with this status message. */
  writeError?: string;
  /** Content.Write never answers (nor ends). */
  writeSilent?: boolean;
  /** Diff.Apply answers with this digest instead of the layer's diff ID. */
  appliedDigest?: string;
  /** Diff.Apply never answers. */
  applyHangs?: boolean;
  /** Version says this. */
  version?: string;
}

export interface FakeContainerd {
  host: string;
  /** Every call, as `Service.Method`. */
  calls: string[];
}

const running: grpc.Server[] = [];
afterEach(() => {
  for (const server of running.splice(0)) server.forceShutdown();
});

const fail = (code: grpc.status, details: string) => Object.assign(new Error(details), { code, details });

export async function fakeContainerd(hostile: Hostility): Promise<FakeContainerd> {
  const definition = loader.loadSync(files.map((f) => api + f), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, includeDirs: [proto] });
  const service = (name: string) => definition[name] as grpc.ServiceDefinition;
  const calls: string[] = [];
  const unary = (name: string, answer: (request: Record<string, unknown>) => object | Error | undefined) =>
    (call: grpc.ServerUnaryCall<Record<string, unknown>, object>, callback: grpc.sendUnaryData<object>) => {
      calls.push(name);
      const result = answer(call.request);
      if (result === undefined) return; // (never answers)
      if (result instanceof Error) callback(result as grpc.ServiceError);
      else callback(null, result);
    };
  const server = new grpc.Server();
  server.addService(service('containerd.services.version.v1.Version'), { Version: unary('Version.Version', () => ({ version: hostile.version ?? 'v1.7.24', revision: '' })) });
  server.addService(service('containerd.services.namespaces.v1.Namespaces'), { Get: unary('Namespaces.Get', () => fail(grpc.status.NOT_FOUND, 'namespace not found')) });
  server.addService(service('containerd.services.leases.v1.Leases'), {
    Create: unary('Leases.Create', (r) => ({ lease: { id: r.id } })),
    Delete: unary('Leases.Delete', () => ({})),
    AddResource: unary('Leases.AddResource', () => ({})),
  });
  server.addService(service('containerd.services.content.v1.Content'), {
    Info: unary('Content.Info', () => fail(grpc.status.NOT_FOUND, 'content digest not found')),
    Update: unary('Content.Update', (r) => ({ info: r.info })),
    Write: (call: grpc.ServerDuplexStream<Record<string, unknown>, object>) => {
      calls.push('Content.Write');
      let offset = 0;
      call.on('data', (request: { action: string; data?: Buffer }) => {
        if (hostile.writeError !== undefined) return void call.emit('error', fail(grpc.status.UNKNOWN, hostile.writeError));
        if (hostile.writeSilent) return;
        offset += request.data?.length ?? 0;
        call.write({ action: request.action, offset });
      });
      call.on('end', () => call.end());
    },
  });
  server.addService(service('containerd.services.snapshots.v1.Snapshots'), {
    Stat: unary('Snapshots.Stat', () => fail(grpc.status.NOT_FOUND, 'snapshot does not exist')),
    Prepare: unary('Snapshots.Prepare', () => ({ mounts: [] })),
    Commit: unary('Snapshots.Commit', () => ({})),
    Remove: unary('Snapshots.Remove', () => ({})),
  });
  server.addService(service('containerd.services.diff.v1.Diff'), {
    Apply: unary('Diff.Apply', () => (hostile.applyHangs ? undefined : { applied: { media_type: 'application/vnd.oci.image.layer.v1.tar', digest: hostile.appliedDigest ?? 'sha256:0', size: 0 } })),
  });
  server.addService(service('containerd.services.images.v1.Images'), {
    Get: unary('Images.Get', () => fail(grpc.status.NOT_FOUND, 'image not found')),
    Create: unary('Images.Create', (r) => ({ image: r.image })),
    Update: unary('Images.Update', (r) => ({ image: r.image })),
  });
  const socket = join(scratchDir('dpull-fake-containerd-'), 'containerd.sock');
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  running.push(server);
  return { host: `containerd://${socket}`, calls };
}
