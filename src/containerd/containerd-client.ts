import { fileURLToPath } from 'node:url';
import type { ContainerdAddress } from '../engine/address.js';
import { DpullError, ExitCode, pullError } from '../errors.js';
import { clip } from '../registry/descriptor.js';
import { sanitize } from '../sanitize.js';

// containerd's API: gRPC over its unix socket, described by containerd's own protocol files
// (./proto: the services dpull calls, from containerd 1.7.24's api/ folder, Apache-2.0 with its
// LICENSE and NOTICE beside them; 2.x serves the same v1 services). @grpc/grpc-js and
// @grpc/proto-loader are loaded (and the files parsed) only when a containerd engine is used:
// docker pulls and `dpull --version` never pay for them.

type Grpc = typeof import('@grpc/grpc-js');
type ServiceClient = import('@grpc/grpc-js').Client & Record<string, (...args: unknown[]) => unknown>;

const SERVICES = {
  content: ['containerd.services.content.v1.Content', 'services/content/v1/content.proto'],
  diff: ['containerd.services.diff.v1.Diff', 'services/diff/v1/diff.proto'],
  images: ['containerd.services.images.v1.Images', 'services/images/v1/images.proto'],
  leases: ['containerd.services.leases.v1.Leases', 'services/leases/v1/leases.proto'],
  namespaces: ['containerd.services.namespaces.v1.Namespaces', 'services/namespaces/v1/namespace.proto'],
  snapshots: ['containerd.services.snapshots.v1.Snapshots', 'services/snapshots/v1/snapshots.proto'],
  version: ['containerd.services.version.v1.Version', 'services/version/v1/version.proto'],
} as const;
export type ServiceName = keyof typeof SERVICES;

/** What a metadata call may take: a lost socket must not hang a pull (an unpack has no limit: --timeout covers it). */
const CALL_DEADLINE_MS = 30_000;

/** gRPC's status codes dpull acts on. */
export const Status = { CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, FAILED_PRECONDITION: 9, UNAVAILABLE: 14, UNIMPLEMENTED: 12 } as const;

/** A failed call: its gRPC code, and containerd's words (sanitized, clipped). */
export class ContainerdCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}

let loaded: Promise<{ grpc: Grpc; services: Record<ServiceName, new (target: string, credentials: unknown, options?: object) => ServiceClient> }> | undefined;

/** The protocol files sit beside this module in the source, and in dist/proto beside the bundles. */
const protoRoot = () => fileURLToPath(new URL('./proto/', import.meta.url));

function loadServices() {
  loaded ??= (async () => {
    const grpc = await import('@grpc/grpc-js');
    const loader = await import('@grpc/proto-loader');
    const api = 'github.com/containerd/containerd/api/';
    const definition = loader.loadSync(
      Object.values(SERVICES).map(([, file]) => api + file),
      { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, includeDirs: [protoRoot()] },
    );
    const services = Object.fromEntries(
      Object.entries(SERVICES).map(([key, [name]]) => [key, grpc.makeClientConstructor(definition[name] as import('@grpc/grpc-js').ServiceDefinition, name)]),
    ) as never;
    return { grpc, services };
  })();
  return loaded;
}

/**
 * A connection to one containerd, every call in one namespace (the `containerd-namespace`
 * header) and, once `lease` is set, under that lease (`containerd-lease`): what is written or
 * prepared then is not collected until the lease is deleted.
 */
export class ContainerdClient {
  lease: string | undefined;
  private readonly clients = new Map<ServiceName, ServiceClient>();

  private constructor(
    readonly address: ContainerdAddress,
    readonly namespace: string,
    private readonly grpc: Grpc,
    private readonly constructors: Record<ServiceName, new (target: string, credentials: unknown, options?: object) => ServiceClient>,
  ) {}

