// Faults under open tunnels, each with the outcome a person sees: a link cut silently (iptables
// DROP, no FIN, no RST), sshd restarted, a bastion killed mid-chain, the target down, a name the
// server cannot resolve, sshd refusing new connections (MaxStartups), forwarding forbidden
// (AllowTcpForwarding, PermitOpen) and remote binds refused. Real OpenSSH throughout; timing is
// read from state events. The namespace cases need root (CI is root): without it they fail.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Tunnel } from '../app/engine/tunnel.js';
import type { Profile } from '../app/profiles/schema.js';
import { freePort } from './support/net.js';
import { Netns, canUseNetns } from './support/netns.js';
import { probeFrom, serverIn, type NsServer } from './support/nsServer.js';
import { profileFor } from './support/profiles.js';
import { hashServer, probe, sendAndHash, type TcpTarget } from './support/servers.js';
import { Sshd } from './support/sshd.js';
import { States } from './support/states.js';

const KEEPALIVE = { intervalSeconds: 1, countMax: 2 };
/** Detection is promised within interval × countMax; the margin absorbs a busy two-core machine. */
const DETECT_BOUND_MS = KEEPALIVE.intervalSeconds * KEEPALIVE.countMax * 1000 + 3_000;
const SOON_MS = 15_000;
const FAST_RECONNECT = { enabled: true, initialDelaySeconds: 0.2, maxDelaySeconds: 1 };

let target: TcpTarget;
const owned: Array<{ dispose(): unknown }> = [];

beforeAll(async () => {
  target = await hashServer();
});

afterEach(async () => {
  for (const o of owned.splice(0).reverse()) await o.dispose();
});

afterAll(async () => {
  await target?.close();
});

function own<T extends { dispose(): unknown }>(thing: T): T {
  owned.push(thing);
  return thing;
}

async function sshdServer(config: string[] = []): Promise<Sshd> {
  return own(await Sshd.start({ config }));
}

function supervised(profile: Profile): { tunnel: Tunnel; states: States; warnings: string[] } {
  const tunnel = new Tunnel({ profile });
  const states = new States(tunnel);
  const warnings: string[] = [];
  tunnel.on('log', (e) => {
    if (e.level === 'warn') warnings.push(e.message);
  });
  own({ dispose: () => tunnel.stop() });
  tunnel.start();
  return { tunnel, states, warnings };
}

function localForward(bindPort: number, targetPort = target.port, targetHost = '127.0.0.1') {
  return { type: 'local', bindPort, targetHost, targetPort };
}

async function expectCarries(port: number, size = 200_000): Promise<void> {
  const r = await sendAndHash(port, size);
  expect(r.reply).toBe(r.sent);
}

/** Accepted locally, then closed (or reset, as the client's unread bytes were pending) with no data. */
async function expectNothingThrough(port: number): Promise<void> {
  const r = await probe(port);
  expect(r.data).toBe('');
  if (r.error) expect(r.error).toBe('ECONNRESET');
}

const hopOf = (sshd: Sshd) => `${sshd.user}@${sshd.host}:${sshd.port}`;

function requireNetns(): void {
  if (!canUseNetns()) throw new Error('This case needs root and `ip netns` (iproute2) to build a network namespace; run the suite as root (CI does).');
}

