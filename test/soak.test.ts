// Many connections through one -L forward on one SSH connection: every byte intact, counters
// exact, and nothing left behind (the process's file descriptors return to where they started).
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tunnel } from '../app/engine/tunnel.js';
import { freePort } from './support/net.js';
import { profileFor } from './support/profiles.js';
import { hashServer, sendAndHash, type TcpTarget } from './support/servers.js';
import { Sshd } from './support/sshd.js';

const CONNECTIONS = 500;
// Generous: two cores, shared with other test runs; nothing here asserts on time.
const SOAK_TIMEOUT_MS = 180_000;
const SETTLE = { timeout: 20_000, interval: 50 };

// sshd runs with its defaults on purpose, MaxSessions 10 included: that limit counts shell, exec
// and subsystem sessions only (session.c's session_new); direct-tcpip channels are not sessions.
let sshd: Sshd;
let target: TcpTarget;
let live = 0;
let peak = 0;

beforeAll(async () => {
  sshd = await Sshd.start();
  // A hash server that also knows how many of its connections are open at once.
  target = await hashServer('127.0.0.1', () => {
    peak = Math.max(peak, ++live);
    return () => live--;
  });
});

afterAll(async () => {
  await target?.close();
  await sshd?.dispose();
});

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function sizeOf(i: number): number {
  // 1 byte to ~128 KiB, spread so neighbours differ and chunk boundaries fall everywhere.
  return 1 + ((i * 7919) % 131_072);
}

describe('soak', () => {
  it(`carries ${CONNECTIONS} parallel connections intact through one forward and returns every fd`, { timeout: SOAK_TIMEOUT_MS }, async () => {
    const bindPort = await freePort();
    const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }) });
    const before = openFds();
    tunnel.start();
    try {
      await tunnel.whenOpen();
      const withTunnel = openFds();

      const results = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => sendAndHash(bindPort, sizeOf(i))));
      const wrong = results.filter((r) => r.reply !== r.sent).length;
      expect(wrong).toBe(0);

      await expect.poll(() => tunnel.stats()[0]!.active, SETTLE).toBe(0);
      const stats = tunnel.stats()[0]!;
      expect(stats).toMatchObject({ total: CONNECTIONS, active: 0, failed: 0 });
      expect(stats.lastError).toBeUndefined();
      expect(stats.bytesToTarget).toBe(Array.from({ length: CONNECTIONS }, (_, i) => sizeOf(i)).reduce((a, b) => a + b));
      expect(stats.bytesFromTarget).toBe(CONNECTIONS * 64);
      expect(tunnel.state.state).toBe('open');
      // Every connection's sockets and channel are gone while the tunnel itself stays up.
      await expect.poll(openFds, SETTLE).toBe(withTunnel);
    } finally {
      await tunnel.stop();
    }
    await expect.poll(openFds, SETTLE).toBe(before);
  });

  it('holds 50 channels open at once on one SSH connection, above sshd’s default MaxSessions of 10', async () => {
    const bindPort = await freePort();
    const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }) });
    tunnel.start();
    const clients: Socket[] = [];
    try {
      await tunnel.whenOpen();
      live = 0;
      peak = 0;
      const replies = Array.from({ length: 50 }, () => {
        const sock = connect({ host: '127.0.0.1', port: bindPort, allowHalfOpen: true });
        clients.push(sock);
        let reply = '';
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => (reply += d));
        sock.write('held open');
        return new Promise<string>((resolve, reject) => {
          sock.once('error', reject);
          sock.once('end', () => resolve(reply));
        });
      });
      // None has half-closed, so the target holds all of them: 50 channels open together.
      await expect.poll(() => live, SETTLE).toBe(50);
      for (const sock of clients) sock.end();
      const expected = createHash('sha256').update('held open').digest('hex');
      expect(await Promise.all(replies)).toEqual(Array.from({ length: 50 }, () => expected));
      expect(tunnel.stats()[0]).toMatchObject({ total: 50, failed: 0 });
      expect(peak).toBe(50);
    } finally {
      for (const sock of clients) sock.destroy();
      await tunnel.stop();
    }
  });
});
