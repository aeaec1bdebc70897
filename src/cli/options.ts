import { Command, CommanderError, Option } from 'commander';
import { usageError } from '../errors.js';
import { parseDuration } from '../pull/idle-timeout.js';
import { PROGRESS_CHOICES, type ProgressChoice } from '../render/renderer.js';

export interface CliOptions {
  /** As given, duplicates included. */
  images: string[];
  /** Every -H, in order. */
  hosts: string[];
  /** Every --context, in order. */
  contexts: string[];
  /** Pulls at once on each engine. */
  parallel: number;
  /** Exit 0 even when some pulls failed (usage errors and interrupts still count). */
  ignorePullFailures: boolean;
  platform?: string;
  allTags: boolean;
  quiet: boolean;
  /** False with --no-tty: plain lines even on a terminal. */
  tty: boolean;
  progress?: ProgressChoice;
  /** Seconds between plain-mode progress lines. */
  progressInterval?: number;
  /** Milliseconds without anything from the engine before the pull is cancelled. */
  timeout?: number;
  /** Pull with no engine into this destination (oci:DIR, oci-archive:FILE, docker-archive:FILE). */
  output?: string;
  /** Registries spoken to in plain HTTP with --output. */
  insecureRegistry?: string[];
  /** Where archives are made from (blobs kept between runs, to resume and share). */
  cacheDir?: string;
  preserveDigests?: boolean;
  registryMirror?: string[];
  /** Pull through dpull and load into the engine. */
  load?: boolean;
  /** A containerd engine's namespace. */
  namespace?: string;
  /** Runs again after a passing failure (--retry, else DPULL_RETRY, else 0). */
  retry?: number;
  /** Milliseconds before the first retry. */
  retryDelay?: number;
  /** The docker CLI's config directory (credentials, contexts). */
  config?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/** Commander finished the run itself: --help or --version printed, or a usage error printed. */
export class CommanderExit extends Error {
  constructor(readonly exitCode: number) {
    super('commander exit');
  }
}

const PLATFORM = /^[a-z0-9_]+\/[a-z0-9_-]+(?:\/[a-z0-9_.-]+)?$/;

function parsePlatform(value: string): string {
  const platform = value.toLowerCase();
  if (!PLATFORM.test(platform)) throw usageError(`invalid platform "${value}": expected os/arch[/variant], e.g. linux/arm64`);
  return platform;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function parseTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw usageError(`invalid --timeout "${value}": expected a duration such as 30s, 500ms or 2m`);
  // A timer holds whole milliseconds below 2^31 (about 24 days); outside that Node would fire at once.
  if (ms < 1) throw usageError(`invalid --timeout "${value}": the shortest is 1ms`);
  if (ms > MAX_TIMER_MS) throw usageError(`invalid --timeout "${value}": the longest is 596h (2^31-1 ms, what a timer holds)`);
  return Math.round(ms);
}

function parseRetry(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 100) throw usageError(`invalid --retry "${value}": expected a whole number of retries from 0 to 100`);
  return n;
}

function parseRetryDelay(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1 || ms > 600_000) throw usageError(`invalid --retry-delay "${value}": expected a duration from 1ms to 10m, such as 2s`);
  return Math.round(ms);
}

/** --retry, else DPULL_RETRY from the environment (checked the same way), else none. */
export function requestedRetries(options: CliOptions, env: Record<string, string | undefined>): number {
  if (options.retry !== undefined) return options.retry;
  return env.DPULL_RETRY !== undefined && env.DPULL_RETRY !== '' ? parseRetry(env.DPULL_RETRY) : 0;
}