describe('a server in a namespace, over a veth link', () => {
  let ns: Netns;
  let address: string;
  let sshd: Sshd;
  let service: NsServer;

  beforeAll(async () => {
    requireNetns();
    ns = Netns.create();
    [address] = ns.link();
    sshd = await Sshd.start({ netns: ns, listenAddress: address });
    service = await serverIn(ns, 'hash', '127.0.0.1', 0);
  });

  afterAll(async () => {
    await service?.dispose();
    await sshd?.dispose();
    ns?.dispose();
  });

  const HELLO_SHA256 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

  /** Sends "hello" to host:port from inside the server's namespace; resolves with the reply. */
  async function hashInside(port: number, host: string): Promise<string> {
    const script = `const s=require('net').connect(${port},'${host}');s.on('error',e=>process.stdout.write(e.code));s.end('hello');s.pipe(process.stdout)`;
    return (await ns.run(process.execPath, ['-e', script])).stdout;
  }

  function cut(): void {
    ns.iptables('-I', 'INPUT', '!', '-i', 'lo', '-j', 'DROP');
    ns.iptables('-I', 'OUTPUT', '!', '-o', 'lo', '-j', 'DROP');
  }

  function mend(): void {
    ns.iptables('-D', 'INPUT', '!', '-i', 'lo', '-j', 'DROP');
    ns.iptables('-D', 'OUTPUT', '!', '-o', 'lo', '-j', 'DROP');
  }

  it('a link cut silently is noticed within keepalive × count, shown as reconnecting, and recovered on the same local port', async () => {
    const bindPort = await freePort();
    const { tunnel, states } = supervised(profileFor(sshd, { keepalive: KEEPALIVE, connectTimeoutSeconds: 2, reconnect: FAST_RECONNECT, forwards: [localForward(bindPort, service.port)] }));
    await states.next('open', SOON_MS);
    await expectCarries(bindPort);

    let mended = false;
    cut();
    try {
      const cutAt = Date.now();
      const lost = await states.next('reconnecting', DETECT_BOUND_MS);
      expect(lost.at - cutAt).toBeLessThanOrEqual(DETECT_BOUND_MS);
      expect(lost.error).toMatchObject({ code: 'CONNECTION_LOST', hop: hopOf(sshd) });
      expect(lost.error.message).toContain('no answer to keepalives (2 × 1 s)');
      // While cut, SYNs vanish: each attempt gives up after the connect timeout, and the port stays ours.
      const retry = await states.next('reconnecting', SOON_MS);
      expect(retry.error).toMatchObject({ code: 'CONNECT_TIMEOUT', hop: hopOf(sshd) });
      mend();
      mended = true;
    } finally {
      if (!mended) mend();
    }
    const again = await states.next('open', SOON_MS);
    expect(again.forwards[0]).toMatchObject({ bindPort });
    await expectCarries(bindPort, 1_000_000);
    expect(tunnel.state.state).toBe('open');
  });

  it('sshd restarted: reconnecting, then open again on the same port, -L and -R both served', async () => {
    const bindPort = await freePort();
    const { states } = supervised(
      profileFor(sshd, {
        keepalive: KEEPALIVE,
        reconnect: FAST_RECONNECT,
        forwards: [localForward(bindPort, service.port), { type: 'remote', bindPort: 0, targetHost: '127.0.0.1', targetPort: target.port }],
      }),
    );
    await states.next('open', SOON_MS);
    await sshd.restart();
    const lost = await states.next('reconnecting', DETECT_BOUND_MS);
    expect(lost.error).toMatchObject({ code: 'CONNECTION_LOST', hop: hopOf(sshd) });
    const again = await states.next('open', SOON_MS);
    expect(again.forwards[0]).toMatchObject({ bindPort });
    await expectCarries(bindPort);
    // The -R port is on the server, inside the namespace: reached from there.
    expect(await hashInside(again.forwards[1]!.bindPort, '127.0.0.1')).toBe(HELLO_SHA256);
  });

  it('-R 0.0.0.0:<port> under GatewayPorts no (the default): sshd narrows it to loopback rather than refusing', async () => {
    const port = await freePort();
    const { states } = supervised(profileFor(sshd, { forwards: [{ type: 'remote', bindHost: '0.0.0.0', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port }] }));
    await states.next('open', SOON_MS);
    expect(await hashInside(port, '127.0.0.1')).toBe(HELLO_SHA256);
    // Not on the server's network address: the wildcard asked for was not granted, and SSH has no
    // way to tell the client so (OpenSSH's client does not know either).
    expect(await probeFrom(ns, address, port)).toBe('ECONNREFUSED');
  });

  it('a target name the server cannot resolve fails that connection with DNS; the tunnel stays open', async () => {
    // The server's namespace has no route out, so its resolver fails locally: check that for every
    // nameserver it would ask, before asking anything.
    const nameservers = [...readFileSync('/etc/resolv.conf', 'utf8').matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]!);
    for (const server of nameservers) {
      const route = await ns.run('ip', ['route', 'get', server]);
      expect(route.code, `${server} must be unreachable from ${ns.name}: ${route.stdout}`).not.toBe(0);
    }
    const bindPort = await freePort();
    const name = 'db.tunnelvision-test.invalid';
    const { tunnel, states, warnings } = supervised(profileFor(sshd, { reconnect: FAST_RECONNECT, forwards: [localForward(bindPort, 5432, name)] }));
    await states.next('open', SOON_MS);
    await expectNothingThrough(bindPort);
    await expect.poll(() => tunnel.stats()[0]!.failed).toBe(1);
    const error = tunnel.stats()[0]!.lastError!;
    expect(error).toMatchObject({ code: 'DNS', hop: hopOf(sshd) });
    expect(error.message).toMatch(new RegExp(`^${hopOf(sshd)} cannot resolve ${name.replace(/\./g, '\\.')}:5432 \\(.*name resolution.*\\)\\.$`));
    expect(warnings).toContain(error.message);
    expect(states.names).toEqual(['connecting', 'open']);
  });
});

