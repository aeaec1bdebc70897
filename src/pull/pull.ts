import type { EngineAddress } from '../engine/address.js';
import { resolveEngine, type EngineChoice } from '../engine/engine-resolution.js';
import { formatReference, parseReference, withDefaultTag, type ImageReference } from '../reference/reference.js';
import type { PullEvent } from '../decode/pull-event.js';
import { PullState } from '../state/pull-state.js';
import { pullResult, type PullResult } from '../state/pull-result.js';
import { usageError } from '../errors.js';
import { streamPullEvents } from './pull-events.js';
import { parseOutput, type OutputTarget } from '../output/destination.js';
import { withRetries, type RetryOptions } from './retry.js';
import { askRateLimit } from '../registry/rate-limit.js';
import { configDir, readDockerConfig } from '../config/docker-config.js';
import { resolveAuth } from '../config/registry-auth.js';
import type { Environment } from '../environment.js';
import { monotonicMs } from '../clock.js';
import { rememberRegistryAuth } from '../secrets.js';
import { parseMirror } from './registry-endpoints.js';
import { closeIdleSshSessions } from '../engine/ssh-connection.js';
import { fleetPull } from './fleet-pull.js';
import { isContainerdIdentifier } from '../containerd/identifier.js';

export type { PullResult };

/**
 * Engine choice (`host`: `unix:///path` or `tcp://host:port`; `context`; TLS) as the docker CLI
 * takes it; by default DOCKER_HOST, DOCKER_CONTEXT, the current context, then the usual sockets.
 */
export interface PullOptions extends EngineChoice {
  /** `os/arch[/variant]`. */
  platform?: string;
  /** Pull every tag of the repository (the image must then name no tag or digest). */
  allTags?: boolean;
  /** Aborting cancels the request; the engine then cancels the pull. */
  signal?: AbortSignal;
  /** Milliseconds without anything from the engine before the pull is cancelled. */
  timeout?: number;
  /** `X-Registry-Auth` header value (base64url JSON); by default found like the docker CLI does (resolveAuth). */
  registryAuth?: string;
  /** Environment to read DOCKER_HOST from; default process.env. */
  env?: Environment;
  /**
   * Run a pull that failed for a passing reason (a 5xx, a 429, a reset or timed-out connection,
   * a stalled engine) again: `attempts` in all, the first wait `delayMs`, then doubling up to a
   * minute; a 429 waits at least what the registry's Retry-After says. Default: one attempt.
   */
  retry?: RetryOptions;
  /**
   * Pull with no engine, straight from the registry into `oci:DIR`, `oci-archive:FILE` or
   * `docker-archive:FILE` (a bare `FILE.tar` is a docker-archive, anything else a layout).
   */
  output?: string;
  /**
   * With `output` to a layout (`oci:`, `oci-archive:`): keep the registry's manifest bytes and
   * digest instead of OCI media types throughout (skopeo, umoci and podman then cannot open a
   * Docker v2 image by name).
   */
  preserveDigests?: boolean;
  /**
   * With `output` or `load`: mirrors for Docker Hub images, as the daemon's `registry-mirrors`
   * (`https://HOST[:PORT]`), tried first. registries.conf mirrors apply too, for any registry.
   */
  registryMirrors?: string[];
  /** Registries spoken to in plain HTTP with `output` (loopback ones always are). */
  insecureRegistries?: string[];
  /** Where archives are made from, blobs kept between runs; default `$XDG_CACHE_HOME/dpull`. */
  cacheDir?: string;
  /**
   * Pull through this process (its network, its credentials) and load the image into the engine
   * with `POST /images/load`: for an engine that cannot reach the registry.
   */
  load?: boolean;
  /**
   * With `load`: several engines (each as `host` takes it), filled from one fetch — each blob
   * fetched once, each engine sent only the layers it lacks. `result.engines` has each engine's
   * outcome; `result` rejects only when every engine failed.
   */
  hosts?: string[];
  /**
   * With a containerd engine (`containerd:///run/containerd/containerd.sock`): the namespace the
   * image goes into (`k8s.io` is the kubelet's); default CONTAINERD_NAMESPACE, else `default`.
   */
  namespace?: string;
  /** With a containerd engine: the snapshotter to unpack into; default CONTAINERD_SNAPSHOTTER, the namespace's default, else overlayfs. */
  snapshotter?: string;
  /** Milliseconds, for elapsed times and speeds; default a monotonic clock. */
  clock?: () => number;
}


