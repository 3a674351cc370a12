// A forward bound to `localhost` listens on 127.0.0.1 and on ::1, as OpenSSH does (it binds every
// address getaddrinfo gives for the name): a client that resolves localhost to either family gets
// through, a port held on either family is a clear failure, and stop frees both. Through a real
// OpenSSH sshd to a real target.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tunnel, type TunnelState } from '../app/engine/tunnel.js';
import { Sshd } from './support/sshd.js';
import { hashServer, sendAndHash, type TcpTarget } from './support/servers.js';
import { profileFor } from './support/profiles.js';
import { States } from './support/states.js';
import { canUseNetns, Netns } from './support/netns.js';
import { serverIn } from './support/nsServer.js';
import { runCli } from './support/cli.js';

let sshd: Sshd;
let target: TcpTarget;

const SOON_MS = 15_000;

beforeAll(async () => {
  // No skip: without ::1 on lo this file has nothing to prove, so it says so and fails.
  expect(execFileSync('ip', ['-6', 'addr', 'show', 'lo'], { encoding: 'utf8' }), 'this test needs ::1 on lo').toContain('::1/128');
  sshd = await Sshd.start();
  target = await hashServer();
});

afterAll(async () => {
  await target?.close();
  await sshd?.dispose();
});

function listenOn(host: string, port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen({ host, port, exclusive: true }, () => resolve(s));
  });
}

function close(s: Server | undefined): Promise<void> {
  return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
}

/** A port free on both 127.0.0.1 and ::1 right now. */
async function dualFreePort(): Promise<number> {
  for (;;) {
    const v4 = (await listenOn('127.0.0.1', 0))!;
    const port = (v4.address() as AddressInfo).port;
    const v6 = await listenOn('::1', port);
    await Promise.all([close(v4), close(v6)]);
    if (v6) return port;
  }
}

/** Binds host:port for a moment: true when it was free. */
async function canListen(host: string, port: number): Promise<boolean> {
  const s = await listenOn(host, port);
  await close(s);
  return s !== undefined;
}

async function withTunnel<T>(forwards: unknown[], fn: (t: Tunnel, open: Extract<TunnelState, { state: 'open' }>) => Promise<T>): Promise<T> {
  const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards }) });
  tunnel.start();
  try {
    return await fn(tunnel, await tunnel.whenOpen());
  } finally {
    await tunnel.stop();
  }
}

/** A SOCKS5 CONNECT to 127.0.0.1:targetPort through the proxy at proxyHost:proxyPort, then one hashed exchange. */
function socksHash(proxyHost: string, proxyPort: number, targetPort: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: proxyHost, port: proxyPort, allowHalfOpen: true });
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'connect' | 'data' = 'greeting';
    sock.on('error', reject);
    sock.on('connect', () => sock.write(Buffer.from([5, 1, 0])));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 'greeting' && buf.length >= 2) {
        if (buf[0] !== 5 || buf[1] !== 0) return reject(new Error(`SOCKS greeting refused: ${buf.toString('hex')}`));
        buf = buf.subarray(2);
        stage = 'connect';
        const port = Buffer.alloc(2);
        port.writeUInt16BE(targetPort);
        sock.write(Buffer.concat([Buffer.from([5, 1, 0, 1, 127, 0, 0, 1]), port]));
      }
      if (stage === 'connect' && buf.length >= 10) {
        if (buf[1] !== 0) return reject(new Error(`SOCKS CONNECT refused: reply ${buf[1]}`));
        buf = buf.subarray(10);
        stage = 'data';
        sock.end(payload);
      }
    });
    sock.on('end', () => {
      sock.end();
      resolve(buf.toString('utf8'));
    });
  });
}