describe('a bastion killed mid-chain', () => {
  it('the tunnel reconnects and every error names the bastion, not the server behind it', async () => {
    const [bastion, server] = await Promise.all([sshdServer(), sshdServer()]);
    const knownHosts = join(server.dir, 'known_hosts_chain');
    writeFileSync(knownHosts, bastion.knownHostsLine() + server.knownHostsLine());
    const bindPort = await freePort();
    const { states } = supervised(
      profileFor(server, {
        keepalive: KEEPALIVE,
        reconnect: FAST_RECONNECT,
        hostKey: { strict: 'yes', knownHostsFiles: [knownHosts] },
        jumps: [{ host: '127.0.0.1', port: bastion.port, user: bastion.user, auth: { method: 'key', keyFiles: [bastion.clientKey.path] } }],
        forwards: [localForward(bindPort)],
      }),
    );
    await states.next('open', SOON_MS);
    await expectCarries(bindPort);
    await bastion.kill();
    const lost = await states.next('reconnecting', DETECT_BOUND_MS);
    expect(lost.error).toMatchObject({ code: 'CONNECTION_LOST', hop: hopOf(bastion) });
    expect(lost.error.message).toContain(`Lost the connection to ${hopOf(bastion)}`);
    const refused = await states.next('reconnecting', SOON_MS);
    expect(refused.error).toMatchObject({ code: 'CONNECT_REFUSED', hop: hopOf(bastion) });
    await bastion.restart();
    await states.next('open', SOON_MS);
    await expectCarries(bindPort);
  });
});

describe('the target service down', () => {
  it('each connection fails with TARGET_REFUSED while the tunnel stays open; back when the service is', async () => {
    const sshd = await sshdServer();
    const service = await hashServer();
    const port = service.port;
    const bindPort = await freePort();
    const { tunnel, states, warnings } = supervised(profileFor(sshd, { reconnect: FAST_RECONNECT, forwards: [localForward(bindPort, port)] }));
    await states.next('open', SOON_MS);
    await expectCarries(bindPort);
    await service.close();
    await Promise.all(Array.from({ length: 5 }, () => expectNothingThrough(bindPort)));
    await expect.poll(() => tunnel.stats()[0]!.failed).toBe(5);
    expect(tunnel.stats()[0]!.lastError).toMatchObject({ code: 'TARGET_REFUSED', hop: hopOf(sshd), message: `${hopOf(sshd)} could not connect to 127.0.0.1:${port}: Connection refused.` });
    expect(warnings.filter((w) => w.includes('could not connect'))).toHaveLength(5);
    // The same port again, as a restarted service would be.
    const back = await listenOn(port, (sock) => sock.end('back'));
    try {
      expect(await probe(bindPort)).toEqual({ data: 'back' });
    } finally {
      await back.closeAll();
    }
    expect(states.names).toEqual(['connecting', 'open']);
  });
});

describe('sshd refusing new connections (MaxStartups)', () => {
  it('a connection sshd drops before its banner is a retried CONNECTION_LOST that says so; open once sshd accepts again', async () => {
    // 1:100:1: once one connection is unauthenticated, sshd drops every further one.
    const sshd = await sshdServer(['MaxStartups 1:100:1']);
    const held = await holdUnauthenticated(sshd.port);
    const { states } = supervised(profileFor(sshd, { reconnect: FAST_RECONNECT, forwards: [localForward(await freePort())] }));
    let released = false;
    try {
      const dropped = await states.next('reconnecting', SOON_MS);
      expect(dropped.error).toMatchObject({ code: 'CONNECTION_LOST', hop: hopOf(sshd) });
      expect(dropped.error.message).toBe(`${hopOf(sshd)} closed the connection before the SSH handshake began: the server may be refusing new connections (MaxStartups, a connection limit, or a TCP wrapper).`);
      expect(sshd.log).toMatch(/past MaxStartups|drop connection/);
      held.destroy();
      released = true;
    } finally {
      if (!released) held.destroy();
    }
    await states.next('open', SOON_MS);
  });
});

