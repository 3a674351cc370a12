// The SOCKS server against real clients (curl, and raw sockets for what curl cannot send) and real
// targets: the `connect` callback here dials TCP where the engine would open an SSH channel.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect as tcpConnect, createServer, type AddressInfo, type Server, type ServerOpts, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveSocks, type SocksConnect, type SocksHooks, type SocksOptions, type SocksRequest } from '../app/engine/socks.js';
import { TunnelError } from '../app/shared/errors.js';

const clientSockets = new Set<Socket>();
const testServers = new Set<Server>();

function track(socket: Socket): Socket {
  clientSockets.add(socket);
  socket.once('close', () => clientSockets.delete(socket));
  return socket;
}

async function listen(server: Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on, so connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server, '127.0.0.1');
  await closeServer(server);
  return port;
}

/** A real TCP connection to the requested target; rejects with Node's own error. */
function dial(req: SocksRequest): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = track(tcpConnect({ host: req.host, port: req.port, autoSelectFamily: true }));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** What the engine's SSH dialer does: Node errors become TunnelErrors. */
const dialWrapped: SocksConnect = (req) =>
  dial(req).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNREFUSED') throw new TunnelError('TARGET_REFUSED', 'refused', { cause: err });
    if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') throw new TunnelError('DNS', 'no such host', { cause: err });
    throw err;
  });

interface Recorder {
  hooks: SocksHooks;
  requests: SocksRequest[];
  connected: SocksRequest[];
  failed: { err: unknown; req: SocksRequest | undefined }[];
}

function recorder(): Recorder {
  const r: Recorder = {
    requests: [],
    connected: [],
    failed: [],
    hooks: {
      onConnected: (req) => r.connected.push(req),
      onFailed: (err, req) => r.failed.push({ err, req }),
    },
  };
  return r;
}

interface Socks {
  server: Server;
  port: number;
  rec: Recorder;
}

async function startSocks(connect: SocksConnect = dialWrapped, options: SocksOptions = {}, serverOptions: ServerOpts = {}): Promise<Socks> {
  const rec = recorder();
  const recording: SocksConnect = (req) => {
    rec.requests.push(req);
    return connect(req);
  };
  const server = createServer(serverOptions, (socket) => {
    track(socket);
    serveSocks(socket, recording, { hooks: rec.hooks, ...options });
  });
  testServers.add(server);
  return { server, port: await listen(server, '127.0.0.1'), rec };
}

/** A socket with a byte queue: `read(n)` waits for exactly n bytes. */
class RawClient {
  private chunks: Buffer[] = [];
  private length = 0;
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.wake?.();
    });
    // Resets after the server closes are expected; 'close' follows and is what tests wait for.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.wake?.());
  }

  static async open(port: number): Promise<RawClient> {
    const socket = track(tcpConnect({ host: '127.0.0.1', port, noDelay: true }));
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.wake = () => {
        if (this.length >= n) {
          this.wake = undefined;
          const all = Buffer.concat(this.chunks);
          this.chunks = [all.subarray(n)];
          this.length -= n;
          resolve(all.subarray(0, n));
        } else if (this.socket.destroyed) {
          this.wake = undefined;
          reject(new Error(`connection closed after ${this.length} of ${n} bytes`));
        }
      };
      this.wake();
    });
  }

  /** Everything received up to the close. */
  async rest(): Promise<Buffer> {
    await this.closed;
    return Buffer.concat(this.chunks);
  }
}

const GREETING = Buffer.from([0x05, 0x01, 0x00]);

function port16(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(port);
  return b;
}

function req5(atyp: number, addr: Buffer, port: number, cmd = 0x01): Buffer {
  return Buffer.concat([Buffer.from([0x05, cmd, 0x00, atyp]), addr, port16(port)]);
}
const req5Ipv4 = (ip: string, port: number, cmd = 0x01): Buffer => req5(0x01, Buffer.from(ip.split('.').map(Number)), port, cmd);
const req5Ipv6 = (hex: string, port: number): Buffer => req5(0x04, Buffer.from(hex, 'hex'), port);
const req5Domain = (name: string, port: number): Buffer =>
  req5(0x03, Buffer.concat([Buffer.from([Buffer.byteLength(name)]), Buffer.from(name)]), port);

