// An SSH session to the final server, reached directly or through a chain of jump hosts, each hop
// with its own auth and host-key check. Every failure names the hop it belongs to.
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2, { type Client, type ClientChannel, type ConnectConfig } from 'ssh2';

type Algorithms = NonNullable<ConnectConfig['algorithms']>;
import type { Endpoint, HostKeyPolicy, Keepalive } from '../profiles/schema.js';
import { sshSecretUse } from '../profiles/secretUse.js';
import { hopLabel, hostPort } from '../shared/address.js';
import { TunnelError } from '../shared/errors.js';
import { stripControls } from '../shared/terminalText.js';
import { makeAuthHandler, planAttempts } from './auth.js';
import { checkHostKey, defaultKnownHostsFiles, knownHostsSetup, knownKeyTypes, type HostKeyInfo, type KnownHostsSetup } from './hostKeys.js';
import type { Prompter, SecretResolver } from './prompts.js';
import { defaultCiphers, hostKeyAlgorithms, offersOnlySha1Rsa } from './algorithms.js';
import { watchServerHostKeyOffer } from './kexinit.js';
import { poolPackets, returnPacketsAfterWrite } from './packetPool.js';
import { readSessionIntoPool } from './sharedRead.js';

export interface SessionOptions {
  server: Endpoint;
  jumps: Endpoint[];
  hostKey: HostKeyPolicy;
  keepalive: Keepalive;
  connectTimeoutMs: number;
  ciphers?: string[] | undefined;
  prompter: Prompter;
  secrets?: SecretResolver | undefined;
  /** The user when an endpoint names none (OpenSSH: the local user name). */
  defaultUser: string;
  /** Global known_hosts files and HashKnownHosts; this machine's own when absent. */
  knownHosts?: KnownHostsSetup | undefined;
}

export interface HopInfo {
  label: string;
  host: string;
  port: number;
  user: string;
  hostKey?: HostKeyInfo;
}


/** A live chain of SSH clients; the last one is the session the forwards use. */
export class Session {
  private disposed: Promise<void> | undefined;

  constructor(
    readonly clients: Client[],
    readonly hops: HopInfo[],
  ) {}

  get client(): Client {
    return this.clients[this.clients.length - 1]!;
  }

