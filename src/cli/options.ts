import { Command, CommanderError, Option } from 'commander';
import { usageError } from '../errors.js';

export interface CliOptions {
  image: string;
  host?: string;
  platform?: string;
  allTags: boolean;
  quiet: boolean;
  /** False with --no-tty: plain lines even on a terminal. */
  tty: boolean;
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

const EXAMPLES = `
Examples:
  dpull nginx:1.27                       pull with a live per-layer display
  dpull --no-tty app:1.4                 plain lines for a CI log
  dpull -q ghcr.io/org/app@sha256:…      print only the pulled reference
  dpull -H tcp://10.0.0.5:2375 redis     pull on another engine
  dpull -a 127.0.0.1:5000/demo/app       pull every tag of a repository

Exit codes: 0 pulled, 1 the pull failed, 2 usage error, 3 engine unreachable, 130 interrupted.`;

/** Parses argv (without node and script) into options. Prints help, version and usage errors. */
export function parseOptions(
  args: string[],
  version: string,
  write: { out: (s: string) => void; err: (s: string) => void },
): CliOptions {
  const program = new Command()
    .name('dpull')
    .description('Pull a container image through the Docker Engine API, with a live per-layer display.')
    .argument('<image>', 'image reference: [registry/]name[:tag][@digest]')
    .option('-H, --host <url>', 'engine address (unix:///path or tcp://host:port); default $DOCKER_HOST, then /var/run/docker.sock')
    .addOption(new Option('--platform <os/arch[/variant]>', 'pull this platform of a multi-platform image').argParser(parsePlatform))
    .option('-a, --all-tags', 'pull every tag of the repository')
    .option('-q, --quiet', 'print only the pulled reference')
    .option('--no-tty', 'plain line output even on a terminal')
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: write.out,
      writeErr: write.err,
      outputError: (text, w) => w(`dpull: ${text.replace(/^error: /, '')}`),
    });
  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      throw new CommanderExit(err.exitCode === 0 ? 0 : 2);
    }
    throw err;
  }
  const opts = program.opts<{ host?: string; platform?: string; allTags?: boolean; quiet?: boolean; tty: boolean }>();
  return { image: program.args[0], ...opts, allTags: opts.allTags === true, quiet: opts.quiet === true };
}