function req4(ip: string, port: number, user = 'me', name?: string, cmd = 0x01): Buffer {
  const parts = [Buffer.from([0x04, cmd]), port16(port), Buffer.from(ip.split('.').map(Number)), Buffer.from(`${user}\0`)];
  if (name !== undefined) parts.push(Buffer.from(`${name}\0`));
  return Buffer.concat(parts);
}

const reply5 = (rep: number): Buffer => Buffer.from([0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
const reply4 = (status: number): Buffer => Buffer.from([0x00, status, 0, 0, 0, 0, 0, 0]);

/** Greeting and request in one write; returns the client once the request has been answered. */
async function socks5(port: number, request: Buffer): Promise<{ client: RawClient; reply: Buffer }> {
  const client = await RawClient.open(port);
  client.socket.write(Buffer.concat([GREETING, request]));
  expect(await client.read(2)).toEqual(Buffer.from([0x05, 0x00]));
  return { client, reply: await client.read(10) };
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // No inherited *_proxy variables: the SOCKS option under test must be the only proxy.
    execFile('curl', ['-sS', '--fail', '--max-time', '10', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Resolves on 'close' whatever error came before it (a reset is expected when a peer leaves). */
function closed(stream: Duplex): Promise<void> {
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(err: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

let http4: HttpServer;
let http4Port: number;
let http6: HttpServer | undefined;
let http6Port = 0;
let echo: Server;
let echoPort: number;
const echoSockets = new Set<Socket>();

function httpServer(label: string): HttpServer {
  return createHttpServer((req, res) => res.end(`hello from ${label} ${req.url}`));
}

beforeAll(async () => {
  http4 = httpServer('v4');
  http4Port = await listen(http4, '127.0.0.1');
  const candidate = httpServer('v6');
  try {
    http6Port = await listen(candidate, '::1');
    http6 = candidate;
  } catch (err) {
    // Only "this host has no IPv6 loopback" may send the IPv6 test down its fallback path.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRNOTAVAIL' && code !== 'EAFNOSUPPORT') throw err;
  }
  echo = createServer((socket) => {
    echoSockets.add(socket);
    socket.once('close', () => echoSockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  echoPort = await listen(echo, '127.0.0.1');
});

afterEach(async () => {
  for (const socket of clientSockets) socket.destroy();
  for (const socket of echoSockets) socket.destroy();
  await Promise.all([...testServers].map(closeServer));
  testServers.clear();
});

afterAll(async () => {
  const https = http6 ? [http4, http6] : [http4];
  for (const server of https) server.closeAllConnections();
  await Promise.all([...https.map((s) => closeServer(s)), closeServer(echo)]);
});

describe('serveSocks with curl', () => {
  it('--socks5-hostname passes the name through unresolved', async () => {
    const socks = await startSocks();
    const body = await curl(['--socks5-hostname', `127.0.0.1:${socks.port}`, `http://localhost:${http4Port}/named`]);
    expect(body).toBe('hello from v4 /named');
    expect(socks.rec.requests).toEqual([{ version: 5, host: 'localhost', port: http4Port, addressType: 'domain' }]);
    expect(socks.rec.connected).toEqual(socks.rec.requests);
    expect(socks.rec.failed).toEqual([]);
  });

  it('--socks5 sends an IPv4 address', async () => {
    const socks = await startSocks();
    const body = await curl(['--socks5', `127.0.0.1:${socks.port}`, `http://127.0.0.1:${http4Port}/v4`]);
    expect(body).toBe('hello from v4 /v4');
    expect(socks.rec.requests).toEqual([{ version: 5, host: '127.0.0.1', port: http4Port, addressType: 'ipv4' }]);
  });

  it('--socks4', async () => {
    const socks = await startSocks();
    const body = await curl(['--socks4', `127.0.0.1:${socks.port}`, `http://127.0.0.1:${http4Port}/four`]);
    expect(body).toBe('hello from v4 /four');
    expect(socks.rec.requests).toEqual([{ version: 4, host: '127.0.0.1', port: http4Port, addressType: 'ipv4' }]);
  });

  it('--socks4a passes the name through unresolved', async () => {
    const socks = await startSocks();
    const body = await curl(['--socks4a', `127.0.0.1:${socks.port}`, `http://localhost:${http4Port}/four-a`]);
    expect(body).toBe('hello from v4 /four-a');
    expect(socks.rec.requests).toEqual([{ version: 4, host: 'localhost', port: http4Port, addressType: 'domain' }]);
  });

  it('--socks5 to [::1] when the host has IPv6 loopback, else an IPv6 CONNECT to a refused ::1 target', async () => {
    const socks = await startSocks();
    if (http6) {
      const body = await curl(['--socks5', `127.0.0.1:${socks.port}`, `http://[::1]:${http6Port}/six`]);
      expect(body).toBe('hello from v6 /six');
      expect(socks.rec.requests).toEqual([{ version: 5, host: '::1', port: http6Port, addressType: 'ipv6' }]);
    } else {
      const { reply } = await socks5(socks.port, req5Ipv6('00000000000000000000000000000001', await closedPort()));
      expect(reply[1]).not.toBe(0x00);
      expect(socks.rec.requests[0]).toMatchObject({ host: '::1', addressType: 'ipv6' });
    }
  });
});

describe('serveSocks replies', () => {
  it('formats IPv6 addresses canonically (RFC 5952) before calling connect', async () => {
    const refuse: SocksConnect = () => Promise.reject(new TunnelError('TARGET_REFUSED', 'refused'));
    const socks = await startSocks(refuse);
    const cases: [string, string][] = [
      ['00000000000000000000000000000001', '::1'],
      ['00000000000000000000000000000000', '::'],
      ['20010db8000000000000000000000001', '2001:db8::1'],
      ['00010000000000000000000000000000', '1::'],
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['00010000000000020000000000000003', '1:0:0:2::3'],
      ['00010000000200030004000500060007', '1:0:2:3:4:5:6:7'],
      ['FE80000000000000ABCD00000000000A', 'fe80::abcd:0:0:a'],
      ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ];
    for (const [hex, text] of cases) {
      const { client, reply } = await socks5(socks.port, req5Ipv6(hex, 80));
      expect(reply).toEqual(reply5(0x05));
      await client.closed;
      expect(socks.rec.requests.at(-1)).toEqual({ version: 5, host: text, port: 80, addressType: 'ipv6' });
    }
  });

  it('maps a refused target to 0x05, wrapped or as a plain Node error, and SOCKS4 to 0x5B', async () => {
    const closed = await closedPort();
    for (const connect of [dialWrapped, dial]) {
      const socks = await startSocks(connect);
      const { client, reply } = await socks5(socks.port, req5Ipv4('127.0.0.1', closed));
      expect(reply).toEqual(reply5(0x05));
      expect(await client.rest()).toEqual(Buffer.alloc(0));
      expect(socks.rec.failed).toHaveLength(1);
      expect(socks.rec.failed[0]?.req).toEqual({ version: 5, host: '127.0.0.1', port: closed, addressType: 'ipv4' });
    }
    const socks = await startSocks();
    const client = await RawClient.open(socks.port);
    client.socket.write(req4('127.0.0.1', closed));
    expect(await client.rest()).toEqual(reply4(0x5b));
    expect(socks.rec.failed[0]?.err).toMatchObject({ code: 'TARGET_REFUSED' });
  });

  it('maps an unknown host name to 0x04, wrapped or as a plain Node error', async () => {
    for (const connect of [dialWrapped, dial]) {
      const socks = await startSocks(connect);
      const { client, reply } = await socks5(socks.port, req5Domain('no-such-host.invalid', 80));
      expect(reply).toEqual(reply5(0x04));
      await client.closed;
      expect(socks.rec.requests).toEqual([{ version: 5, host: 'no-such-host.invalid', port: 80, addressType: 'domain' }]);
    }
  });

  it('maps an SSH channel refusal (administratively prohibited) to 0x02', async () => {
    const prohibited = new TunnelError('CHANNEL_REFUSED', 'administratively prohibited');
    const socks = await startSocks(() => Promise.reject(prohibited));
    const { client, reply } = await socks5(socks.port, req5Domain('example.com', 443));
    expect(reply).toEqual(reply5(0x02));
    await client.closed;
    expect(socks.rec.failed).toEqual([{ err: prohibited, req: { version: 5, host: 'example.com', port: 443, addressType: 'domain' } }]);
  });

  it.each([
    ['TunnelError HOST_UNREACHABLE', 0x04, new TunnelError('HOST_UNREACHABLE', 'x')],
    ['TunnelError DNS', 0x04, new TunnelError('DNS', 'x')],
    ['TunnelError CONNECT_TIMEOUT', 0x01, new TunnelError('CONNECT_TIMEOUT', 'x')],
    ['Node EHOSTUNREACH', 0x04, Object.assign(new Error('x'), { code: 'EHOSTUNREACH' })],
    ['Node EAI_AGAIN', 0x04, Object.assign(new Error('x'), { code: 'EAI_AGAIN' })],
    ['Node ENETUNREACH', 0x03, Object.assign(new Error('x'), { code: 'ENETUNREACH' })],
    ['a plain Error', 0x01, new Error('boom')],
    ['a non-Error value', 0x01, 'nope'],
  ])('maps %s to reply %i', async (_name, rep, error) => {
    const socks = await startSocks(() => Promise.reject(error));
    const { client, reply } = await socks5(socks.port, req5Ipv4('192.0.2.1', 80));
    expect(reply).toEqual(reply5(rep));
    await client.closed;
  });

  it('answers 0x01 when connect throws instead of rejecting', async () => {
    const socks = await startSocks(() => {
      throw new Error('synchronous bug');
    });
    const { client, reply } = await socks5(socks.port, req5Ipv4('192.0.2.1', 80));
    expect(reply).toEqual(reply5(0x01));
    await client.closed;
  });

  it('answers 05 FF and closes when no-auth is not offered', async () => {
    const socks = await startSocks();
    const client = await RawClient.open(socks.port);
    client.socket.write(Buffer.from([0x05, 0x02, 0x02, 0x01]));
    expect(await client.rest()).toEqual(Buffer.from([0x05, 0xff]));
    expect(socks.rec.requests).toEqual([]);
    expect(socks.rec.failed).toHaveLength(1);
    expect(socks.rec.failed[0]).toMatchObject({ err: { code: 'PROTOCOL' }, req: undefined });
  });

  it('answers BIND and UDP ASSOCIATE with 0x07, and SOCKS4 BIND with 0x5B', async () => {
    const socks = await startSocks();
    for (const cmd of [0x02, 0x03]) {
      const { client, reply } = await socks5(socks.port, req5Ipv4('127.0.0.1', echoPort, cmd));
      expect(reply).toEqual(reply5(0x07));
      await client.closed;
    }
    const client = await RawClient.open(socks.port);
    client.socket.write(req4('127.0.0.1', echoPort, 'me', undefined, 0x02));
    expect(await client.rest()).toEqual(reply4(0x5b));
    expect(socks.rec.requests).toEqual([]);
  });

  it('answers an unknown address type with 0x08', async () => {
    const socks = await startSocks();
    const { client, reply } = await socks5(socks.port, req5(0x02, Buffer.from([1, 2, 3, 4]), 80));
    expect(reply).toEqual(reply5(0x08));
    await client.closed;
    expect(socks.rec.requests).toEqual([]);
  });
});

describe('serveSocks framing and data', () => {
  it('accepts requests split into one-byte TCP segments', async () => {
    const socks = await startSocks();
    const requests = [
      Buffer.concat([GREETING, req5Domain('localhost', echoPort)]),
      req4('0.0.0.1', echoPort, 'user', 'localhost'),
    ];
    for (const request of requests) {
      const accepted = once(socks.server, 'connection') as Promise<[Socket]>;
      const client = await RawClient.open(socks.port);
      const [serverSide] = await accepted;
      for (const byte of request) {
        // Waiting for the server to read each byte keeps the kernel from coalescing them.
        const read = once(serverSide, 'data');
        client.socket.write(Buffer.from([byte]));
        await read;
      }
      const expected = request[0] === 0x05 ? Buffer.concat([Buffer.from([0x05, 0x00]), reply5(0x00)]) : reply4(0x5a);
      expect(await client.read(expected.length)).toEqual(expected);
      client.socket.write('ping');
      expect((await client.read(4)).toString()).toBe('ping');
      client.socket.destroy();
    }
    expect(socks.rec.connected.map((r) => r.version)).toEqual([5, 4]);
  });

  it('delivers payload bytes sent in the same segment as the request (SOCKS5 and SOCKS4a)', async () => {
    const socks = await startSocks();
    const payload = Buffer.from('early bird data');
    for (const [request, reply] of [
      [Buffer.concat([GREETING, req5Ipv4('127.0.0.1', echoPort)]), Buffer.concat([Buffer.from([0x05, 0x00]), reply5(0x00)])],
      [req4('0.0.0.9', echoPort, '', 'localhost'), reply4(0x5a)],
    ] as const) {
      const client = await RawClient.open(socks.port);
      client.socket.write(Buffer.concat([request, payload]));
      expect(await client.read(reply.length)).toEqual(reply);
      expect(await client.read(payload.length)).toEqual(payload);
      client.socket.destroy();
    }
  });

  it('echoes 16 MiB intact through the tunnel', async () => {
    const socks = await startSocks();
    const { client, reply } = await socks5(socks.port, req5Ipv4('127.0.0.1', echoPort));
    expect(reply).toEqual(reply5(0x00));
    const payload = randomBytes(16 * 1024 * 1024);
    client.socket.write(payload);
    const echoed = await client.read(payload.length);
    expect(sha256(echoed)).toBe(sha256(payload));
  });

  it('passes a client half-close on and still delivers the rest of the reply', async () => {
    const socks = await startSocks(dialWrapped, {}, { allowHalfOpen: true });
    const { client } = await socks5(socks.port, req5Ipv4('127.0.0.1', echoPort));
    const payload = randomBytes(256 * 1024);
    client.socket.end(payload);
    expect(sha256(await client.rest())).toBe(sha256(payload));
  });

  it('stops the handshake timer once the request is complete', async () => {
    const socks = await startSocks(dialWrapped, { handshakeTimeoutMs: 60_000 });
    const timers = (): number => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
    const before = timers();
    const accepted = once(socks.server, 'connection');
    const client = await RawClient.open(socks.port);
    await accepted;
    expect(timers()).toBe(before + 1);
    client.socket.write(Buffer.concat([GREETING, req5Ipv4('127.0.0.1', echoPort)]));
    expect(await client.read(12)).toEqual(Buffer.concat([Buffer.from([0x05, 0x00]), reply5(0x00)]));
    expect(timers()).toBe(before);
  });

  it('survives hooks that throw', async () => {
    const socks = await startSocks(dialWrapped, {
      hooks: {
        onConnected: () => {
          throw new Error('hook bug');
        },
      },
    });
    const { client, reply } = await socks5(socks.port, req5Ipv4('127.0.0.1', echoPort));
    expect(reply).toEqual(reply5(0x00));
    client.socket.write('still here');
    expect((await client.read(10)).toString()).toBe('still here');
  });
});

describe('serveSocks robustness', () => {
  it('closes malformed connections alone while a concurrent connection keeps working', async () => {
    const socks = await startSocks();
    const { client: good, reply } = await socks5(socks.port, req5Ipv4('127.0.0.1', echoPort));
    expect(reply).toEqual(reply5(0x00));

    const accepted = Buffer.from([0x05, 0x00]);
    const bad: [string, Buffer, Buffer][] = [
      ['wrong version byte', Buffer.from([0x06, 0x01, 0x00]), Buffer.alloc(0)],
      ['HTTP on the SOCKS port', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.alloc(0)],
      ['greeting without methods', Buffer.from([0x05, 0x00]), Buffer.from([0x05, 0xff])],
      ['request with the wrong version', Buffer.concat([GREETING, Buffer.from([0x04, 0x01, 0x00, 0x01, 127, 0, 0, 1, 0, 80])]), accepted],
      ['empty domain name', Buffer.concat([GREETING, req5(0x03, Buffer.from([0]), 80)]), Buffer.concat([accepted, reply5(0x01)])],
      ['domain name with a control byte', Buffer.concat([GREETING, req5Domain('evil\nhost', 80)]), Buffer.concat([accepted, reply5(0x01)])],
      ['SOCKS4 user id without end', Buffer.concat([Buffer.from([0x04, 0x01, 0, 80, 127, 0, 0, 1]), Buffer.alloc(300, 0x41)]), Buffer.alloc(0)],
      ['SOCKS4a name without end', Buffer.concat([req4('0.0.0.1', 80, ''), Buffer.alloc(300, 0x41)]), reply4(0x5b)],
    ];
    const results = await Promise.all(
      bad.map(async ([name, bytes]) => {
        const client = await RawClient.open(socks.port);
        client.socket.write(bytes);
        return [name, await client.rest()] as const;
      }),
    );
    expect(results).toEqual(bad.map(([name, , expected]) => [name, expected]));
    expect(socks.rec.requests).toHaveLength(1);
    expect(socks.rec.failed).toHaveLength(bad.length);

    good.socket.write('still alive');
    expect((await good.read(11)).toString()).toBe('still alive');
    const { reply: again } = await socks5(socks.port, req5Ipv4('127.0.0.1', echoPort));
    expect(again).toEqual(reply5(0x00));
  });

  it('closes a client that sends nothing after handshakeTimeoutMs', async () => {
    const socks = await startSocks(dialWrapped, { handshakeTimeoutMs: 200 });
    const started = Date.now();
    const silent = await RawClient.open(socks.port);
    const partial = await RawClient.open(socks.port);
    partial.socket.write(Buffer.from([0x05, 0x01]));
    expect(await silent.rest()).toEqual(Buffer.alloc(0));
    expect(await partial.rest()).toEqual(Buffer.alloc(0));
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(socks.rec.failed.map((f) => f.err)).toMatchObject([{ code: 'PROTOCOL' }, { code: 'PROTOCOL' }]);
  });

  it('closes quietly when the client leaves mid-handshake', async () => {
    const socks = await startSocks();
    const accepted = once(socks.server, 'connection') as Promise<[Socket]>;
    const client = await RawClient.open(socks.port);
    const [serverSide] = await accepted;
    const serverClosed = closed(serverSide);
    client.socket.end(Buffer.from([0x05, 0x01]));
    await serverClosed;
    expect(socks.rec.failed).toMatchObject([{ err: { code: 'CONNECTION_LOST' }, req: undefined }]);
  });

  it('destroys the target stream that arrives after the client left', async () => {
    const called = deferred<SocksRequest>();
    const release = deferred<Duplex>();
    const socks = await startSocks((req) => {
      called.resolve(req);
      return release.promise;
    });
    const accepted = once(socks.server, 'connection') as Promise<[Socket]>;
    const client = await RawClient.open(socks.port);
    const [serverSide] = await accepted;
    client.socket.write(Buffer.concat([GREETING, req5Ipv4('127.0.0.1', echoPort)]));
    const req = await called.promise;

    const serverClosed = closed(serverSide);
    client.socket.destroy();
    await serverClosed;

    const echoAccepted = once(echo, 'connection') as Promise<[Socket]>;
    const stream = await dial(req);
    release.resolve(stream);
    const [echoSide] = await echoAccepted;
    await Promise.all([closed(stream), closed(echoSide)]);
    expect(socks.rec.connected).toEqual([]);
    expect(socks.rec.failed).toMatchObject([{ err: { code: 'CONNECTION_LOST' }, req }]);
  });

  it('ignores a connect failure that comes after the client left', async () => {
    const called = deferred<undefined>();
    const failure = deferred<Duplex>();
    const socks = await startSocks(() => {
      called.resolve(undefined);
      return failure.promise;
    });
    const accepted = once(socks.server, 'connection') as Promise<[Socket]>;
    const client = await RawClient.open(socks.port);
    const [serverSide] = await accepted;
    client.socket.write(Buffer.concat([GREETING, req5Ipv4('127.0.0.1', echoPort)]));
    await called.promise;
    const serverClosed = closed(serverSide);
    client.socket.destroy();
    await serverClosed;
    failure.reject(new TunnelError('TARGET_REFUSED', 'too late'));
    await failure.promise.catch(() => undefined);
    expect(socks.rec.failed).toMatchObject([{ err: { code: 'CONNECTION_LOST' } }]);
  });
});