describe('-L localhost:P', () => {
  it('carries bytes over 127.0.0.1 and over [::1], one forward reporting bindHost localhost', async () => {
    const bindPort = await dualFreePort();
    await withTunnel([{ type: 'local', bindHost: 'localhost', bindPort, targetHost: '127.0.0.1', targetPort: target.port }], async (tunnel, open) => {
      expect(open.forwards).toHaveLength(1);
      expect(open.forwards[0]).toMatchObject({ bindHost: 'localhost', bindPort, label: `localhost:${bindPort} → 127.0.0.1:${target.port}` });
      const v4 = await sendAndHash(bindPort, 100_000, '127.0.0.1');
      expect(v4.reply).toBe(v4.sent);
      const v6 = await sendAndHash(bindPort, 100_000, '::1');
      expect(v6.reply).toBe(v6.sent);
      expect(tunnel.stats()).toHaveLength(1);
      expect(tunnel.stats()[0]).toMatchObject({ total: 2, failed: 0, bytesToTarget: 200_000 });
    });
  });

  it('holds the port on both families while open; after stop both can be bound again at once', async () => {
    const bindPort = await dualFreePort();
    await withTunnel([{ type: 'local', bindHost: 'localhost', bindPort, targetHost: '127.0.0.1', targetPort: target.port }], async () => {
      expect(await canListen('127.0.0.1', bindPort)).toBe(false);
      expect(await canListen('::1', bindPort)).toBe(false);
    });
    // stop() has resolved: both must be free now, not eventually.
    const v4 = await listenOn('127.0.0.1', bindPort);
    const v6 = await listenOn('::1', bindPort);
    await Promise.all([close(v4), close(v6)]);
    expect(v4).toBeDefined();
    expect(v6).toBeDefined();
  });

  it('fails with PORT_IN_USE naming the holder when the port is taken on ::1 only, and leaves 127.0.0.1:P free', async () => {
    const port = await dualFreePort();
    const blocker = (await listenOn('::1', port))!;
    const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards: [{ type: 'local', bindHost: 'localhost', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port }], reconnect: { enabled: true } }) });
    const states = new States(tunnel);
    tunnel.start();
    const error = await tunnel.whenOpen().then(
      () => undefined,
      (e: unknown) => e,
    );
    const v4Free = await canListen('127.0.0.1', port);
    await tunnel.stop();
    await close(blocker);
    expect(error).toMatchObject({ code: 'PORT_IN_USE' });
    expect((error as Error).message).toContain(`[::1]:${port}`);
    expect((error as Error).message).toContain(`in use by node (pid ${process.pid})`);
    expect(v4Free).toBe(true);
    expect(states.names).toEqual(['failed', 'closed']);
  });

  it('stays bound on both families across a reconnect', async () => {
    const bindPort = await dualFreePort();
    const tunnel = new Tunnel({
      profile: profileFor(sshd, {
        keepalive: { intervalSeconds: 1, countMax: 2 },
        reconnect: { enabled: true, initialDelaySeconds: 0.2, maxDelaySeconds: 1 },
        forwards: [{ type: 'local', bindHost: 'localhost', bindPort, targetHost: '127.0.0.1', targetPort: target.port }],
      }),
    });
    const states = new States(tunnel);
    tunnel.start();
    try {
      await states.next('open', SOON_MS);
      await sshd.restart();
      await states.next('reconnecting', SOON_MS);
      const again = await states.next('open', SOON_MS);
      expect(again.forwards[0]).toMatchObject({ bindHost: 'localhost', bindPort });
      for (const host of ['127.0.0.1', '::1']) {
        const r = await sendAndHash(bindPort, 10_000, host);
        expect(r.reply).toBe(r.sent);
      }
    } finally {
      await tunnel.stop();
    }
  });
});

