// Dynamic forwarding (-D) through a real OpenSSH sshd, driven by curl and by a raw SOCKS client:
// names travel to the server unresolved, a refused target fails only its own connection.
import { execFile } from 'node:child_process';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tunnel, type TunnelState } from '../app/engine/tunnel.js';
import { runCli } from './support/cli.js';
import { freePort } from './support/net.js';
import { profileFor } from './support/profiles.js';
import { Sshd } from './support/sshd.js';

let sshd: Sshd;
let http: HttpServer;
let httpPort: number;
let dir: string;

beforeAll(async () => {
  // DEBUG1: sshd logs each direct-tcpip target as it received it, so we can see who resolved names.
  sshd = await Sshd.start({ config: ['LogLevel DEBUG1'] });
  http = createHttpServer((req, res) => res.end(`hello ${req.headers.host} ${req.url}`));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  httpPort = (http.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'tv-dynamic-'));
});

afterAll(async () => {
  http?.closeAllConnections();
  await new Promise((resolve) => http?.close(resolve));
  await sshd?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function withSocks<T>(server: Sshd, fn: (port: number, t: Tunnel, open: Extract<TunnelState, { state: 'open' }>) => Promise<T>): Promise<T> {
  const bindPort = await freePort();
  const tunnel = new Tunnel({ profile: profileFor(server, { forwards: [{ type: 'dynamic', bindPort }] }) });
  tunnel.start();
  try {
    return await fn(bindPort, tunnel, await tunnel.whenOpen());
  } finally {
    await tunnel.stop();
  }
}

/** curl with only PATH from our environment, so no *_proxy variable can change its route. */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '60', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`curl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** A SOCKS5 CONNECT to an IPv4 target; resolves with the server's reply code. */
function socks5Connect(proxyPort: number, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port: proxyPort });
    let buf = Buffer.alloc(0);
    let greeted = false;
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`SOCKS server closed without a reply (got ${buf.toString('hex')})`)));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!greeted && buf.length >= 2) {
        if (buf[0] !== 0x05 || buf[1] !== 0x00) return reject(new Error(`SOCKS5 greeting refused: ${buf.toString('hex')}`));
        greeted = true;
        buf = buf.subarray(2);
        const request = Buffer.from([0x05, 0x01, 0x00, 0x01, ...host.split('.').map(Number), port >> 8, port & 0xff]);
        sock.write(request);
      }
      if (greeted && buf.length >= 10) {
        resolve(buf[1]!);
        sock.destroy();
      }
    });
    sock.write(Buffer.from([0x05, 0x01, 0x00]));
  });
}

function logFrom(server: Sshd): () => string {
  const start = server.log.length;
  return () => server.log.slice(start);
}

describe('dynamic forward (-D) through sshd', () => {
  it('serves curl over SOCKS5 with the name resolved by the server, SOCKS5 with an address, and SOCKS4a', async () => {
    const log = logFrom(sshd);
    await withSocks(sshd, async (port, tunnel, open) => {
      expect(open.forwards[0]).toMatchObject({ type: 'dynamic', bindHost: '127.0.0.1', bindPort: port });
      expect(await curl(['--socks5-hostname', `127.0.0.1:${port}`, `http://localhost:${httpPort}/a`])).toBe(`hello localhost:${httpPort} /a`);
      // The name reached sshd as a name: our side resolved nothing.
      expect(log()).toContain(`target localhost port ${httpPort}`);
      expect(await curl(['--socks5', `127.0.0.1:${port}`, `http://127.0.0.1:${httpPort}/b`])).toBe(`hello 127.0.0.1:${httpPort} /b`);
      expect(log()).toContain(`target 127.0.0.1 port ${httpPort}`);
      expect(await curl(['--socks4a', `127.0.0.1:${port}`, `http://localhost:${httpPort}/c`])).toBe(`hello localhost:${httpPort} /c`);
      await expect.poll(() => tunnel.stats()[0]!.active).toBe(0);
      expect(tunnel.stats()[0]).toMatchObject({ total: 3, failed: 0 });
    });
  });

  it('answers 0x05 for a refused target, counts it as failed, and stays open', async () => {
    const closedPort = await freePort();
    await withSocks(sshd, async (port, tunnel) => {
      expect(await socks5Connect(port, '127.0.0.1', closedPort)).toBe(0x05);
      const stats = tunnel.stats()[0]!;
      expect(stats).toMatchObject({ total: 1, failed: 1, lastError: { code: 'TARGET_REFUSED' } });
      expect(stats.lastError?.message).toContain(`127.0.0.1:${closedPort}: Connection refused`);
      expect(tunnel.state.state).toBe('open');
      expect(await curl(['--socks5-hostname', `127.0.0.1:${port}`, `http://localhost:${httpPort}/after`])).toBe(`hello localhost:${httpPort} /after`);
    });
  });

  it('answers 0x02 when the server forbids forwarding (AllowTcpForwarding no)', async () => {
    const closed = await Sshd.start({ config: ['AllowTcpForwarding no'] });
    try {
      await withSocks(closed, async (port, tunnel) => {
        expect(await socks5Connect(port, '127.0.0.1', httpPort)).toBe(0x02);
        const stats = tunnel.stats()[0]!;
        expect(stats).toMatchObject({ failed: 1, lastError: { code: 'CHANNEL_REFUSED' } });
        expect(stats.lastError?.message).toContain('administratively prohibited');
        expect(tunnel.state.state).toBe('open');
      });
    } finally {
      await closed.dispose();
    }
  });

  it('works from the CLI: tunnelvision connect -D', async () => {
    const port = await freePort();
    const run = runCli([
      'connect', '--json', '-D', String(port),
      '-p', String(sshd.port), '-i', sshd.clientKey.path,
      '-o', `UserKnownHostsFile=${sshd.writeKnownHosts(join(dir, 'known_hosts'))}`, '-o', 'StrictHostKeyChecking=yes',
      `${sshd.user}@127.0.0.1`,
    ], { SSH_AUTH_SOCK: '' });
    const open = await run.waitFor((e) => e.state === 'open', 'open');
    expect(open).toMatchObject({ forwards: [{ type: 'dynamic', bindPort: port }] });
    expect(await curl(['--socks5-hostname', `127.0.0.1:${port}`, `http://localhost:${httpPort}/cli`])).toBe(`hello localhost:${httpPort} /cli`);
    run.proc.kill('SIGINT');
    expect((await run.exit).code).toBe(0);
  });
});