/** A running pull: iterate it for its events; `result` settles when it ends (rejects on any failure). */
export interface Pull extends AsyncIterable<PullEvent> {
  readonly reference: string;
  /** The engine pulled through; none with `output`. */
  readonly engine: EngineAddress | undefined;
  readonly result: Promise<PullResult>;
  /** The same events, a batch per read from the engine (at most 64 events; cheaper for a flood of events). */
  batches(): AsyncIterable<PullEvent[]>;
  /**
   * The same batches handed to `listener` as they arrive, already applied to `state` (the
   * cheapest way to follow a pull: no promise per batch), and one empty batch when the engine
   * has accepted the pull, before its first message. Starts the pull; returns a function that
   * stops listening. The end and any failure come through `result`.
   */
  subscribe(listener: (events: PullEvent[]) => void): () => void;
  /** Everything known so far: layers, totals, digests (with `hosts`, of the one fetch). */
  readonly state: PullState;
  /** With `hosts`: each engine's own pull, to follow one engine's load. */
  readonly engines?: Pull[];
}

/** What a pull needs, checked: the reference (default tag added unless all tags) and the engine. */
export interface PreparedPull {
  reference: ImageReference;
  /** The engine, unless the pull goes straight from the registry to `output`. */
  engine?: EngineAddress;
  output?: OutputTarget;
  /** True when the image named no tag or digest and `latest` was taken. */
  defaultTag: boolean;
}

/** Where a pull goes, in words: the engine's address, or the registry and the destination. */
export const pullTarget = (prepared: PreparedPull): string =>
  prepared.output !== undefined ? `${prepared.reference.domain} → ${prepared.output.label}` : prepared.engine!.url;

/** Checks a pull's input; throws a DpullError (exit 2) for a bad reference or engine address. */
export function preparePull(image: string, options: Omit<PullOptions, 'signal' | 'clock'> = {}): PreparedPull {
  const parsed = parseReference(image);
  if (options.allTags && (parsed.tag !== undefined || parsed.digest !== undefined)) {
    throw usageError("tag can't be used with --all-tags/-a");
  }
  const reference = options.allTags ? parsed : withDefaultTag(parsed);
  if (options.output !== undefined && options.load === true) throw usageError('--output and --load go to different places: choose one');
  if ((options.output !== undefined || options.load === true) && options.allTags) {
    throw usageError(`--all-tags cannot go with ${options.load === true ? '--load' : '--output'}: pull the tags one by one`);
  }
  for (const mirror of options.registryMirrors ?? []) parseMirror(mirror);
  if (options.output !== undefined) {
    // Without an engine: none is looked for, none needs to exist.
    if (options.host !== undefined || options.context !== undefined) throw usageError('--output pulls without an engine: leave out -H/--context');
    return { reference, output: parseOutput(options.output), defaultTag: reference !== parsed };
  }
  const env = options.env ?? process.env;
  const engine = resolveEngine(options, env);
  if (engine.kind === 'containerd') {
    // containerd is always filled through the client (load-into-containerd.ts says why).
    if (options.allTags) throw usageError('--all-tags cannot go with a containerd engine: pull the tags one by one');
    const namespace = options.namespace ?? (env.CONTAINERD_NAMESPACE || 'default');
    const snapshotter = options.snapshotter ?? (env.CONTAINERD_SNAPSHOTTER || undefined);
    for (const [what, name] of [['namespace', namespace], ['snapshotter', snapshotter]] as const) {
      if (name !== undefined && !isContainerdIdentifier(name)) throw usageError(`invalid containerd ${what} "${name}": letters and digits, joined by single . _ or -`);
    }
    const address = { ...engine, namespace, ...(snapshotter !== undefined && { snapshotter }) };
    return { reference, engine: address, output: { kind: 'load', path: '', label: engine.url }, defaultTag: reference !== parsed };
  }
  if (options.load === true) {
    // Through the client, into the engine: the engine is needed, its network and credentials not.
    return { reference, engine, output: { kind: 'load', path: '', label: engine.url }, defaultTag: reference !== parsed };
  }
  return { reference, engine, defaultTag: reference !== parsed };
}

/** `hosts`: a pull for each engine, each checked; the same address named twice is one engine. */
function prepareFleet(image: string, options: PullOptions): PreparedPull[] {
  const { hosts = [] } = options;
  if (options.load !== true) throw usageError('hosts: several engines are filled from one fetch with load: true; without it, pull on each engine with host');
  if (options.host !== undefined || options.context !== undefined) throw usageError('hosts: name every engine there, not also in host or context');
  if (hosts.length === 0) throw usageError('hosts: name at least one engine');
  const prepared = hosts.map((host) => preparePull(image, { ...options, host }));
  return [...new Map(prepared.map((p): [string, PreparedPull] => [p.engine!.url, p])).values()];
}

/**
 * Pulls an image through the engine. Nothing happens until the pull is iterated or `result` is
 * awaited; iterate from the start to see every event. Invalid input rejects `result` (and throws
 * from the iteration) with a DpullError whose `exitCode` is 2; an unreachable engine, 3; a pull
 * the engine or registry failed, 1; an abort, the signal's reason.
 */