  /** Connects and asks containerd's version: a socket that is no containerd's is said here (exit 3). */
  static async connect(address: ContainerdAddress, namespace: string, signal?: AbortSignal): Promise<{ client: ContainerdClient; version: string }> {
    const { grpc, services } = await loadServices();
    const client = new ContainerdClient(address, namespace, grpc, services);
    try {
      const answer = await client.call<{ version?: string }>('version', 'Version', {}, { signal, deadlineMs: 10_000 });
      return { client, version: sanitize(String(answer.version ?? '')) };
    } catch (err) {
      client.close();
      if (err instanceof ContainerdCallError) throw new DpullError(`cannot reach containerd at ${address.url}: ${unreachable(err, address.socketPath)}`, ExitCode.engineUnreachable);
      throw err;
    }
  }

  private service(name: ServiceName): ServiceClient {
    let client = this.clients.get(name);
    if (client === undefined) {
      // (grpc-js's subchannel pool gives every service with the same target and options one socket.)
      client = new this.constructors[name](`unix://${this.address.socketPath}`, this.grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': 16 << 20,
        'grpc.enable_retries': 0,
      });
      this.clients.set(name, client);
    }
    return client;
  }

  metadata(): import('@grpc/grpc-js').Metadata {
    const metadata = new this.grpc.Metadata();
    metadata.set('containerd-namespace', this.namespace);
    if (this.lease !== undefined) metadata.set('containerd-lease', this.lease);
    return metadata;
  }

  /** A unary call; rejects with a ContainerdCallError, or the signal's reason once aborted. */
  call<T>(service: ServiceName, method: string, request: object, options: { signal?: AbortSignal; deadlineMs?: number | null } = {}): Promise<T> {
    const { signal, deadlineMs = CALL_DEADLINE_MS } = options;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const callOptions = deadlineMs === null ? {} : { deadline: Date.now() + deadlineMs };
      const call = this.service(service)[method](request, this.metadata(), callOptions, (err: import('@grpc/grpc-js').ServiceError | null, response: T) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) reject(signal.reason);
        else if (err) reject(callError(err));
        else resolve(response);
      }) as { cancel(): void };
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A bidirectional stream (content writes). */
  stream(service: ServiceName, method: string): import('@grpc/grpc-js').ClientDuplexStream<object, object> {
    return this.service(service)[method](this.metadata()) as import('@grpc/grpc-js').ClientDuplexStream<object, object>;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** Why a socket did not answer, in a user's words rather than gRPC's ("No connection established. Last error: …"). */
function unreachable(err: ContainerdCallError, socketPath: string): string {
  const connect = /connect (E[A-Z]+)/.exec(err.details)?.[1];
  if (connect === 'ENOENT') return `no socket at ${socketPath}`;
  if (connect === 'ECONNREFUSED') return `nothing listens at ${socketPath}`;
  if (connect === 'EACCES' || connect === 'EPERM') return `permission denied on ${socketPath} (containerd's socket is root's: run dpull as root)`;
  if (/Protocol error|HTTP status code|Received RST_STREAM/i.test(err.details) || err.code === Status.UNIMPLEMENTED) {
    return 'it does not answer as containerd does (a Docker Engine socket is unix://…, not containerd://…)';
  }
  if (err.code === Status.DEADLINE_EXCEEDED) return 'no answer in 10s';
  return err.details.replace(/^No connection established\. Last error: /, '').replace(/ ?\(\d{4}-[^)]*\)/g, '').replace(/\.? ?Resolution note:.*$/, '');
}

/** gRPC's error as containerd's words: what it says, fit to print, without gRPC's prefix. */
export function callError(err: { code?: number; details?: string; message?: string }): ContainerdCallError {
  const words = err.details || err.message || 'no reason given';
  return new ContainerdCallError(err.code ?? Status.UNKNOWN, clip(sanitize(words), 300));
}

/** A call's failure as the pull's: containerd's words after what dpull was doing. */
export function containerdFailure(doing: string, err: unknown): unknown {
  if (!(err instanceof ContainerdCallError)) return err;
  if (err.code === Status.UNAVAILABLE) return new DpullError(`containerd stopped answering while ${doing}: ${err.details}`, ExitCode.engineUnreachable);
  return pullError(`containerd could not finish ${doing}: ${err.details}`);
}
