// Real OpenSSH servers for the tests: temp host keys, temp authorized_keys, loopback only, a port
// found by binding port 0, readiness taken from sshd's own "Server listening" line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { freePort } from './net.js';
import type { Netns } from './netns.js';
import { killTree, waitForExit } from './proc.js';

export interface KeyPair {
  path: string;
  publicKey: string;
  /** The SSH wire blob of the public key, as ssh2 hands it to hostVerifier. */
  blob: Buffer;
}

export function makeKey(dir: string, name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519', passphrase = ''): KeyPair {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', path]);
  const publicKey = readFileSync(`${path}.pub`, 'utf8').trim();
  return { path, publicKey, blob: Buffer.from(publicKey.split(' ')[1] ?? '', 'base64') };
}

export interface SshdOptions {
  /** sshd_config lines (e.g. `AllowTcpForwarding no`, `LogLevel DEBUG1`); they override the harness defaults, so no `Match` block here. */
  config?: string[];
  /** Reuse a port (restart "the same server"). */
  port?: number;
  /** Reuse a directory (same host keys and authorized_keys). */
  dir?: string;
  /** Host keys offered besides ed25519. */
  extraHostKeys?: Array<'rsa' | 'ecdsa'>;
  /** The address sshd listens on (127.0.0.1 by default): a namespace's or a veth's address. */
  listenAddress?: string;
  /** Run sshd inside this namespace (then `listenAddress` is one of its addresses; the port defaults to 22). */
  netns?: Netns;
}

export class Sshd {
  readonly user = userInfo().username;
  private proc: ChildProcess | undefined;
  private stderr = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly hostKey: KeyPair,
    readonly clientKey: KeyPair,
    private readonly ownsDir: boolean,
    readonly extraHostKeys: KeyPair[] = [],
    readonly host = '127.0.0.1',
    private readonly netns?: Netns,
  ) {}

  static async start(options: SshdOptions = {}): Promise<Sshd> {
    const ownsDir = !options.dir;
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tv-sshd-'));
    const fresh = ownsDir;
    const hostKey = fresh ? makeKey(dir, 'ssh_host_ed25519_key') : loadKey(dir, 'ssh_host_ed25519_key');
    const clientKey = fresh ? makeKey(dir, 'client_ed25519') : loadKey(dir, 'client_ed25519');
    if (fresh) writeFileSync(join(dir, 'authorized_keys'), `${clientKey.publicKey}\n`, { mode: 0o600 });
    const extra = (options.extraHostKeys ?? []).map((type) => (fresh ? makeKey(dir, `ssh_host_${type}_key`, type) : loadKey(dir, `ssh_host_${type}_key`)));
    const host = options.listenAddress ?? '127.0.0.1';
    // Inside a namespace the port only has to be free there, and 22 is what a real server uses.
    const port = options.port ?? (options.netns ? 22 : await freePort(host));
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        // sshd keeps the first value it reads for a keyword, so the caller's lines go first.
        ...(options.config ?? []),
        `Port ${port}`,
        `ListenAddress ${host}`,
        `HostKey ${hostKey.path}`,
        ...extra.map((k) => `HostKey ${k.path}`),
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const sshd = new Sshd(dir, port, hostKey, clientKey, ownsDir, extra, host, options.netns);
    await sshd.launch();
    return sshd;
  }

  /** A known_hosts line for this server, as `ssh-keyscan` would print it. */
  knownHostsLine(name = this.port === 22 ? this.host : `[${this.host}]:${this.port}`, key = this.hostKey): string {
    return `${name} ${key.publicKey.split(' ').slice(0, 2).join(' ')}\n`;
  }

  writeKnownHosts(file = join(this.dir, 'known_hosts')): string {
    writeFileSync(file, this.knownHostsLine());
    return file;
  }

  /** Everything sshd logged so far (it runs with -e, LogLevel VERBOSE). */
  get log(): string {
    return this.stderr;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private async launch(): Promise<void> {
    // Debian's sshd refuses to start without its privilege-separation directory.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const args = ['-D', '-e', '-f', join(this.dir, 'sshd_config')];
    const proc = this.netns ? this.netns.spawn('/usr/sbin/sshd', args, { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn('/usr/sbin/sshd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.stderr += chunk.toString();
        if (this.stderr.includes(`Server listening on ${this.host} port ${this.port}`)) resolve();
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code, signal) => reject(new Error(`sshd exited (${code ?? signal}) before listening:\n${this.stderr}`)));
      proc.once('error', reject);
    });
  }

  /** Kill sshd and every session process it forked, as a crash or `kill -9` would. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = waitForExit(proc);
    killTree(proc.pid!);
    await exited;
  }

  /** Start again on the same port with the same keys. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.kill();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function loadKey(dir: string, name: string): KeyPair {
  const path = join(dir, name);
  const publicKey = readFileSync(`${path}.pub`, 'utf8').trim();
  return { path, publicKey, blob: Buffer.from(publicKey.split(' ')[1] ?? '', 'base64') };
}