export function pull(image: string, options: PullOptions = {}): Pull {
  try {
    if (options.hosts !== undefined) return fleetPull(prepareFleet(image, options), options, startPull);
    return startPull(preparePull(image, options), options);
  } catch (error) {
    return startPull({ error }, options);
  }
}

/** A pull of checked input, or of the error that checking it gave (which `result` then rejects with). */
export function startPull(prepared: PreparedPull | { error: unknown }, options: PullOptions): Pull {
  const clock = options.clock ?? monotonicMs;
  const engine = 'error' in prepared ? undefined : prepared.engine;
  const state = new PullState(clock());
  const listeners = new Set<(batch: PullEvent[] | Error | null) => void>();
  let started: Promise<PullResult> | undefined;

  const run = async (): Promise<PullResult> => {
    if ('error' in prepared) throw prepared.error;
    const { reference } = prepared;
    const env = options.env ?? process.env;
    const authOf = (domain: string) =>
      resolveAuth(domain, readDockerConfig(configDir(options.configDir, env)), env, {
        ...(options.signal !== undefined && { signal: options.signal }),
        ...(options.timeout !== undefined && { timeoutMs: options.timeout }),
      });
    const registryAuth = options.registryAuth ?? (await authOf(reference.domain));
    rememberRegistryAuth(registryAuth); // a library caller's own value too: never printed
    const request = {
      engine,
      name: reference.name,
      ...(options.allTags ? {} : { tag: reference.digest ?? reference.tag }),
      ...(options.platform !== undefined && { platform: options.platform }),
      registryAuth,
      ...(options.timeout !== undefined && { idleTimeoutMs: options.timeout }),
      ...(options.signal !== undefined && { signal: options.signal }),
    };
    const onAccepted = () => listeners.forEach((listener) => listener([]));
    const handOver = (batch: PullEvent[]) => {
      const now = clock();
      for (const event of batch) state.apply(event, now);
      for (const listener of listeners) listener(batch);
    };
    const { output } = prepared;
    const attempt = output !== undefined
      ? async () => (await import('./registry-pull.js')).streamRegistryPull({
          reference,
          output,
          registryAuth,
          ...(options.platform !== undefined && { platform: options.platform }),
          ...(options.insecureRegistries !== undefined && { insecureRegistries: options.insecureRegistries }),
          ...(options.cacheDir !== undefined && { cacheDir: options.cacheDir }),
          ...(options.preserveDigests !== undefined && { preserveDigests: options.preserveDigests }),
          ...(options.registryMirrors !== undefined && { registryMirrors: options.registryMirrors }),
          authFor: async (domain: string) => {
            const auth = await authOf(domain);
            rememberRegistryAuth(auth);
            return auth;
          },
          env,
          ...(engine !== undefined && { engine }),
          ...(options.signal !== undefined && { signal: options.signal }),
          ...(options.timeout !== undefined && { idleTimeoutMs: options.timeout }),
        }, handOver)
      : () => streamPullEvents({ ...request, engine: engine!, onAccepted }, handOver);
    try {
      await withRetries(attempt, options.retry ?? { attempts: 1, delayMs: 0 }, {
        emit: (event) => handOver([event]),
        askRateLimit: async () => {
          const limit = await askRateLimit(reference, registryAuth, options.signal);
          return limit && { ...limit, registry: reference.domain };
        },
        ...(options.signal !== undefined && { signal: options.signal }),
      });
    } finally {
      if (engine?.kind === 'ssh') closeIdleSshSessions(engine);
    }
    state.succeed();
    return pullResult(state, formatReference(reference), clock());
  };

  const start = () => {
    if (started === undefined) {
      started = run();
      started.then(
        () => listeners.forEach((l) => l(null)),
        (err: Error) => listeners.forEach((l) => l(err)),
      );
    }
    return started;
  };

  async function* batches(): AsyncGenerator<PullEvent[]> {
    const queue: (PullEvent[] | Error | null)[] = [];
    let wake: (() => void) | undefined;
    const listener = (item: PullEvent[] | Error | null) => {
      queue.push(item);
      wake?.();
    };
    listeners.add(listener);
    start().catch(() => {}); // the failure arrives through the queue
    try {
      for (;;) {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const item = queue.shift()!;
        if (item === null) return;
        if (item instanceof Error || !Array.isArray(item)) throw item;
        if (item.length > 0) yield item;
      }
    } finally {
      listeners.delete(listener);
    }
  }

  function subscribe(listener: (events: PullEvent[]) => void): () => void {
    const onItem = (item: PullEvent[] | Error | null) => {
      if (Array.isArray(item)) listener(item);
    };
    listeners.add(onItem);
    start().catch(() => {}); // the failure is `result`'s
    return () => listeners.delete(onItem);
  }

  return {
    reference: 'error' in prepared ? '' : formatReference(prepared.reference),
    engine,
    state,
    get result() {
      return start();
    },
    batches,
    subscribe,
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches()) yield* batch;
    },
  };
}