describe('forwarding restricted by the server', () => {
  it('AllowTcpForwarding no: each connection fails with CHANNEL_REFUSED, "administratively prohibited"; the tunnel stays open', async () => {
    const sshd = await sshdServer(['AllowTcpForwarding no']);
    const bindPort = await freePort();
    const { tunnel, states } = supervised(profileFor(sshd, { reconnect: FAST_RECONNECT, forwards: [localForward(bindPort)] }));
    await states.next('open', SOON_MS);
    await expectNothingThrough(bindPort);
    await expect.poll(() => tunnel.stats()[0]!.failed).toBe(1);
    const error = tunnel.stats()[0]!.lastError!;
    expect(error).toMatchObject({ code: 'CHANNEL_REFUSED', hop: hopOf(sshd) });
    expect(error.message).toContain(`${hopOf(sshd)} refused to open a channel to 127.0.0.1:${target.port}: administratively prohibited`);
    expect(error.message).toContain('AllowTcpForwarding or PermitOpen');
    expect(states.names).toEqual(['connecting', 'open']);
  });

  it('PermitOpen: the permitted target is carried, another is refused per connection', async () => {
    const other = await hashServer();
    own({ dispose: () => other.close() });
    const sshd = await sshdServer([`PermitOpen 127.0.0.1:${target.port}`]);
    const [allowedPort, forbiddenPort] = [await freePort(), await freePort()];
    const { tunnel, states } = supervised(profileFor(sshd, { reconnect: FAST_RECONNECT, forwards: [localForward(allowedPort), localForward(forbiddenPort, other.port)] }));
    await states.next('open', SOON_MS);
    await expectCarries(allowedPort);
    await expectNothingThrough(forbiddenPort);
    await expect.poll(() => tunnel.stats()[1]!.failed).toBe(1);
    expect(tunnel.stats()[1]!.lastError).toMatchObject({ code: 'CHANNEL_REFUSED', hop: hopOf(sshd) });
    expect(tunnel.stats()[1]!.lastError!.message).toContain('administratively prohibited');
    expect(tunnel.stats()[0]).toMatchObject({ total: 1, failed: 0 });
    expect(other.connections).toBe(0);
  });

  it('PermitOpen on a jump host that excludes the next hop: FORWARDING_FORBIDDEN naming the jump, not retried', async () => {
    const server = await sshdServer();
    const jump = await sshdServer([`PermitOpen 127.0.0.1:${target.port}`]);
    const knownHosts = join(server.dir, 'known_hosts_permitopen');
    writeFileSync(knownHosts, jump.knownHostsLine() + server.knownHostsLine());
    const bindPort = await freePort();
    const { states } = supervised(
      profileFor(server, {
        reconnect: FAST_RECONNECT,
        hostKey: { strict: 'yes', knownHostsFiles: [knownHosts] },
        jumps: [{ host: '127.0.0.1', port: jump.port, user: jump.user, auth: { method: 'key', keyFiles: [jump.clientKey.path] } }],
        forwards: [localForward(bindPort)],
      }),
    );
    const failed = await states.next('failed', SOON_MS);
    expect(failed.error).toMatchObject({ code: 'FORWARDING_FORBIDDEN', hop: hopOf(jump) });
    expect(failed.error.message).toContain(`${hopOf(jump)} refused to open a channel to 127.0.0.1:${server.port}: administratively prohibited`);
    expect(failed.error.message).toContain('will not retry');
    expect(states.names).toEqual(['connecting', 'failed']);
  });
});

describe('remote binds refused', () => {
  async function refusal(sshd: Sshd, forward: Record<string, unknown>) {
    const { states } = supervised(profileFor(sshd, { forwards: [forward] }));
    const failed = await states.next('failed', SOON_MS);
    expect(states.names).toEqual(['connecting', 'failed']);
    return failed.error;
  }

  it('a port already in use on the server: REMOTE_FORWARD_REFUSED, saying which bind and why it may be', async () => {
    const sshd = await sshdServer();
    const taken = await listenOn(0, (sock) => sock.destroy());
    own({ dispose: () => taken.closeAll() });
    const port = (taken.address() as { port: number }).port;
    const error = await refusal(sshd, { type: 'remote', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port });
    expect(error).toMatchObject({ code: 'REMOTE_FORWARD_REFUSED', hop: hopOf(sshd) });
    expect(error.message).toBe(`${hopOf(sshd)} refused to listen on 127.0.0.1:${port} for -R: the port is in use there, or the server forbids it (GatewayPorts, AllowTcpForwarding, PermitListen).`);
  });

  it('PermitListen that excludes the port: REMOTE_FORWARD_REFUSED', async () => {
    const allowed = await freePort();
    const sshd = await sshdServer([`PermitListen ${allowed}`]);
    const error = await refusal(sshd, { type: 'remote', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: target.port });
    expect(error).toMatchObject({ code: 'REMOTE_FORWARD_REFUSED', hop: hopOf(sshd) });
  });
});

/** A server on 127.0.0.1:port whose close() also ends the connections it still holds. */
function listenOn(port: number, onConnection: (sock: Socket) => void): Promise<Server & { closeAll(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.once('close', () => sockets.delete(sock));
    onConnection(sock);
  });
  const closeAll = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(Object.assign(server, { closeAll })));
  });
}

/** A TCP connection to sshd that has seen the banner and never authenticates: it counts against MaxStartups. */
function holdUnauthenticated(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('error', reject);
    sock.once('data', () => resolve(sock));
  });
}
