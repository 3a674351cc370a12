// -L and -R through a real OpenSSH sshd: data intact on many parallel connections, a refused
// target fails only its own connection, a taken port is a clear error, stop frees every port.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tunnel, type TunnelState } from '../app/engine/tunnel.js';
import { Sshd } from './support/sshd.js';
import { freePort } from './support/net.js';
import { hashServer, probe, sendAndHash, type TcpTarget } from './support/servers.js';
import { profileFor } from './support/profiles.js';

let sshd: Sshd;
let target: TcpTarget;

beforeAll(async () => {
  sshd = await Sshd.start();
  target = await hashServer();
});

afterAll(async () => {
  await target?.close();
  await sshd?.dispose();
});

async function withTunnel<T>(forwards: unknown[], fn: (t: Tunnel, open: Extract<TunnelState, { state: 'open' }>) => Promise<T>): Promise<T> {
  const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards }) });
  tunnel.start();
  try {
    const open = await tunnel.whenOpen();
    return await fn(tunnel, open);
  } finally {
    await tunnel.stop();
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('local forward (-L)', () => {
  it('carries 64 parallel connections intact, then frees its port on stop', async () => {
    const bindPort = await freePort();
    await withTunnel([{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }], async (tunnel, open) => {
      expect(open.forwards[0]).toMatchObject({ bindHost: '127.0.0.1', bindPort, targetPort: target.port });
      const results = await Promise.all(Array.from({ length: 64 }, (_, i) => sendAndHash(bindPort, 1024 * (i + 1) * 16)));
      for (const r of results) expect(r.reply).toBe(r.sent);
      const stats = tunnel.stats()[0]!;
      expect(stats.total).toBe(64);
      expect(stats.failed).toBe(0);
      expect(stats.bytesToTarget).toBe(Array.from({ length: 64 }, (_, i) => 1024 * (i + 1) * 16).reduce((a, b) => a + b));
      expect(stats.bytesFromTarget).toBe(64 * 64);
    });
    expect(await canListen(bindPort)).toBe(true);
  });

  it('fails only the connection whose target refuses; the tunnel stays open', async () => {
    const closedPort = await freePort();
    const bindRefused = await freePort();
    const bindGood = await freePort();
    await withTunnel(
      [
        { type: 'local', bindPort: bindRefused, targetHost: '127.0.0.1', targetPort: closedPort },
        { type: 'local', bindPort: bindGood, targetHost: '127.0.0.1', targetPort: target.port },
      ],
      async (tunnel) => {
        const refused = await probe(bindRefused);
        expect(refused.data).toBe('');
        const good = await sendAndHash(bindGood, 100_000);
        expect(good.reply).toBe(good.sent);
        expect(tunnel.state.state).toBe('open');
        const stats = tunnel.stats()[0]!;
        expect(stats.failed).toBe(1);
        expect(stats.lastError).toMatchObject({ code: 'TARGET_REFUSED' });
        expect(stats.lastError?.message).toContain(`127.0.0.1:${closedPort}`);
      },
    );
  });

  it('reports a taken local port with the port and the program holding it, without retrying', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards: [{ type: 'local', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port }], reconnect: { enabled: true } }) });
    const states: string[] = [];
    tunnel.on('state', (s) => states.push(s.state));
    tunnel.start();
    const error = await tunnel.whenOpen().then(
      () => undefined,
      (e: unknown) => e,
    );
    await tunnel.stop();
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    expect(error).toMatchObject({ code: 'PORT_IN_USE' });
    expect((error as Error).message).toContain(`127.0.0.1:${port} is already in use by node (pid ${process.pid})`);
    expect(states).toEqual(['failed', 'closed']);
  });
});

describe('remote forward (-R)', () => {
  it('routes server-side connections to the local target, with a server-assigned port', async () => {
    await withTunnel([{ type: 'remote', bindPort: 0, targetHost: '127.0.0.1', targetPort: target.port }], async (tunnel, open) => {
      const assigned = open.forwards[0]!.bindPort;
      expect(assigned).toBeGreaterThan(0);
      const results = await Promise.all(Array.from({ length: 16 }, () => sendAndHash(assigned, 200_000)));
      for (const r of results) expect(r.reply).toBe(r.sent);
      expect(tunnel.stats()[0]).toMatchObject({ total: 16, failed: 0, active: 0 });
    });
  });

  it('releases the server-side port on stop', async () => {
    const port = await freePort();
    await withTunnel([{ type: 'remote', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port }], async () => {
      expect(await canListen(port)).toBe(false);
    });
    await expect.poll(() => canListen(port)).toBe(true);
  });
});
