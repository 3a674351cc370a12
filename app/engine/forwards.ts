// The runtime side of forwards: listeners that outlive SSH sessions (so a reconnect never moves a
// port), remote-forward routing, and per-forward live counters. A failed connection fails alone.
import { createServer, isIPv6, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client, TcpConnectionDetails, AcceptConnection, RejectConnection, ClientChannel } from 'ssh2';
import type { DynamicForward, Forward, LocalForward, RemoteForward } from '../profiles/schema.js';
import { TunnelError, toWireError, type WireError } from '../shared/errors.js';
import { hostPort } from '../shared/address.js';
import { findPortOwner } from './portOwner.js';
import type { Dialer } from './session.js';
import { serveSocks } from './socks.js';
import { readIntoSharedBuffer, writeChannelDirect } from './sharedRead.js';
import { closeEndedChannelsQuietly } from './channelClose.js';

export interface ForwardStats {
  /** Connections open now. */
  active: number;
  total: number;
  failed: number;
  /** Bytes from the connecting client towards the target, and back. */
  bytesToTarget: number;
  bytesFromTarget: number;
  lastError?: WireError;
}

export interface ForwardEvents {
  connectionFailed(err: TunnelError): void;
  /** Something the person should know that does not stop the forward. */
  notice(message: string): void;
}

export function forwardLabel(f: Forward): string {
  if (f.type === 'local') return `${hostPort(f.bindHost, f.bindPort)} → ${hostPort(f.targetHost, f.targetPort)}`;
  if (f.type === 'remote') return `server ${hostPort(f.bindHost, f.bindPort)} → ${hostPort(f.targetHost, f.targetPort)}`;
  return `SOCKS ${hostPort(f.bindHost, f.bindPort)}`;
}

/**
 * Live sockets and their counters. Bytes are read from each socket's own counters when asked,
 * so the data path does no per-chunk work for statistics.
 */
class ConnectionSet {
  private readonly live = new Set<Socket>();
  private closedToTarget = 0;
  private closedFromTarget = 0;
  total = 0;
  failed = 0;
  lastError: WireError | undefined;

  /** `clientSide`: the socket faces the connecting client (-L, -D) rather than the target (-R). */
  constructor(private readonly clientSide: boolean) {}

  add(sock: Socket): void {
    this.total++;
    this.live.add(sock);
    sock.once('close', () => {
      this.live.delete(sock);
      this.closedToTarget += this.toTarget(sock);
      this.closedFromTarget += this.fromTarget(sock);
    });
  }

  fail(err: TunnelError): void {
    this.failed++;
    this.lastError = toWireError(err);
  }

  private toTarget(s: Socket): number {
    return this.clientSide ? s.bytesRead : s.bytesWritten;
  }

  private fromTarget(s: Socket): number {
    return this.clientSide ? s.bytesWritten : s.bytesRead;
  }

  stats(): ForwardStats {
    let toTarget = this.closedToTarget;
    let fromTarget = this.closedFromTarget;
    for (const s of this.live) {
      toTarget += this.toTarget(s);
      fromTarget += this.fromTarget(s);
    }
    return {
      active: this.live.size,
      total: this.total,
      failed: this.failed,
      bytesToTarget: toTarget,
      bytesFromTarget: fromTarget,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  destroyAll(): Promise<void> {
    const closing = [...this.live].map(
      (s) =>
        new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.destroy();
        }),
    );
    return Promise.all(closing).then(() => undefined);
  }
}

/** Joins two streams both ways with back-pressure, keeping half-close; either side failing ends both. */
export function splice(sock: Socket, stream: Duplex): void {
  sock.setNoDelay(true);
  if (!readIntoSharedBuffer(sock, stream)) sock.pipe(stream);
  writeChannelDirect(stream, sock);
  stream.pipe(sock);
  closeEndedChannelsQuietly(stream);
  let ended = false;
  const destroyBoth = () => {
    if (ended) return;
    ended = true;
    sock.destroy();
    stream.destroy();
  };
  sock.once('error', destroyBoth);
  stream.once('error', destroyBoth);
  sock.once('close', destroyBoth);
  stream.once('close', destroyBoth);
}

/**
 * The addresses a local bind name stands for. `localhost` is both loopbacks, as OpenSSH binds every
 * address getaddrinfo gives for it; fixed here rather than resolved, because Node's lookup returns
 * one family only and a client resolving localhost to the other would be refused.
 */
function bindAddresses(bindHost: string): string[] {
  return bindHost.toLowerCase() === 'localhost' ? ['127.0.0.1', '::1'] : [bindHost];
}

