import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { childProcess } from '../builtins.js';
import http from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { SshEngineAddress } from './address.js';
import { DpullError, ExitCode } from '../errors.js';
import { sanitize } from '../sanitize.js';

/** A word is passed to the far shell as it is only when it cannot mean anything else there. */
const shellQuote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * The docker CLI's ssh command line: the system `ssh` (so ~/.ssh/config, agents, keys and
 * ProxyJump work), no terminal, a connect timeout, and on the far side `docker system
 * dial-stdio`, whose stdin/stdout is a connection to the far engine.
 */
export function sshArguments(address: SshEngineAddress): string[] {
  const remote = ['docker', ...(address.socketPath !== undefined ? [`--host=unix://${address.socketPath}`] : []), 'system', 'dial-stdio'];
  return [
    '-o', 'ConnectTimeout=30', '-T',
    ...(address.user !== undefined ? ['-l', address.user] : []),
    ...(address.port !== undefined ? ['-p', String(address.port)] : []),
    '--', address.host,
    ...remote.map(shellQuote),
  ];
}

/** What went wrong, from what ssh (or the far side) wrote to stderr, in one line a user can act on. */
export function describeSshFailure(address: SshEngineAddress, stderr: string, exitCode: number | null): string {
  const where = `cannot connect to the Docker engine at ${address.url}`;
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => sanitize(line).trim())
    .filter((line) => line !== '' && !/^Warning: Permanently added/.test(line));
  const find = (pattern: RegExp) => lines.find((line) => pattern.test(line));
  const noDocker = find(/\bdocker: (command )?not found|exec: "?docker"?: executable file not found|\bdocker: No such file or directory/);
  if (noDocker) return `${where}: there is no docker command on ${address.host} (dial-stdio needs the docker CLI 18.09 or newer there): ${noDocker}`;
  const farEngine = find(/Cannot connect to the Docker daemon|dial unix|connect: (no such file or directory|connection refused|permission denied)/i);
  if (farEngine) return `${where}: the engine on ${address.host} does not answer: ${farEngine}`;
  const denied = find(/Permission denied|Host key verification failed|Too many authentication failures/);
  if (denied) return `${where}: ssh refused: ${denied}`;
  const last = lines.at(-1);
  if (last !== undefined) return `${where}: ${last}`;
  return `${where}: ssh exited with code ${exitCode ?? 'unknown'} before the engine answered`;
}

/** Every ssh child still running, ended when this process exits, whatever way it exits. */
const running = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;
function track(child: ChildProcessWithoutNullStreams) {
  running.add(child);
  child.once('close', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => running.forEach((c) => c.kill('SIGTERM')));
  }
}

/**
 * One connection to the engine through `ssh … docker system dial-stdio`, as a duplex stream
 * for node:http. Destroying it (the request ends, fails or is aborted) ends ssh, which closes
 * the far connection, so the engine cancels a pull in progress. If ssh or the far docker fail
 * before anything arrives, the stream is destroyed with an exit-3 DpullError saying why.
 */
export class SshConnection extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private received = false;
  private first = Buffer.alloc(0);

  /**
   * What the far side sent first when it is not HTTP (an account whose shell refuses:
   * "This account is currently not available."), printable, else undefined.
   */
  get saidInstead(): string | undefined {
    const text = sanitize(this.first.toString('utf8')).trim();
    return text === '' || text.startsWith('HTTP/') ? undefined : text.slice(0, 200);
  }

  constructor(address: SshEngineAddress) {
    super();
    // Its own session (as the docker CLI does it): Ctrl-C at the terminal reaches dpull, which
    // ends ssh itself, instead of ssh dying first and looking like a lost engine.
    this.child = childProcess().spawn('ssh', sshArguments(address), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    track(this.child);
    const { child } = this;
    child.stdin.on('error', () => {}); // a far side that has gone: its exit says why
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-8192);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      this.received = true;
      if (this.first.length < 512) this.first = Buffer.concat([this.first, chunk]).subarray(0, 512);
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'no ssh client found on this machine (install OpenSSH: the ssh command)' : err.message;
      this.destroy(new DpullError(`cannot connect to the Docker engine at ${address.url}: ${why}`, ExitCode.engineUnreachable));
    });
    // Wait for 'close' (all output read), not 'exit', so the whole of stderr is there to quote.
    child.on('close', (code) => {
      if (this.destroyed) return;
      if (!this.received && code !== 0) {
        this.destroy(new DpullError(describeSshFailure(address, this.stderr, code), ExitCode.engineUnreachable));
      } else {
        this.push(null);
      }
    });
  }

  override _read() {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
    this.child.stdin.write(chunk, () => callback());
  }

  override _final(callback: (error?: Error | null) => void) {
    this.child.stdin.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    this.child.stdin.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    callback(error);
  }

  // node:http sets these on its sockets; a pipe to ssh has nothing to set.
  setTimeout() {
    return this;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
  // An idle session kept for the next request (the agent unrefs it) must not keep dpull running:
  // ssh and its pipes are unref'd with it (and ended at exit), ref'd again when it is reused.
  ref() {
    this.child.ref();
    for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr]) (pipe as unknown as { ref?: () => void }).ref?.();
    return this;
  }
  unref() {
    this.child.unref();
    for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr]) (pipe as unknown as { unref?: () => void }).unref?.();
    return this;
  }
}

const agents = new Map<string, http.Agent>();

/**
 * The agent for an ssh engine: one `ssh … dial-stdio` session carries request after request
 * (HTTP keep-alive, as the docker CLI does), more only while requests run at once. An up-to-date
 * pull was 4 ssh sessions (1.5 s against docker pull's 0.35 s over the same ssh).
 */
export function sshAgent(address: SshEngineAddress): http.Agent {
  let agent = agents.get(address.url);
  if (agent === undefined) {
    agent = new http.Agent({ keepAlive: true });
    agent.createConnection = () => new SshConnection(address) as unknown as Socket;
    agents.set(address.url, agent);
  }
  return agent;
}

/**
 * Ends the ssh sessions kept idle for an engine (when a pull is over): a library caller's process
 * keeps no ssh running after its pulls. Sessions carrying a request go on.
 */
export function closeIdleSshSessions(address: SshEngineAddress): void {
  const agent = agents.get(address.url);
  if (agent === undefined) return;
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}
