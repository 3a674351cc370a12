// The SSH leg to the foundation's ssh-proxy: user `cf:PROCESS_GUID/INDEX`, the one-time code as
// the password (nothing else is offered), the proxy's host key checked against the advertised
// fingerprint before any credential is sent.
import { connect as tcpConnect, type Socket } from 'node:net';
import ssh2, { type Client, type ConnectConfig } from 'ssh2';
import type { Keepalive } from '../profiles/schema.js';
import { defaultCiphers } from '../engine/algorithms.js';
import { describeKey } from '../engine/hostKeys.js';
import { Session, socketError } from '../engine/session.js';
import { TunnelError } from '../shared/errors.js';
import { checkProxyHostKey } from './fingerprint.js';

type Algorithms = NonNullable<ConnectConfig['algorithms']>;

export interface ProxyLogin {
  host: string;
  port: number;
  hop: string;
  username: string;
  code: string;
  fingerprint: string;
  keepalive: Keepalive;
  timeoutMs: number;
}

const DISCONNECT_GRACE_MS = 1_000;

/** A session over a socket we own, so disposing waits for it to close. */
class ProxySession extends Session {
  private closing: Promise<void> | undefined;

  constructor(client: Client, hop: { label: string; host: string; port: number; user: string; hostKey?: ReturnType<typeof describeKey> }, private readonly sock: Socket) {
    super([client], [hop]);
  }

  override dispose(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      if (this.sock.destroyed) {
        this.client.end();
        return resolve();
      }
      const grace = setTimeout(() => this.sock.destroy(), DISCONNECT_GRACE_MS);
      this.sock.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      this.client.end();
    });
    return this.closing;
  }
}

function tcp(login: ProxyLogin, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host: login.host, port: login.port });
    const fail = (err: TunnelError) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      reject(err);
    };
    const onAbort = () => fail(new TunnelError('CONNECTION_LOST', 'Connection attempt cancelled.', { hop: login.hop }));
    const timer = setTimeout(() => fail(new TunnelError('CONNECT_TIMEOUT', `No TCP connection to ${login.hop} within ${login.timeoutMs / 1000} s.`, { hop: login.hop })), login.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('error', (err: NodeJS.ErrnoException) => fail(socketError(err, login.hop)));
    sock.once('connect', () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      resolve(sock);
    });
  });
}

export async function openProxySession(login: ProxyLogin, signal: AbortSignal): Promise<Session> {
  const sock = await tcp(login, signal);
  const client = new ssh2.Client();
  const hop: ConstructorParameters<typeof ProxySession>[1] = { label: login.hop, host: login.host, port: login.port, user: login.username };
  return new Promise((resolve, reject) => {
    let settled = false;
    let hostKeyError: TunnelError | undefined;
    const fail = (err: TunnelError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      client.removeAllListeners('ready');
      sock.once('close', () => reject(err));
      client.end();
      sock.destroy();
    };
    const onAbort = () => fail(new TunnelError('CONNECTION_LOST', 'Connection attempt cancelled.', { hop: login.hop }));
    const timer = setTimeout(() => fail(new TunnelError('CONNECT_TIMEOUT', `SSH handshake with ${login.hop} did not finish within ${login.timeoutMs / 1000} s.`, { hop: login.hop })), login.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    client.on('error', (err: Error & { level?: string }) => {
      if (hostKeyError) return fail(hostKeyError);
      if (err.level === 'client-authentication') {
        return fail(
          new TunnelError('AUTH_FAILED', `${login.hop} did not accept the one-time code for ${login.username}: the code expired or was already used, or SSH access to this app instance was withdrawn.`, {
            hop: login.hop,
            cause: err,
          }),
        );
      }
      if (err.level === 'client-socket') return fail(socketError(err as NodeJS.ErrnoException, login.hop));
      fail(new TunnelError('PROTOCOL', `SSH handshake with ${login.hop} failed: ${err.message}`, { hop: login.hop, cause: err }));
    });
    client.on('close', () => fail(hostKeyError ?? new TunnelError('CONNECTION_LOST', `${login.hop} closed the connection during the handshake.`, { hop: login.hop })));
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      // The supervisor listens for 'close'; errors are followed by close, so only absorb them.
      client.on('error', () => {});
      resolve(new ProxySession(client, hop, sock));
    });
    client.connect({
      sock,
      username: login.username,
      readyTimeout: 0,
      keepaliveInterval: login.keepalive.intervalSeconds * 1000,
      keepaliveCountMax: login.keepalive.countMax,
      algorithms: { cipher: defaultCiphers() as Algorithms['cipher'] },
      // Password only, as `cf ssh` does: no agent, no keys, no keyboard-interactive.
      authHandler: [{ type: 'password', username: login.username, password: login.code }] as unknown as ConnectConfig['authHandler'],
      hostVerifier: (key: Buffer) => {
        hostKeyError = checkProxyHostKey(key, login.fingerprint, login.hop);
        if (!hostKeyError) hop.hostKey = describeKey(key);
        return !hostKeyError;
      },
    });
  });
}
