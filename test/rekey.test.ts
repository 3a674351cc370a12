// Key re-exchange in the middle of busy transfers: sshd with `RekeyLimit 1M` rekeys every MiB of
// traffic, so each test crosses dozens of key exchanges while eight downloads and eight uploads run
// through one -L at once. Every byte is hashed, and the tunnel must stay `open` throughout (a broken
// packet makes sshd drop the connection, and the tunnel would reconnect). OpenSSH's own `ssh -L`
// carries the same streams through the same sshd, as the control.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'ssh2';
import { preferredCiphers } from '../app/engine/algorithms.js';
import { connectorFor } from '../app/engine/connectors.js';
import { Tunnel } from '../app/engine/tunnel.js';
import { freePort } from './support/net.js';
import { killTree, waitForExit } from './support/proc.js';
import { profileFor } from './support/profiles.js';
import { hashServer, randomSource, sendAndHash, type TcpTarget } from './support/servers.js';
import { Sshd } from './support/sshd.js';
import { States } from './support/states.js';

const MiB = 1024 * 1024;
const STREAMS = 8;
/** Per stream and direction: 8 × 2 × 2 MiB through a server that rekeys every MiB is ~30 key exchanges. */
const SIZE = 2 * MiB;
const TEST_TIMEOUT_MS = 120_000;
/** Key exchanges we start ourselves, back to back, while the streams run; at most this many rounds of them. */
const CLIENT_REKEYS = 12;
const MAX_ROUNDS = 8;

/** Every cipher the engine may offer, whatever this machine prefers. */
const CIPHERS = preferredCiphers({ nativeBinding: true, aesNi: true });

let rekeying: Sshd;
let plain: Sshd;
let source: TcpTarget;
let sink: TcpTarget;
/** What the source sent, by the size a client asked for (sizes are unique per round). */
const sentHashes = new Map<number, string>();

beforeAll(async () => {
  rekeying = await Sshd.start({ config: ['RekeyLimit 1M'] });
  plain = await Sshd.start();
  source = await randomSource(sentHashes);
  sink = await hashServer();
});

afterAll(async () => {
  await source?.close();
  await sink?.close();
  await rekeying?.dispose();
  await plain?.dispose();
});

function download(port: number, size: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const hash = createHash('sha256');
    sock.on('data', (d: Buffer) => hash.update(d));
    sock.on('error', reject);
    sock.on('end', () => {
      sock.end();
      resolve(hash.digest('hex'));
    });
    sock.write(`${size}\n`);
  });
}

let round = 0;
/** Eight downloads and eight uploads at once through `sourcePort` and `sinkPort`; every hash must match. */
async function busyTraffic(sourcePort: number, sinkPort: number): Promise<void> {
  const base = SIZE + 1000 * STREAMS * round++;
  const sizes = Array.from({ length: STREAMS }, (_, i) => base + 1000 * i + 1);
  const [downloads, uploads] = await Promise.all([Promise.all(sizes.map((size) => download(sourcePort, size))), Promise.all(sizes.map((size) => sendAndHash(sinkPort, size)))]);
  expect(downloads).toEqual(sizes.map((size) => sentHashes.get(size)));
  for (const u of uploads) expect(u.reply).toBe(u.sent);
}

/** A tunnel with -L to the source and -L to the sink, and the ssh2 clients it connects with. */
async function withTunnel(sshd: Sshd, cipher: string, fn: (ports: { source: number; sink: number }, client: Client) => Promise<void>): Promise<string[]> {
  const profile = profileFor(sshd, {
    ciphers: [cipher],
    forwards: [
      { type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: source.port },
      { type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: sink.port },
    ],
  });
  const clients: Client[] = [];
  const base = connectorFor({ profile });
  const tunnel = new Tunnel({
    profile,
    connector: {
      forwards: base.forwards,
      connect: async (signal) => {
        const connection = await base.connect(signal);
        clients.push(connection.session.client);
        return connection;
      },
    },
  });
  const states = new States(tunnel);
  const logFrom = sshd.log.length;
  tunnel.start();
  try {
    const open = await tunnel.whenOpen();
    await fn({ source: open.forwards[0]!.bindPort, sink: open.forwards[1]!.bindPort }, clients[0]!);
    expect(clients).toHaveLength(1);
    // What sshd said when ssh2's packets broke across a key exchange.
    expect(sshd.log.slice(logFrom)).not.toMatch(/Bad packet length|Corrupted MAC|message authentication code incorrect/);
  } finally {
    await tunnel.stop();
  }
  return states.names;
}