function parseParallel(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(`invalid --parallel "${value}": expected a whole number of pulls, 1 or more`);
  return n;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function parseInterval(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw usageError(`invalid --progress-interval "${value}": expected a number of seconds above 0`);
  return seconds;
}

/**
 * The progress mode asked for: --progress, or its shorthands -q (quiet) and --no-tty (plain),
 * else DPULL_PROGRESS, else auto. Two flags that ask for different modes are a usage error.
 */
export function requestedProgress(options: CliOptions, env: NodeJS.ProcessEnv): ProgressChoice {
  const asked = new Set<ProgressChoice>();
  if (options.progress !== undefined) asked.add(options.progress);
  if (options.quiet) asked.add('quiet');
  if (!options.tty) asked.add('plain');
  if (asked.size > 1) throw usageError(`conflicting output modes: ${[...asked].join(', ')} (choose one)`);
  if (asked.size === 1) return [...asked][0];
  const fromEnv = env.DPULL_PROGRESS;
  if (fromEnv === undefined || fromEnv === '') return 'auto';
  if (!(PROGRESS_CHOICES as readonly string[]).includes(fromEnv)) {
    throw usageError(`invalid DPULL_PROGRESS "${fromEnv}": expected one of ${PROGRESS_CHOICES.join(', ')}`);
  }
  return fromEnv as ProgressChoice;
}

const EXAMPLES = `
Examples:
  dpull nginx:1.27                       pull with a live per-layer display
  dpull --no-tty app:1.4                 plain lines for a CI log
  dpull --progress json app:1.4 | jq -c 'select(.type == "result")'
                                         one JSON object per line, for scripts
  dpull -q ghcr.io/org/app@sha256:…      print only the pulled reference
  dpull -H tcp://10.0.0.5:2375 redis     pull on another engine
  dpull redis:7 nginx:1.27 node:22       pull several images at once
  dpull -c build1 -c build2 app:1.4      pull onto two engines (contexts) at once
  dpull -a 127.0.0.1:5000/demo/app       pull every tag of a repository
  dpull -H containerd:///run/containerd/containerd.sock -n k8s.io app:1.4
                                         pull into a Kubernetes node's containerd

Exit codes: 0 pulled, 1 a pull failed, 2 usage error, 3 engine unreachable, 130 interrupted;
with several pulls, the worst of them.`;

const USAGE_HINT = "Usage: dpull [options] <image...>\nRun 'dpull --help' for more.\n";

/** Parses argv (without node and script) into options. Prints help, version and usage errors. */
export function parseOptions(
  args: string[],
  version: string,
  write: { out: (s: string) => void; err: (s: string) => void },
): CliOptions {
  const program = new Command()
    .name('dpull')
    .description('Pull container images into a Docker engine, podman or containerd (or straight to a folder or archive), with a live per-layer display.')
    .argument('<image...>', 'image references: [registry/]name[:tag][@digest]; several are pulled at once')
    .option('--config <dir>', 'the docker CLI\'s config directory, for registry credentials (default $DOCKER_CONFIG, then ~/.docker)')
    .option('-H, --host <url>', 'engine address (unix:///path, tcp://host:port, ssh://[user@]host[:port][/socket], npipe:////./pipe/NAME, containerd:///path/to/containerd.sock); default $DOCKER_HOST, then the context, then $CONTAINERD_ADDRESS, then the usual sockets; repeat to pull on several engines', collect)
    .option('-c, --context <name>', 'use this docker context (from the config directory); repeat to pull on several engines', collect)
    .option('--tls', 'use TLS (implied by --tlsverify)')
    .option('--tlsverify', "use TLS and verify the engine's certificate")
    .option('--tlscacert <file>', 'trust certificates signed by this CA (default $DOCKER_CERT_PATH/ca.pem)')
    .option('--tlscert <file>', 'TLS client certificate (default $DOCKER_CERT_PATH/cert.pem)')
    .option('--tlskey <file>', 'TLS client key (default $DOCKER_CERT_PATH/key.pem)')
    .option('-o, --output <dest>', 'no engine: pull straight from the registry into oci:DIR, oci-archive:FILE or docker-archive:FILE (a bare FILE.tar is a docker-archive, a bare folder a layout)')
    .option('-n, --namespace <ns>', "with a containerd engine: the namespace to pull into (k8s.io is the kubelet's; default $CONTAINERD_NAMESPACE, then default)")
    .option('--load', "pull through dpull (its network and credentials) and load the image into the engine: for an engine that cannot reach the registry")
    .option('--preserve-digests', "with --output to a layout: keep the registry's manifest bytes and digest (tools that open layouts by name then cannot open Docker v2 images)")
    .option('--cache-dir <dir>', 'with an archive --output: where blobs are kept between runs, to resume and share (default $XDG_CACHE_HOME/dpull; delete it any time)')
    .option('--registry-mirror <url>', 'with --output or --load: a mirror for Docker Hub images (http[s]://HOST[:PORT]), tried first as the daemon\'s registry-mirrors are; repeat for several (registries.conf mirrors apply too)', collect)
    .option('--insecure-registry <host>', 'with --output: speak plain HTTP to this registry (loopback ones always are); repeat for several', collect)
    .addOption(new Option('--platform <os/arch[/variant]>', 'pull this platform of a multi-platform image').argParser(parsePlatform))
    .option('-a, --all-tags', 'pull every tag of the repository')
    .addOption(new Option('--parallel <n>', 'pulls at once on each engine (default 4)').argParser(parseParallel))
    .option('--ignore-pull-failures', 'pull what can be pulled: exit 0 even if some pulls fail')
    .option('-q, --quiet', 'print only the pulled reference (--progress quiet)')
    .addOption(new Option('--progress <mode>', 'output: auto (tty on a terminal, else plain), tty, plain, json or quiet; default $DPULL_PROGRESS, then auto').choices(PROGRESS_CHOICES))
    .addOption(new Option('--progress-interval <seconds>', 'seconds between progress lines in plain mode (default 10 in CI, else 5)').argParser(parseInterval))
    .option('--no-tty', 'plain line output even on a terminal (--progress plain)')
    .addOption(new Option('--retry <n>', 'run a pull that failed for a passing reason (5xx, 429, reset, timeout) again, up to n times (default $DPULL_RETRY, else 0)').argParser(parseRetry))
    .addOption(new Option('--retry-delay <duration>', 'the first wait before a retry, then doubling up to 60s (default 2s; a 429 waits at least its Retry-After)').argParser(parseRetryDelay))
    .addOption(new Option('--timeout <duration>', 'cancel the pull when nothing has come from the engine for this long (30s, 500ms, 2m; a bare number is seconds)').argParser(parseTimeout))
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: write.out,
      writeErr: write.err,
      // The way forward after the error, as the docker CLI gives it: the usage line, where help is.
      outputError: (text, w) => w(`dpull: ${text.replace(/^error: /, '')}${USAGE_HINT}`),
    });
  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      throw new CommanderExit(err.exitCode === 0 ? 0 : 2);
    }
    throw err;
  }
  type Parsed = Omit<CliOptions, 'images' | 'hosts' | 'contexts' | 'parallel' | 'allTags' | 'quiet' | 'ignorePullFailures'> & {
    host?: string[];
    context?: string[];
    parallel?: number;
    allTags?: boolean;
    quiet?: boolean;
    ignorePullFailures?: boolean;
  };
  const { host, context, parallel, allTags, quiet, ignorePullFailures, ...rest } = program.opts<Parsed>();
  return {
    ...rest,
    images: program.args,
    hosts: host ?? [],
    contexts: context ?? [],
    parallel: parallel ?? 4,
    allTags: allTags === true,
    quiet: quiet === true,
    ignorePullFailures: ignorePullFailures === true,
  };
}