  /** Closes every hop, last first, and resolves once their sockets are closed. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      for (const client of [...this.clients].reverse()) await endClient(client);
    })();
    return this.disposed;
  }
}

const cancelled = (hop: string) => new TunnelError('CONNECTION_LOST', 'Connection attempt cancelled.', { hop });

export async function openSession(opts: SessionOptions, signal?: AbortSignal): Promise<Session> {
  const endpoints = [...opts.jumps, opts.server];
  const clients: Client[] = [];
  const hops: HopInfo[] = [];
  const knownHosts = opts.knownHosts ?? knownHostsSetup();
  try {
    for (const [i, endpoint] of endpoints.entries()) {
      const user = endpoint.user ?? opts.defaultUser;
      const hop: HopInfo = { label: hopLabel({ ...endpoint, user }), host: endpoint.host, port: endpoint.port, user };
      const previous = clients[i - 1];
      // Each step below listens for abort only once it starts; a stop between steps is caught here.
      if (signal?.aborted) throw cancelled(hop.label);
      const sock = previous ? await dialHop(previous, hops[i - 1]!.label, endpoint, hop.label, opts.connectTimeoutMs, signal) : await tcp(endpoint, hop.label, opts.connectTimeoutMs, signal);
      const isFinal = i === endpoints.length - 1;
      const knownHostsFiles = opts.hostKey.knownHostsFiles.length ? opts.hostKey.knownHostsFiles : defaultKnownHostsFiles();
      const serverHostKey = hostKeyAlgorithms(
        await knownKeyTypes([...knownHostsFiles, ...knownHosts.globalFiles], endpoint.host, endpoint.port).catch((err: unknown) => {
          sock.destroy();
          throw err instanceof TunnelError && !err.hop ? new TunnelError(err.code, err.message, { hop: hop.label, cause: err }) : err;
        }),
        opts.hostKey.allowSha1Rsa,
      );
      if (signal?.aborted) {
        sock.destroy();
        throw cancelled(hop.label);
      }
      const client = await connectHop({ ...opts, knownHosts, endpoint, user, hop, sock, isFinal, serverHostKey }, signal);
      clients.push(client);
      hops.push(hop);
    }
  } catch (err) {
    for (const client of clients.reverse()) await endClient(client);
    throw err;
  }
  return new Session(clients, hops);
}

function tcp(endpoint: Endpoint, hop: string, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host: endpoint.host, port: endpoint.port });
    const fail = (err: TunnelError) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      reject(err);
    };
    const onAbort = () => fail(cancelled(hop));
    const timer = setTimeout(() => fail(new TunnelError('CONNECT_TIMEOUT', `No TCP connection to ${hop} within ${timeoutMs / 1000} s.`, { hop })), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('error', (err: NodeJS.ErrnoException) => fail(socketError(err, hop)));
    sock.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      resolve(sock);
    });
  });
}

export function socketError(err: NodeJS.ErrnoException, hop: string): TunnelError {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new TunnelError('DNS', `Cannot resolve ${hop}: the name is unknown (${err.code}).`, { hop, cause: err });
    case 'ECONNREFUSED':
      return new TunnelError('CONNECT_REFUSED', `${hop} refused the connection: nothing is listening there, or a firewall rejects it.`, { hop, cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new TunnelError('HOST_UNREACHABLE', `${hop} is unreachable (${err.code}).`, { hop, cause: err });
    case 'ETIMEDOUT':
      return new TunnelError('CONNECT_TIMEOUT', `Connection to ${hop} timed out.`, { hop, cause: err });
    default:
      return new TunnelError('CONNECTION_LOST', `Connection to ${hop} failed: ${err.message}`, { hop, cause: err });
  }
}

/** Opens a channel to host:port; rejects with a TunnelError. */
export type Dialer = (host: string, port: number, src: { address: string; port: number }) => Promise<Duplex>;

/** `direct-tcpip` over `client`, with channel-open failures mapped for people. */
export function dialThrough(client: Client, hop: string): Dialer {
  return (host, port, src) =>
    new Promise((resolve, reject) => {
      const target = hostPort(host, port);
      try {
        client.forwardOut(src.address, src.port, host, port, (err: Error | undefined, channel: ClientChannel) => {
          if (err) reject(channelOpenError(err, target, hop));
          else resolve(channel);
        });
      } catch (err) {
        // ssh2 throws at once when the session's socket is already gone.
        reject(new TunnelError('CONNECTION_LOST', `The connection to ${hop} is gone, so no channel to ${target} could be opened.`, { hop, cause: err }));
      }
    });
}

/**
 * The next hop's socket: a channel through `via`. A failure is about reaching `next`, so it is
 * reported as such (naming both), except a bastion that forbids forwarding, which is the
 * bastion's doing and names it.
 */
function dialHop(via: Client, viaLabel: string, next: Endpoint, nextLabel: string, timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (err: TunnelError) => {
      if (settle()) reject(err);
    };
    const onAbort = () => fail(cancelled(nextLabel));
    const timer = setTimeout(() => fail(new TunnelError('CONNECT_TIMEOUT', `${viaLabel} could not reach ${nextLabel} within ${timeoutMs / 1000} s.`, { hop: nextLabel })), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    dialThrough(via, viaLabel)(next.host, next.port, { address: '127.0.0.1', port: 0 }).then(
      (channel) => {
        // A channel that opens after we gave up belongs to nobody.
        if (settle()) resolve(channel);
        else channel.destroy();
      },
      (err: TunnelError) => fail(hopReachError(err, viaLabel, nextLabel)),
    );
  });
}

/** A failed channel to the next hop, re-told as a failure to reach that hop (see `dialHop`). */
export function hopReachError(err: TunnelError, via: string, next: string): TunnelError {
  const cause = err.cause instanceof Error ? err.cause : undefined;
  if (err.code === 'TARGET_REFUSED' && cause) {
    const detail = openFailureDetail(cause);
    const through = `(reached through ${via}, which reports: ${detail})`;
    if (/refused/i.test(detail)) {
      return new TunnelError('CONNECT_REFUSED', `${next} refused the connection ${through}: nothing is listening there, or a firewall rejects it.`, { hop: next, cause: err });
    }
    if (/timed out/i.test(detail)) {
      return new TunnelError('CONNECT_TIMEOUT', `Connection to ${next} timed out ${through}.`, { hop: next, cause: err });
    }
    if (/unreachable|no route/i.test(detail)) {
      return new TunnelError('HOST_UNREACHABLE', `${next} is unreachable ${through}.`, { hop: next, cause: err });
    }
    return new TunnelError('CONNECTION_LOST', `Could not connect to ${next} ${through}.`, { hop: next, cause: err });
  }
  if (err.code === 'DNS') {
    return new TunnelError('DNS', `${via} cannot resolve the name of the next hop, ${next} (${cause ? openFailureDetail(cause) : err.message}).`, { hop: next, cause: err });
  }
  if (err.code === 'CHANNEL_REFUSED' && (cause as { reason?: unknown } | undefined)?.reason === 1) {
    // A bastion that forbids forwarding will forbid it on every retry: only its admin can change that.
    return new TunnelError('FORWARDING_FORBIDDEN', `${err.message} Tunnelvision will not retry: ask the administrator of ${via} to allow forwarding to ${next}.`, { hop: via, cause: err });
  }
  return err;
}