describe('-D localhost:P', () => {
  it('serves SOCKS on 127.0.0.1 and on [::1]', async () => {
    const bindPort = await dualFreePort();
    const want = createHash('sha256').update('through socks').digest('hex');
    await withTunnel([{ type: 'dynamic', bindHost: 'localhost', bindPort }], async (tunnel, open) => {
      expect(open.forwards).toEqual([expect.objectContaining({ type: 'dynamic', bindHost: 'localhost', bindPort, label: `SOCKS localhost:${bindPort}` })]);
      expect(await socksHash('127.0.0.1', bindPort, target.port, 'through socks')).toBe(want);
      expect(await socksHash('::1', bindPort, target.port, 'through socks')).toBe(want);
      expect(tunnel.stats()[0]).toMatchObject({ total: 2, failed: 0 });
    });
  });
});

describe('explicit addresses stay single-family', () => {
  it('-L 127.0.0.1:P leaves [::1]:P to others, and -L [::1]:P leaves 127.0.0.1:P', async () => {
    const p4 = await dualFreePort();
    await withTunnel([{ type: 'local', bindHost: '127.0.0.1', bindPort: p4, targetHost: '127.0.0.1', targetPort: target.port }], async () => {
      expect(await canListen('::1', p4)).toBe(true);
    });
    const p6 = await dualFreePort();
    await withTunnel([{ type: 'local', bindHost: '::1', bindPort: p6, targetHost: '127.0.0.1', targetPort: target.port }], async () => {
      expect(await canListen('127.0.0.1', p6)).toBe(true);
      const r = await sendAndHash(p6, 1_000, '::1');
      expect(r.reply).toBe(r.sent);
    });
  });
});

describe('a machine without ::1 (IPv6 disabled, in a namespace this test creates)', () => {
  it('-L localhost:P listens on 127.0.0.1 only, says so in the log, and carries bytes', async () => {
    expect(canUseNetns(), 'this test needs root and ip netns').toBe(true);
    const ns = Netns.create();
    const dir = mkdtempSync(join(tmpdir(), 'tv-localhost-'));
    let nsSshd: Sshd | undefined;
    let nsTarget: Awaited<ReturnType<typeof serverIn>> | undefined;
    let run: ReturnType<typeof runCli> | undefined;
    try {
      ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.lo.disable_ipv6=1']);
      expect(ns.exec('ip', ['-6', 'addr', 'show', 'lo'])).not.toContain('::1');
      nsSshd = await Sshd.start({ netns: ns, listenAddress: '127.0.0.1' });
      nsTarget = await serverIn(ns, 'hash', '127.0.0.1', 0);
      const bindPort = 4022;
      run = runCli(
        [
          'connect', '--json', '-L', `localhost:${bindPort}:127.0.0.1:${nsTarget.port}`,
          '-p', String(nsSshd.port), '-i', nsSshd.clientKey.path,
          '-o', `UserKnownHostsFile=${nsSshd.writeKnownHosts(join(dir, 'known_hosts'))}`, '-o', 'StrictHostKeyChecking=yes',
          `${nsSshd.user}@127.0.0.1`,
        ],
        { SSH_AUTH_SOCK: '' },
        ns,
      );
      const open = await run.waitFor((e) => e.state === 'open', 'open');
      expect(open).toMatchObject({ forwards: [{ type: 'local', bindHost: 'localhost', bindPort }] });
      const notice = run.events.find((e) => e.event === 'log' && String(e.message).includes('::1'));
      expect(notice).toMatchObject({ level: 'warn' });
      expect(notice!.message).toContain(`not listening on [::1]:${bindPort}`);
      const script = `const s=require('net').connect(${bindPort},'127.0.0.1');s.on('error',e=>process.stdout.write(e.code));s.end('hello');s.pipe(process.stdout)`;
      expect((await ns.run(process.execPath, ['-e', script])).stdout).toBe(createHash('sha256').update('hello').digest('hex'));
      run.proc.kill('SIGINT');
      expect((await run.exit).code).toBe(0);
    } finally {
      if (run && run.proc.exitCode === null && run.proc.signalCode === null) {
        run.proc.kill('SIGKILL');
        await run.exit;
      }
      await nsTarget?.dispose();
      await nsSshd?.dispose();
      ns.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
