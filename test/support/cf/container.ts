// Starts the container-side dialer (containerDialer.mjs), inside a network namespace when given
// one, and opens connections through it: the fake ssh-proxy's direct-tcpip channels go this way.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from '../netns.js';
import { waitForExit } from '../proc.js';

const SCRIPT = new URL('./containerDialer.mjs', import.meta.url).pathname;

/** A dial the container could not make, with the text Go's net package would give. */
export class DialError extends Error {}

export class Container {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    private readonly socket: string,
  ) {}

  static async start(netns?: Netns): Promise<Container> {
    const dir = mkdtempSync(join(tmpdir(), 'tv-container-'));
    const socket = join(dir, 'dial.sock');
    const args = [SCRIPT, socket];
    const proc = netns ? netns.spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.once('data', () => resolve());
      proc.once('exit', (code) => reject(new Error(`the container dialer exited (${code}) before listening`)));
    });
    return new Container(proc, dir, socket);
  }

  /** A stream to host:port as seen from inside the container. */
  dial(host: string, port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.socket);
      let head = '';
      sock.once('error', reject);
      const onData = (chunk: Buffer) => {
        head += chunk.toString('latin1');
        const nl = head.indexOf('\n');
        if (nl < 0) return;
        sock.off('data', onData);
        sock.pause();
        const line = head.slice(0, nl);
        const rest = Buffer.from(head.slice(nl + 1), 'latin1');
        if (!line.startsWith('OK')) {
          sock.destroy();
          reject(new DialError(line.replace(/^ERR /, '')));
          return;
        }
        if (rest.length) sock.unshift(rest);
        sock.removeListener('error', reject);
        resolve(sock);
      };
      sock.on('data', onData);
      sock.write(`${host} ${port}\n`);
    });
  }

  async dispose(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = waitForExit(this.proc);
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
