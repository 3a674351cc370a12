// Jump chains (-J) through real OpenSSH bastions: each hop dialled through the previous hop's
// channel, with its own key and its own known_hosts entry; every failure names the hop it is about.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import ssh2, { type Client, type Connection } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEd25519 } from '../app/engine/keygen.js';
import { Tunnel, type TunnelState } from '../app/engine/tunnel.js';
import { channelOpenError, dialThrough, hopReachError, socketError } from '../app/engine/session.js';
import { runCli } from './support/cli.js';
import { freePort } from './support/net.js';
import { profileFor } from './support/profiles.js';
import { hashServer, probe, sendAndHash, type TcpTarget } from './support/servers.js';
import { Sshd, makeKey, type KeyPair } from './support/sshd.js';

// DEBUG1 makes sshd log every direct-tcpip request with its target, which is how the tests see
// that each bastion really carried the hop to the next one.
const DEBUG = ['LogLevel DEBUG1'];

let bastion1: Sshd;
let bastion2: Sshd;
let server: Sshd;
let target: TcpTarget;
let dir: string;
let knownHosts: string;

beforeAll(async () => {
  [bastion1, bastion2, server] = await Promise.all([Sshd.start({ config: DEBUG }), Sshd.start({ config: DEBUG }), Sshd.start({ config: DEBUG })]);
  target = await hashServer();
  dir = mkdtempSync(join(tmpdir(), 'tv-jump-'));
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, [bastion1, bastion2, server].map((s) => s.knownHostsLine()).join(''));
});