/**
 * Starts a key exchange from our side. ssh2's Client has no public rekey() (its Server connections
 * do); the protocol object under it has, the same one a server-initiated exchange runs through.
 */
function rekey(client: Client): void {
  (client as unknown as { _protocol: { rekey(): void } })._protocol.rekey();
}

/** Counts completed key exchanges after the first. */
function countRekeys(client: Client): { readonly count: number } {
  const counter = { count: 0 };
  client.on('handshake', () => counter.count++);
  return counter;
}

describe('key re-exchange during busy transfers', () => {
  for (const cipher of CIPHERS) {
    it(`carries ${STREAMS} downloads and ${STREAMS} uploads intact through server-initiated rekeys, ${cipher}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      let rekeys = 0;
      const states = await withTunnel(rekeying, cipher, async (ports, client) => {
        const counter = countRekeys(client);
        await busyTraffic(ports.source, ports.sink);
        rekeys = counter.count;
      });
      // The tunnel opened once and stayed open until it was stopped: no reconnect.
      expect(states).toEqual(['connecting', 'open', 'closed']);
      expect(rekeys).toBeGreaterThanOrEqual(20);
    });

    it(`carries ${STREAMS} downloads and ${STREAMS} uploads intact through client-initiated rekeys, ${cipher}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      let rekeys = 0;
      const states = await withTunnel(plain, cipher, async (ports, client) => {
        const counter = countRekeys(client);
        let busy = true;
        // A new key exchange as soon as the last one completes, for as long as the streams run.
        client.on('handshake', () => {
          if (busy) setImmediate(() => busy && rekey(client));
        });
        rekey(client);
        try {
          // A key exchange takes round trips and a fresh key agreement, so how many fit into one round
          // depends on the machine's load: rounds go on until enough have crossed the traffic.
          for (let i = 0; i < MAX_ROUNDS && counter.count < CLIENT_REKEYS; i++) await busyTraffic(ports.source, ports.sink);
        } finally {
          busy = false;
        }
        rekeys = counter.count;
      });
      expect(states).toEqual(['connecting', 'open', 'closed']);
      expect(rekeys).toBeGreaterThanOrEqual(CLIENT_REKEYS);
    });
  }
});

// The two ciphers the failure was first seen with; every cipher passed this control when the test was
// written, at several seconds each, which is more than a control is worth on every run.
const CONTROL_CIPHERS = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];

describe('the control: OpenSSH ssh -L through the same sshd', () => {
  for (const cipher of CONTROL_CIPHERS) {
    it(`carries the same streams intact through server-initiated rekeys, ${cipher}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const [sourcePort, sinkPort] = [await freePort(), await freePort()];
      const knownHosts = rekeying.writeKnownHosts();
      const ssh = spawn(
        'ssh',
        [
          '-F', '/dev/null', '-v', '-N',
          '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'ExitOnForwardFailure=yes',
          '-i', rekeying.clientKey.path, '-p', String(rekeying.port), '-c', cipher,
          '-L', `127.0.0.1:${sourcePort}:127.0.0.1:${source.port}`, '-L', `127.0.0.1:${sinkPort}:127.0.0.1:${sink.port}`,
          `${rekeying.user}@127.0.0.1`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let log = '';
      try {
        await new Promise<void>((resolve, reject) => {
          ssh.stderr.on('data', (d: Buffer) => {
            log += d.toString();
            if (log.includes('Entering interactive session')) resolve();
          });
          ssh.once('exit', (code) => reject(new Error(`ssh exited (${code}):\n${log}`)));
        });
        await busyTraffic(sourcePort, sinkPort);
        expect(ssh.exitCode).toBeNull();
        expect(log.match(/SSH2_MSG_NEWKEYS received/g)?.length ?? 0).toBeGreaterThanOrEqual(20);
      } finally {
        const exited = waitForExit(ssh);
        killTree(ssh.pid!);
        await exited;
      }
    });
  }
});