function openFailureDetail(err: Error): string {
  // The reason is the server's own text.
  return stripControls(err.message.replace(/^\(SSH\) Channel open failure: ?/, '')) || 'no reason given';
}

/** SSH channel-open failure reasons (RFC 4254 §5.1) as errors a person can act on. */
export function channelOpenError(err: Error & { reason?: number | string }, target: string, hop: string): TunnelError {
  const detail = openFailureDetail(err);
  if (err.reason === 1) {
    return new TunnelError('CHANNEL_REFUSED', `${hop} refused to open a channel to ${target}: administratively prohibited (${detail}). The server's AllowTcpForwarding or PermitOpen forbids it.`, { hop, cause: err });
  }
  if (err.reason === 2) {
    if (/name|resolve|getaddrinfo|not known|no address/i.test(detail)) {
      return new TunnelError('DNS', `${hop} cannot resolve ${target} (${detail}).`, { hop, cause: err });
    }
    return new TunnelError('TARGET_REFUSED', `${hop} could not connect to ${target}: ${detail}.`, { hop, cause: err });
  }
  // ssh2 fails channels still opening with a reason-less error when the connection under them ends.
  if (err.reason === undefined || err.reason === '') {
    return new TunnelError('CONNECTION_LOST', `The connection to ${hop} ended before the channel to ${target} opened.`, { hop, cause: err });
  }
  return new TunnelError('CHANNEL_REFUSED', `${hop} did not open a channel to ${target}: ${detail}.`, { hop, cause: err });
}

interface HopConnect extends SessionOptions {
  endpoint: Endpoint;
  user: string;
  hop: HopInfo;
  sock: Duplex;
  isFinal: boolean;
  serverHostKey: string[];
  knownHosts: KnownHostsSetup;
}