afterAll(async () => {
  await target?.close();
  await Promise.all([bastion1?.dispose(), bastion2?.dispose(), server?.dispose()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A hop authenticating with exactly one key: by default the one only that sshd accepts. */
function hop(sshd: Sshd, key: KeyPair = sshd.clientKey) {
  return { host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [key.path] } };
}

function label(sshd: Sshd | number): string {
  return `${bastion1.user}@127.0.0.1:${typeof sshd === 'number' ? sshd : sshd.port}`;
}

function fingerprint(key: KeyPair): string {
  return `SHA256:${createHash('sha256').update(key.blob).digest('base64').replace(/=+$/, '')}`;
}

/** What an sshd logs from now on. */
function logFrom(sshd: Sshd): () => string {
  const start = sshd.log.length;
  return () => sshd.log.slice(start);
}

function directTcpip(port: number): string {
  return `target 127.0.0.1 port ${port}`;
}

async function withTunnel<T>(overrides: Record<string, unknown>, fn: (t: Tunnel, open: Extract<TunnelState, { state: 'open' }>) => Promise<T>): Promise<T> {
  const tunnel = new Tunnel({ profile: profileFor(server, { hostKey: { strict: 'yes', knownHostsFiles: [knownHosts] }, ...overrides }) });
  tunnel.start();
  try {
    return await fn(tunnel, await tunnel.whenOpen());
  } finally {
    await tunnel.stop();
  }
}

/** The error a tunnel fails with (reconnect is off in these profiles). */
async function failure(overrides: Record<string, unknown>): Promise<{ code: string; message: string; hop?: string }> {
  const bindPort = await freePort();
  const tunnel = new Tunnel({
    profile: profileFor(server, {
      hostKey: { strict: 'yes', knownHostsFiles: [knownHosts] },
      forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }],
      ...overrides,
    }),
  });
  tunnel.start();
  const error = await tunnel.whenOpen().then(
    () => {
      throw new Error('the tunnel opened');
    },
    (e: unknown) => e as { code: string; message: string; hop?: string },
  );
  await tunnel.stop();
  return error;
}

describe('jump chains', () => {
  it('carries -L data through two hops; the bastion dials the server, the server dials the target', async () => {
    const b1Log = logFrom(bastion1);
    const serverLog = logFrom(server);
    const bindPort = await freePort();
    await withTunnel({ jumps: [hop(bastion1)], forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }, async (tunnel, open) => {
      expect(open.hops.map((h) => h.label)).toEqual([label(bastion1), label(server)]);
      expect(open.hops.map((h) => h.hostKey?.fingerprint)).toEqual([fingerprint(bastion1.hostKey), fingerprint(server.hostKey)]);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => sendAndHash(bindPort, 100_000 * (i + 1))));
      for (const r of results) expect(r.reply).toBe(r.sent);
      expect(tunnel.stats()[0]).toMatchObject({ total: 8, failed: 0 });
    });
    expect(b1Log()).toContain(directTcpip(server.port));
    expect(serverLog()).toContain(directTcpip(target.port));
    // The bastion never saw a request for the final target: only the server resolves it.
    expect(b1Log()).not.toContain(directTcpip(target.port));
  });

  it('carries -L data through three hops, each authenticated with its own key', async () => {
    const logs = [bastion1, bastion2, server].map(logFrom);
    const bindPort = await freePort();
    await withTunnel({ jumps: [hop(bastion1), hop(bastion2)], forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }, async (tunnel, open) => {
      expect(open.hops.map((h) => h.label)).toEqual([label(bastion1), label(bastion2), label(server)]);
      const results = await Promise.all(Array.from({ length: 8 }, () => sendAndHash(bindPort, 500_000)));
      for (const r of results) expect(r.reply).toBe(r.sent);
    });
    const [b1, b2, s] = logs.map((log) => log());
    expect(b1).toContain(directTcpip(bastion2.port));
    expect(b2).toContain(directTcpip(server.port));
    expect(s).toContain(directTcpip(target.port));
    // Every sshd accepts only its own client key, and logs which one it accepted.
    expect(b1).toContain(`Accepted publickey for ${bastion1.user} from 127.0.0.1`);
    expect(b1).toContain(fingerprint(bastion1.clientKey));
    expect(b2).toContain(fingerprint(bastion2.clientKey));
    expect(s).toContain(fingerprint(server.clientKey));
    expect(new Set([bastion1, bastion2, server].map((x) => fingerprint(x.clientKey))).size).toBe(3);
  });

  it('names the middle hop when it refuses authentication', async () => {
    const err = await failure({ jumps: [hop(bastion1), hop(bastion2, bastion1.clientKey)] });
    expect(err).toMatchObject({ code: 'AUTH_FAILED', hop: label(bastion2) });
    expect(err.message).toContain(`Permission denied at ${label(bastion2)}`);
    expect(err.message).toContain(bastion1.clientKey.path);
  });

  it("names the middle hop when its host key changed, and the first hop's key is still accepted", async () => {
    const impostor = makeKey(dir, 'impostor_host_key');
    const changed = join(dir, 'known_hosts_changed');
    writeFileSync(changed, [bastion1.knownHostsLine(), bastion2.knownHostsLine(undefined, impostor), server.knownHostsLine()].join(''));
    const err = await failure({ jumps: [hop(bastion1), hop(bastion2)], hostKey: { strict: 'yes', knownHostsFiles: [changed] } });
    expect(err).toMatchObject({ code: 'HOST_KEY_CHANGED', hop: label(bastion2) });
    expect(err.message).toContain(`[127.0.0.1]:${bastion2.port} has changed`);
    expect(err.message).toContain(fingerprint(bastion2.hostKey));
    expect(err.message).toContain(fingerprint(impostor));
  });

  it('names the middle hop that is down, and the bastion that could not reach it', async () => {
    const doomed = await Sshd.start();
    const deadPort = doomed.port;
    await doomed.dispose();
    const err = await failure({ jumps: [hop(bastion1), { host: '127.0.0.1', port: deadPort, user: bastion1.user, auth: { method: 'key', keyFiles: [bastion2.clientKey.path] } }] });
    expect(err).toMatchObject({ code: 'CONNECT_REFUSED', hop: label(deadPort) });
    expect(err.message).toBe(`${label(deadPort)} refused the connection (reached through ${label(bastion1)}, which reports: Connection refused): nothing is listening there, or a firewall rejects it.`);
  });

  it('names the bastion that forbids forwarding (AllowTcpForwarding no), and does not retry it', async () => {
    const closed = await Sshd.start({ config: ['AllowTcpForwarding no'] });
    try {
      const kh = join(dir, 'known_hosts_closed');
      writeFileSync(kh, [closed.knownHostsLine(), server.knownHostsLine()].join(''));
      // Reconnect on: a retryable error would never reach `failed`, and this would time out.
      const err = await failure({ jumps: [hop(closed)], hostKey: { strict: 'yes', knownHostsFiles: [kh] }, reconnect: { enabled: true, initialDelaySeconds: 0.1 } });
      expect(err).toMatchObject({ code: 'FORWARDING_FORBIDDEN', hop: label(closed) });
      expect(err.message).toContain('will not retry');
      expect(err.message).toContain(`${label(closed)} refused to open a channel to 127.0.0.1:${server.port}: administratively prohibited`);
      expect(err.message).toContain('AllowTcpForwarding');
    } finally {
      await closed.dispose();
    }
  });

  it('gives up on a bastion that never answers the channel request for the next hop, naming both', async () => {
    // OpenSSH always answers; an ssh2 server lets the bastion sit on the request forever.
    const { private: hostKey, public: publicKey } = generateEd25519();
    const connections = new Set<Connection>();
    const silent = new ssh2.Server({ hostKeys: [hostKey] }, (conn) => {
      connections.add(conn);
      conn.on('error', () => {});
      conn.on('authentication', (ctx) => ctx.accept());
      conn.on('ready', () => conn.on('tcpip', () => {}));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const kh = join(dir, 'known_hosts_silent');
      writeFileSync(kh, `[127.0.0.1]:${port} ${publicKey.split(' ').slice(0, 2).join(' ')}\n${server.knownHostsLine()}`);
      const err = await failure({
        jumps: [{ host: '127.0.0.1', port, user: server.user, auth: { method: 'key', keyFiles: [server.clientKey.path] } }],
        hostKey: { strict: 'yes', knownHostsFiles: [kh] },
        connectTimeoutSeconds: 5,
      });
      expect(err).toMatchObject({ code: 'CONNECT_TIMEOUT', hop: label(server) });
      expect(err.message).toBe(`${label(port)} could not reach ${label(server)} within 5 s.`);
    } finally {
      for (const conn of connections) conn.end();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('fails only the connection whose final target refuses; the chain stays open', async () => {
    const closedPort = await freePort();
    const [bindRefused, bindGood] = [await freePort(), await freePort()];
    await withTunnel(
      {
        jumps: [hop(bastion1), hop(bastion2)],
        forwards: [
          { type: 'local', bindPort: bindRefused, targetHost: '127.0.0.1', targetPort: closedPort },
          { type: 'local', bindPort: bindGood, targetHost: '127.0.0.1', targetPort: target.port },
        ],
      },
      async (tunnel) => {
        expect((await probe(bindRefused)).data).toBe('');
        const good = await sendAndHash(bindGood, 200_000);
        expect(good.reply).toBe(good.sent);
        expect(tunnel.state.state).toBe('open');
        const stats = tunnel.stats()[0]!;
        expect(stats).toMatchObject({ total: 1, failed: 1, lastError: { code: 'TARGET_REFUSED', hop: label(server) } });
        expect(stats.lastError?.message).toBe(`${label(server)} could not connect to 127.0.0.1:${closedPort}: Connection refused.`);
      },
    );
  });
});

describe('channel-open and socket failures, mapped', () => {
  const open = (reason: number | string | undefined, description: string) => Object.assign(new Error(`(SSH) Channel open failure: ${description}`), { reason });

  it.each([
    [1, 'open failed', 'CHANNEL_REFUSED', 'jump refused to open a channel to db:5432: administratively prohibited (open failed).'],
    [2, 'Connection refused', 'TARGET_REFUSED', 'jump could not connect to db:5432: Connection refused.'],
    [2, 'Name or service not known', 'DNS', 'jump cannot resolve db:5432 (Name or service not known).'],
    [4, 'resource shortage', 'CHANNEL_REFUSED', 'jump did not open a channel to db:5432: resource shortage.'],
    [undefined, 'No response from server', 'CONNECTION_LOST', 'The connection to jump ended before the channel to db:5432 opened.'],
  ])('reason %s (%s) → %s', (reason, description, code, message) => {
    const err = channelOpenError(open(reason, description), 'db:5432', 'jump');
    expect(err).toMatchObject({ code, hop: 'jump' });
    expect(err.message.startsWith(message)).toBe(true);
  });

  it.each([
    [2, 'Connection refused', 'CONNECT_REFUSED', 'b:22 refused the connection (reached through a:22, which reports: Connection refused): nothing is listening there, or a firewall rejects it.'],
    [2, 'Connection timed out', 'CONNECT_TIMEOUT', 'Connection to b:22 timed out (reached through a:22, which reports: Connection timed out).'],
    [2, 'No route to host', 'HOST_UNREACHABLE', 'b:22 is unreachable (reached through a:22, which reports: No route to host).'],
    [2, 'Name or service not known', 'DNS', 'a:22 cannot resolve the name of the next hop, b:22 (Name or service not known).'],
  ])('next hop: reason %s (%s) → %s, about the hop being reached', (reason, description, code, message) => {
    const err = hopReachError(channelOpenError(open(reason, description), '127.0.0.1:22', 'a:22'), 'a:22', 'b:22');
    expect(err).toMatchObject({ code, hop: 'b:22', message });
  });

  it('next hop: a bastion that forbids forwarding stays the one named, and is not retried', () => {
    const err = hopReachError(channelOpenError(open(1, 'open failed'), '127.0.0.1:22', 'a:22'), 'a:22', 'b:22');
    expect(err).toMatchObject({ code: 'FORWARDING_FORBIDDEN', hop: 'a:22' });
  });

  it('a session whose socket is already gone refuses new channels as a lost connection', async () => {
    const gone = {
      forwardOut() {
        throw new Error('Not connected');
      },
    } as unknown as Client;
    await expect(dialThrough(gone, 'jump')('db', 5432, { address: '127.0.0.1', port: 1 })).rejects.toMatchObject({
      code: 'CONNECTION_LOST',
      hop: 'jump',
      message: 'The connection to jump is gone, so no channel to db:5432 could be opened.',
    });
  });

  it.each([
    ['ENOTFOUND', 'DNS'],
    ['ECONNREFUSED', 'CONNECT_REFUSED'],
    ['EHOSTUNREACH', 'HOST_UNREACHABLE'],
    ['ETIMEDOUT', 'CONNECT_TIMEOUT'],
  ])('%s → %s, naming the hop', (errno, code) => {
    const err = socketError(Object.assign(new Error(errno), { code: errno }), 'me@bastion:22');
    expect(err).toMatchObject({ code, hop: 'me@bastion:22' });
    expect(err.message).toContain('me@bastion:22');
  });
});

describe('tunnelvision connect -J', () => {
  function sshConfig(): string {
    // OpenSSH applies -i to the destination only; jump hosts find their keys through the config.
    const file = join(dir, 'ssh_config');
    writeFileSync(
      file,
      [
        'Host 127.0.0.1',
        ...[bastion1, bastion2, server].map((s) => `  IdentityFile ${s.clientKey.path}`),
        `  UserKnownHostsFile ${knownHosts}`,
        '  StrictHostKeyChecking yes',
        '',
      ].join('\n'),
    );
    return file;
  }

  it('opens a three-hop chain from -J user@host:port,… and carries -L data', async () => {
    const logs = [bastion1, bastion2].map(logFrom);
    const bindPort = await freePort();
    const user = server.user;
    const run = runCli(
      ['connect', '--json', '-F', sshConfig(), '-J', `${user}@127.0.0.1:${bastion1.port},${user}@127.0.0.1:${bastion2.port}`, '-L', `${bindPort}:127.0.0.1:${target.port}`, `${user}@127.0.0.1`, '-p', String(server.port)],
      { SSH_AUTH_SOCK: '' },
    );
    const open = await run.waitFor((e) => e.state === 'open', 'open');
    expect((open.hops as Array<{ label: string }>).map((h) => h.label)).toEqual([label(bastion1), label(bastion2), label(server)]);
    const r = await sendAndHash(bindPort, 1_000_000);
    expect(r.reply).toBe(r.sent);
    run.proc.kill('SIGINT');
    expect((await run.exit).code).toBe(0);
    expect(logs[0]!()).toContain(directTcpip(bastion2.port));
    expect(logs[1]!()).toContain(directTcpip(server.port));
  });

  it('exits 255 with one line naming the middle hop that is down', async () => {
    const deadPort = await freePort();
    const user = server.user;
    const run = runCli(
      ['connect', '--no-reconnect', '-F', sshConfig(), '-J', `${user}@127.0.0.1:${bastion1.port},${user}@127.0.0.1:${deadPort}`, '-L', `${await freePort()}:127.0.0.1:${target.port}`, `${user}@127.0.0.1`, '-p', String(server.port)],
      { SSH_AUTH_SOCK: '' },
    );
    expect((await run.exit).code).toBe(255);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`tunnelvision: ${user}@127.0.0.1: ${label(deadPort)} refused the connection (reached through ${label(bastion1)}, which reports: Connection refused): nothing is listening there, or a firewall rejects it.`);
  });
});
