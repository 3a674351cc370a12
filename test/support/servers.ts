// Real TCP targets for forwarded connections, each owning its sockets so tests can close them all.
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpTarget {
  port: number;
  server: Server;
  connections: number;
  close(): Promise<void>;
}

/** A server whose sockets are tracked and destroyed on close. */
export async function tcpServer(onConnection: (sock: Socket) => void, host = '127.0.0.1'): Promise<TcpTarget> {
  const sockets = new Set<Socket>();
  const target: TcpTarget = {
    port: 0,
    connections: 0,
    server: createServer({ allowHalfOpen: true }, (sock) => {
      target.connections++;
      sockets.add(sock);
      sock.on('error', () => {});
      sock.once('close', () => sockets.delete(sock));
      onConnection(sock);
    }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        target.server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => target.server.listen(0, host, resolve));
  target.port = (target.server.address() as AddressInfo).port;
  return target;
}

/**
 * Replies with the SHA-256 (hex) of everything it received, once the client half-closes.
 * `onOpen` hears of each connection and returns what to call when it closes (for counting them).
 */
export function hashServer(host = '127.0.0.1', onOpen?: () => () => void): Promise<TcpTarget> {
  return tcpServer((sock) => {
    const onClose = onOpen?.();
    if (onClose) sock.once('close', onClose);
    const hash = createHash('sha256');
    sock.on('data', (d) => hash.update(d));
    sock.on('end', () => sock.end(hash.digest('hex')));
  }, host);
}

export function echoServer(host = '127.0.0.1'): Promise<TcpTarget> {
  return tcpServer((sock) => sock.pipe(sock), host);
}

/**
 * Sends `size` random bytes to host:port, half-closes, and resolves with [sent hash, reply].
 * With `holdUntil`, the half-close waits for it, so many connections can be held open at once.
 */
export function sendAndHash(port: number, size: number, host = '127.0.0.1', holdUntil?: Promise<void>): Promise<{ sent: string; reply: string }> {
  return new Promise((resolve, reject) => {
    const payload = randomBytes(size);
    const sent = createHash('sha256').update(payload).digest('hex');
    const sock = connect({ host, port, allowHalfOpen: true });
    let reply = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (reply += d));
    sock.on('error', reject);
    sock.on('end', () => {
      sock.end();
      resolve({ sent, reply });
    });
    if (!holdUntil) return void sock.end(payload);
    sock.write(payload);
    void holdUntil.then(() => sock.end());
  });
}

/** Connects and resolves with how the connection ended: data received, or closed/reset without any. */
export function probe(port: number, host = '127.0.0.1', send = 'ping'): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', (err: NodeJS.ErrnoException) => resolve({ data, error: err.code ?? err.message }));
    sock.on('close', () => resolve({ data }));
    sock.on('connect', () => sock.end(send));
  });
}

/**
 * Reads a decimal size and a newline, then sends that many random bytes and ends; `sent` records
 * each payload's SHA-256 by its size, so a client asks for unique sizes to tell them apart.
 */
export function randomSource(sent: Map<number, string>): Promise<TcpTarget> {
  return tcpServer((sock) => {
    let line = '';
    const onData = (d: Buffer) => {
      line += d.toString('latin1');
      if (!line.includes('\n')) return;
      sock.off('data', onData);
      const size = Number(line.trim());
      const payload = randomBytes(size);
      sent.set(size, createHash('sha256').update(payload).digest('hex'));
      sock.end(payload);
    };
    sock.on('data', onData);
  });
}
