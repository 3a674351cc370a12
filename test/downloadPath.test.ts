// The download half of forwarded connections (server → ssh2 → the connection's socket), which
// ssh2 reads into reused buffers and writes straight to the socket (app/engine/sharedRead.ts), and
// uploads to a target slower than the tunnel, whose bytes wait for the server's window:
// bytes intact and in order through many SSH windows, with readers slower than the tunnel (the
// socket queues, the window waits for 'drain'), with many connections sharing each read, and with
// a target that talks first.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tunnel } from '../app/engine/tunnel.js';
import { Sshd } from './support/sshd.js';
import { freePort } from './support/net.js';
import { randomSource, sendAndHash, tcpServer, type TcpTarget } from './support/servers.js';
import { profileFor } from './support/profiles.js';

const MiB = 1024 * 1024;

let sshd: Sshd;
let source: TcpTarget;
let slowHash: TcpTarget;
let talker: TcpTarget;
/** What the talker sent, in connection order. */
const talked: string[] = [];
/** What the source sent on each connection, by the size the client asked for. */
const sentHashes = new Map<number, string>();

beforeAll(async () => {
  sshd = await Sshd.start();
  source = await randomSource(sentHashes);
  // Hashes what it receives while reading in fits and starts, and replies once the client half-closes.
  slowHash = await tcpServer((sock) => {
    const hash = createHash('sha256');
    let seen = 0;
    sock.on('data', (d: Buffer) => {
      hash.update(d);
      seen += d.length;
      if (seen >= MiB) {
        seen = 0;
        sock.pause();
        setTimeout(() => sock.resume(), 15);
      }
    });
    sock.on('end', () => sock.end(hash.digest('hex')));
  });
  // Sends 256 KiB as soon as it is connected, before the client says anything, and ends.
  talker = await tcpServer((sock) => {
    const payload = randomBytes(256 * 1024);
    talked.push(createHash('sha256').update(payload).digest('hex'));
    sock.end(payload);
  });
});

afterAll(async () => {
  await talker?.close();
  await source?.close();
  await slowHash?.close();
  await sshd?.dispose();
});

async function withTunnel<T>(forwards: unknown[], fn: (port: number) => Promise<T>): Promise<T> {
  const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards }) });
  tunnel.start();
  try {
    const open = await tunnel.whenOpen();
    return await fn(open.forwards[0]!.bindPort);
  } finally {
    await tunnel.stop();
  }
}

/** Asks the source, through `port`, for `size` bytes and hashes what arrives; `slow` pauses the reader now and then. */
function download(port: number, size: number, slow: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({ host: '127.0.0.1', port });
    const hash = createHash('sha256');
    let seen = 0;
    sock.on('data', (d: Buffer) => {
      hash.update(d);
      seen += d.length;
      if (slow && seen >= 2 * MiB) {
        seen = 0;
        sock.pause();
        setTimeout(() => sock.resume(), 20);
      }
    });
    sock.on('error', reject);
    sock.on('end', () => {
      sock.end();
      resolve(hash.digest('hex'));
    });
    sock.write(`${size}\n`);
  });
}

describe('the download half of a forwarded connection', () => {
  it('carries a -L download through many SSH windows intact, to a fast reader and to a slow one', async () => {
    const bindPort = await freePort();
    await withTunnel([{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: source.port }], async (port) => {
      expect(await download(port, 24 * MiB + 7, false)).toBe(sentHashes.get(24 * MiB + 7));
      expect(await download(port, 20 * MiB + 3, true)).toBe(sentHashes.get(20 * MiB + 3));
    });
  });

  it('keeps eight -L downloads apart when their packets share reads, slow and fast readers mixed', async () => {
    const bindPort = await freePort();
    await withTunnel([{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: source.port }], async (port) => {
      const sizes = Array.from({ length: 8 }, (_, i) => 4 * MiB + 1000 * i + 1);
      const got = await Promise.all(sizes.map((size, i) => download(port, size, i % 2 === 0)));
      expect(got).toEqual(sizes.map((size) => sentHashes.get(size)));
    });
  });

  it('keeps the bytes of a target that talks first in order, however they arrive with the channel opening', async () => {
    const bindPort = await freePort();
    await withTunnel([{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: talker.port }], async (port) => {
      for (let i = 0; i < 12; i++) {
        const got = await new Promise<string>((resolve, reject) => {
          const hash = createHash('sha256');
          const sock = connect({ host: '127.0.0.1', port });
          sock.on('data', (d: Buffer) => hash.update(d));
          sock.on('error', reject);
          sock.on('end', () => resolve(hash.digest('hex')));
        });
        expect(got).toBe(talked[i]);
      }
    });
  });

  it('carries -L uploads intact to a target that reads slower than the tunnel (the server\'s window fills)', async () => {
    const bindPort = await freePort();
    await withTunnel([{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: slowHash.port }], async (port) => {
      const results = await Promise.all([sendAndHash(port, 24 * MiB + 3), sendAndHash(port, 9 * MiB + 1), sendAndHash(port, 257 * 1024)]);
      for (const r of results) expect(r.reply).toBe(r.sent);
    });
  });

  it('carries a -R upload intact to a local target that reads slower than the tunnel', async () => {
    await withTunnel([{ type: 'remote', bindPort: 0, targetHost: '127.0.0.1', targetPort: slowHash.port }], async (port) => {
      const results = await Promise.all([sendAndHash(port, 16 * MiB + 5), sendAndHash(port, 6 * MiB), sendAndHash(port, 1)]);
      for (const r of results) expect(r.reply).toBe(r.sent);
    });
  });
});