function connectHop(o: HopConnect, signal?: AbortSignal): Promise<Client> {
  const label = o.hop.label;
  const client = new ssh2.Client();
  sockets.set(client, o.sock);
  o.sock.once('close', () => closedSockets.add(o.sock));
  const serverHostKeyOffer = watchServerHostKeyOffer(o.sock);
  return new Promise((resolve, reject) => {
    let settled = false;
    let hostKeyError: TunnelError | undefined;
    /** The host key verified at the first key exchange; every later exchange must show the same. */
    let sessionKey: Buffer | undefined;
    let prompting = 0;
    let timer: NodeJS.Timeout | undefined;
    const armTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new TunnelError('CONNECT_TIMEOUT', `SSH handshake with ${label} did not finish within ${o.connectTimeoutMs / 1000} s.`, { hop: label })), o.connectTimeoutMs);
    };
    // A person reading a fingerprint or typing a password is not a dead server: stop the clock meanwhile.
    const onPrompt = (asking: boolean) => {
      prompting += asking ? 1 : -1;
      if (prompting > 0) clearTimeout(timer);
      else if (!settled) armTimer();
    };
    const auth = makeAuthHandler(planAttempts(o.endpoint.auth), { hop: label, user: o.user, use: () => o.hop.hostKey && sshSecretUse(o.endpoint, o.defaultUser, o.hop.hostKey.fingerprint), prompter: o.prompter, secrets: o.secrets, onPrompt });

    const fail = (err: TunnelError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      client.removeAllListeners('ready');
      o.sock.destroy();
      void endClient(client).then(() => reject(err));
    };
    const onAbort = () => fail(cancelled(label));
    signal?.addEventListener('abort', onAbort, { once: true });

    client.on('error', (err: Error & { level?: string }) => {
      if (settled) return;
      if (hostKeyError) return fail(hostKeyError);
      if (auth.aborted) return fail(auth.aborted);
      if (err.level === 'client-authentication') {
        const tried = auth.tried.length ? auth.tried.join(', ') : 'nothing (no usable key, agent or prompt)';
        return fail(new TunnelError('AUTH_FAILED', `Permission denied at ${label}: the server accepted none of what was tried (${tried}).`, { hop: label, cause: err }));
      }
      if (err.level === 'client-socket') return fail(socketError(err as NodeJS.ErrnoException, label));
      const offer = serverHostKeyOffer();
      if (err.level === 'handshake' && !o.hostKey.allowSha1Rsa && offer && offersOnlySha1Rsa(offer)) {
        return fail(
          new TunnelError(
            'HOST_KEY_REJECTED',
            `${label} offers only SHA-1 RSA host-key signatures (ssh-rsa), which Tunnelvision refuses by default, as OpenSSH 8.8 and later do: SHA-1 signatures can be forged. Best, have the server's administrator enable rsa-sha2-256/512 or an Ed25519 key. If you trust this server as it is, allow ssh-rsa for this profile (hostKey.allowSha1Rsa, or -o HostKeyAlgorithms=+ssh-rsa on the command line).`,
            { hop: label, cause: err },
          ),
        );
      }
      if (err.message === 'Connection lost before handshake') {
        // sshd drops connections past MaxStartups (and a TCP wrapper its denied ones) before its
        // version line, without a word: a retryable condition, not a protocol error.
        return fail(new TunnelError('CONNECTION_LOST', `${label} closed the connection before the SSH handshake began: the server may be refusing new connections (MaxStartups, a connection limit, or a TCP wrapper).`, { hop: label, cause: err }));
      }
      // ssh2 puts a server's disconnect description in the message.
      fail(new TunnelError('PROTOCOL', `SSH handshake with ${label} failed: ${stripControls(err.message)}`, { hop: label, cause: err }));
    });
    client.on('close', () => fail(hostKeyError ?? auth.aborted ?? new TunnelError('CONNECTION_LOST', `${label} closed the connection during the handshake.`, { hop: label })));
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      // From here on the owner listens for 'close'; errors are followed by close, so only absorb them.
      client.on('error', () => {});
      poolPackets(client);
      readSessionIntoPool(client, o.sock);
      resolve(client);
    });

    const config: ConnectConfig = {
      sock: o.sock as ConnectConfig['sock'],
      username: o.user,
      readyTimeout: 0,
      keepaliveInterval: o.keepalive.intervalSeconds * 1000,
      keepaliveCountMax: o.keepalive.countMax,
      algorithms: {
        cipher: (o.ciphers ?? defaultCiphers()) as Algorithms['cipher'],
        serverHostKey: o.serverHostKey as Algorithms['serverHostKey'],
      },
      authHandler: auth.handler,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void): boolean | undefined => {
        // A key re-exchange: the server must show the key it proved at the first one, and the answer
        // must come at once. ssh2 (1.14 and later, kex.js completeHandshake) switches to the new
        // decipher when the server's NEWKEYS arrives but keeps the old cipher until verify() is
        // called, and packets sent in between are built for a queue that no longer runs: sshd reads
        // them as `Bad packet length` and drops the session (mscdex/ssh2#1312 made that window).
        if (sessionKey) return key.equals(sessionKey);
        onPrompt(true);
        checkHostKey(
          { host: o.endpoint.host, port: o.endpoint.port, hop: label, policy: o.hostKey, checkPinned: o.isFinal, knownHosts: o.knownHosts, ...(o.prompter.hostKey ? { ask: o.prompter.hostKey } : {}) },
          key,
        ).then(
          (info) => {
            o.hop.hostKey = info;
            sessionKey = key;
            onPrompt(false);
            verify(true);
          },
          (err: unknown) => {
            hostKeyError = err instanceof TunnelError ? err : new TunnelError('HOST_KEY_REJECTED', String(err), { hop: label });
            onPrompt(false);
            verify(false);
          },
        );
      },
    };
    // Before ssh2 writes anything: pooled packets come back once this socket has written them.
    returnPacketsAfterWrite(o.sock);
    armTimer();
    client.connect(config);
  });
}

// The socket under each client is ours (we made it, or it is a channel of the previous hop), so
// closing waits on it rather than on ssh2's internals.
const sockets = new WeakMap<Client, Duplex>();
// A jump hop's socket is an ssh2 channel: it can emit 'close' without ever becoming `destroyed`
// (its connection died under it), and a later destroy() emits nothing. Waiting for a second
// 'close' then hung the supervisor and stop() for good once a bastion was killed mid-chain.
const closedSockets = new WeakSet<Duplex>();
const DISCONNECT_GRACE_MS = 1_000;

/** Sends SSH disconnect and resolves once the client's socket is closed; a dead peer gets a short grace, then the socket is destroyed. */
export function endClient(client: Client): Promise<void> {
  const sock = sockets.get(client);
  if (!sock || sock.destroyed || closedSockets.has(sock)) {
    client.end();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const grace = setTimeout(() => {
      sock.destroy();
      // A channel whose connection is gone may never report 'close'; destroyed is as closed as it gets.
      resolve();
    }, DISCONNECT_GRACE_MS);
    sock.once('close', () => {
      clearTimeout(grace);
      resolve();
    });
    client.end();
  });
}