/** The machine has no such family at all (IPv6 disabled), as opposed to the port being taken. */
function familyMissing(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT';
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A local listener (-L or -D), on one address or, for `localhost`, on both loopbacks with the same
 * port. It stays bound across SSH reconnects; `dial` reaches the current session.
 */
export class LocalListener {
  private readonly servers: Server[] = [];
  private readonly connections = new ConnectionSet(true);
  private closed: Promise<void> | undefined;

  constructor(
    readonly forward: LocalForward | DynamicForward,
    private readonly dial: Dialer,
    private readonly events: ForwardEvents,
  ) {}

  get label(): string {
    return forwardLabel(this.forward);
  }

  get port(): number {
    const address = this.servers[0]?.address();
    return typeof address === 'object' && address ? address.port : this.forward.bindPort;
  }

  /**
   * Binds every address of the bind name, or none: a port taken on either family fails the forward
   * (OpenSSH would carry on with the other, but then whoever holds that family receives the
   * connections of every client that resolves localhost to it).
   */
  async listen(): Promise<void> {
    const { bindHost } = this.forward;
    const addresses = bindAddresses(bindHost);
    let port = this.forward.bindPort;
    for (const [i, address] of addresses.entries()) {
      // Half-open kept so a client that shuts down its side still gets the whole reply.
      const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (sock) => this.accept(sock));
      try {
        // With port 0 the first family picks it and the others follow, so both share one port.
        port = await listenOn(server, address, port);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (i > 0 && familyMissing(err)) {
          this.events.notice(`${this.label}: not listening on ${hostPort(address, port)} (${err.code}: this machine has no such address); listening on ${addresses.slice(0, i).join(', ')} only.`);
          continue;
        }
        await Promise.all(this.servers.splice(0).map(closeServer));
        const where = address === bindHost ? hostPort(bindHost, port) : `${hostPort(address, port)} (${bindHost})`;
        throw await bindError(err, where, port, address);
      }
      server.on('error', () => {});
      this.servers.push(server);
    }
  }

  stats(): ForwardStats {
    return this.connections.stats();
  }

  private accept(sock: Socket): void {
    this.connections.add(sock);
    sock.on('error', () => {});
    const src = { address: sock.remoteAddress ?? '127.0.0.1', port: sock.remotePort ?? 0 };
    if (this.forward.type === 'dynamic') {
      sock.resume();
      serveSocks(sock, (req) => this.dial(req.host, req.port, src), {
        hooks: { onFailed: (err) => this.connectionFailed(err) },
      });
      return;
    }
    const { targetHost, targetPort } = this.forward;
    this.dial(targetHost, targetPort, src).then(
      (channel) => {
        if (sock.destroyed) return channel.destroy();
        splice(sock, channel);
        sock.resume();
      },
      (err: unknown) => {
        this.connectionFailed(err);
        sock.destroy();
      },
    );
  }

  private connectionFailed(err: unknown): void {
    const e = err instanceof TunnelError ? err : new TunnelError('INTERNAL', String(err));
    this.connections.fail(e);
    this.events.connectionFailed(e);
  }

  /** Stops listening on every address and destroys every live connection; resolves when all ports are free. */
  dispose(): Promise<void> {
    this.closed ??= Promise.all([...this.servers.splice(0).map(closeServer), this.connections.destroyAll()]).then(() => undefined);
    return this.closed;
  }
}

/** `where` names what the person asked for and, for a name, which of its addresses failed. */
async function bindError(err: NodeJS.ErrnoException, where: string, port: number, address: string): Promise<TunnelError> {
  if (err.code === 'EADDRINUSE') {
    const owner = await findPortOwner(port, isIPv6(address) ? 6 : 4);
    const by = owner ? ` by ${owner.command} (pid ${owner.pid})` : ' by another program';
    return new TunnelError('PORT_IN_USE', `Local port ${where} is already in use${by}. Choose another local port or stop that program.`, { cause: err });
  }
  if (err.code === 'EACCES') {
    return new TunnelError('BIND_NOT_PERMITTED', `Not allowed to listen on ${where}${port < 1024 ? ' (ports below 1024 need administrator rights)' : ''}.`, { cause: err });
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new TunnelError('BIND_NOT_PERMITTED', `Cannot listen on ${where}: this machine has no such address.`, { cause: err });
  }
  return new TunnelError('BIND_NOT_PERMITTED', `Cannot listen on ${where}: ${err.message}`, { cause: err });
}

/** One -R forward: requested on each session, routes the server's incoming connections to the local target. */
export class RemoteForwarder {
  private readonly connections = new ConnectionSet(false);
  /** The port the server bound: equal to bindPort unless bindPort was 0. */
  assignedPort: number | undefined;

  constructor(
    readonly forward: RemoteForward,
    private readonly events: ForwardEvents,
  ) {}

  get label(): string {
    return forwardLabel(this.forward);
  }

  request(client: Client, hop: string): Promise<number> {
    const { bindHost, bindPort } = this.forward;
    return new Promise((resolve, reject) => {
      client.forwardIn(bindHost, bindPort, (err, port) => {
        if (err) {
          reject(new TunnelError('REMOTE_FORWARD_REFUSED', `${hop} refused to listen on ${hostPort(bindHost, bindPort)} for -R: the port is in use there, or the server forbids it (GatewayPorts, AllowTcpForwarding, PermitListen).`, { hop, cause: err }));
          return;
        }
        this.assignedPort = bindPort === 0 ? port : bindPort;
        resolve(this.assignedPort);
      });
    });
  }

  /** True when an incoming `forwarded-tcpip` channel belongs to this forward. */
  matches(info: TcpConnectionDetails): boolean {
    return info.destPort === this.assignedPort;
  }

  handle(accept: AcceptConnection<ClientChannel>, reject: RejectConnection): void {
    const { targetHost, targetPort } = this.forward;
    const sock = tcpConnect({ host: targetHost, port: targetPort, allowHalfOpen: true, noDelay: true });
    this.connections.add(sock);
    const refused = (err: NodeJS.ErrnoException) => {
      const e = new TunnelError('TARGET_REFUSED', `Local target ${hostPort(targetHost, targetPort)} of ${this.label} refused the connection (${err.code ?? err.message}).`, { cause: err });
      this.connections.fail(e);
      this.events.connectionFailed(e);
      reject();
    };
    sock.once('error', refused);
    sock.once('connect', () => {
      sock.off('error', refused);
      sock.on('error', () => {});
      const channel = accept();
      splice(sock, channel);
    });
  }

  stats(): ForwardStats {
    return this.connections.stats();
  }

  /** Asks the server to stop listening (best effort: the session may already be gone). */
  cancel(client: Client): Promise<void> {
    const port = this.assignedPort;
    if (port === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        client.unforwardIn(this.forward.bindHost, port, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  dispose(): Promise<void> {
    return this.connections.destroyAll();
  }
}
