// Written here, not taken from npm: socksv5, the one SOCKS server package, is untyped, SOCKS5-only and unchanged since 0.0.6 (2015).
//
// The server side of dynamic forwarding (`ssh -D`). Names are never resolved here: like OpenSSH we
// hand them to `connect`, which resolves them on the SSH server's side of the tunnel.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TunnelError } from '../shared/errors.js';
import { closeEndedChannelsQuietly } from './channelClose.js';
import { readIntoSharedBuffer, writeChannelDirect } from './sharedRead.js';

export interface SocksRequest {
  version: 4 | 5;
  host: string;
  port: number;
  addressType: 'ipv4' | 'ipv6' | 'domain';
}

export type SocksConnect = (req: SocksRequest) => Promise<Duplex>;

export interface SocksHooks {
  onConnected?(req: SocksRequest): void;
  /** Every connection that never reaches the piping stage ends here exactly once. */
  onFailed?(err: unknown, req?: SocksRequest): void;
}

export interface SocksOptions {
  /** How long the client may take to send a complete request. */
  handshakeTimeoutMs?: number;
  hooks?: SocksHooks;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
// RFC 1929 and SOCKS4 give user ids no limit; real clients send a few bytes, so anything longer is
// treated as garbage rather than buffered.
const MAX_SOCKS4_FIELD = 255;
// What an optimistic client may send before the target is connected; beyond it the socket is
// paused so TCP back-pressure, not memory, absorbs the rest.
const MAX_EARLY_DATA = 64 * 1024;

const REP = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

const SOCKS4_GRANTED = 0x5a;
const SOCKS4_REJECTED = 0x5b;

/** The SOCKS5 reply code for a failed `connect`: TunnelError codes first, then Node's errno codes. */
function socks5ReplyCode(err: unknown): number {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  switch (code) {
    case 'TARGET_REFUSED':
    case 'ECONNREFUSED':
      return REP.connectionRefused;
    case 'DNS':
    case 'HOST_UNREACHABLE':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
      return REP.hostUnreachable;
    case 'ENETUNREACH':
      return REP.networkUnreachable;
    case 'CHANNEL_REFUSED':
      return REP.notAllowed;
    default:
      return REP.generalFailure;
  }
}

// OpenSSH answers with an unspecified bound address: the real one is on the SSH server and of no
// use to the client.
function socks5Reply(rep: number): Buffer {
  return Buffer.from([0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

function socks4Reply(status: number): Buffer {
  return Buffer.from([0x00, status, 0, 0, 0, 0, 0, 0]);
}

/** RFC 5952 text form, so `connect` and logs see `::1`, never `0:0:0:0:0:0:0:1`. */
function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

// Names go into SSH requests and logs; a byte that cannot be in a host name means a broken client.
function decodeName(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return undefined;
  for (const b of bytes) if (b <= 0x20 || b === 0x7f) return undefined;
  return bytes.toString('utf8');
}

type Step =
  | { kind: 'more' }
  | { kind: 'methodAccepted'; consumed: number }
  | { kind: 'request'; req: SocksRequest; consumed: number }
  | { kind: 'reject'; reason: string; reply?: Buffer };

const MORE: Step = { kind: 'more' };

function parseGreeting(buf: Buffer): Step {
  if (buf.length < 2) return MORE;
  const count = buf[1] ?? 0;
  if (buf.length < 2 + count) return MORE;
  if (!buf.subarray(2, 2 + count).includes(0x00)) {
    return { kind: 'reject', reason: 'SOCKS5 client offered no acceptable authentication method', reply: Buffer.from([0x05, 0xff]) };
  }
  return { kind: 'methodAccepted', consumed: 2 + count };
}

function parseSocks5Request(buf: Buffer): Step {
  if (buf.length < 4) return MORE;
  if (buf[0] !== 0x05) return { kind: 'reject', reason: `SOCKS5 request has version byte ${buf[0]}` };
  if (buf[1] !== 0x01) {
    return { kind: 'reject', reason: `SOCKS5 command ${buf[1]} is not supported`, reply: socks5Reply(REP.commandNotSupported) };
  }
  let host: string | undefined;
  let addressType: SocksRequest['addressType'];
  let end: number;
  switch (buf[3]) {
    case 0x01:
      end = 8;
      if (buf.length < end + 2) return MORE;
      host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
      addressType = 'ipv4';
      break;
    case 0x04:
      end = 20;
      if (buf.length < end + 2) return MORE;
      host = formatIPv6(buf.subarray(4, 20));
      addressType = 'ipv6';
      break;
    case 0x03:
      if (buf.length < 5) return MORE;
      end = 5 + (buf[4] ?? 0);
      if (buf.length < end + 2) return MORE;
      host = decodeName(buf.subarray(5, end));
      addressType = 'domain';
      if (host === undefined) {
        return { kind: 'reject', reason: 'SOCKS5 request has an invalid host name', reply: socks5Reply(REP.generalFailure) };
      }
      break;
    default:
      return {
        kind: 'reject',
        reason: `SOCKS5 address type ${buf[3]} is not supported`,
        reply: socks5Reply(REP.addressTypeNotSupported),
      };
  }
  return { kind: 'request', req: { version: 5, host, port: buf.readUInt16BE(end), addressType }, consumed: end + 2 };
}

/** The NUL-terminated field starting at `start`: its end, MORE, or undefined when it is too long. */
function findNul(buf: Buffer, start: number): number | 'more' | undefined {
  const nul = buf.indexOf(0x00, start);
  if (nul >= 0) return nul - start > MAX_SOCKS4_FIELD ? undefined : nul;
  return buf.length - start > MAX_SOCKS4_FIELD ? undefined : 'more';
}

function parseSocks4(buf: Buffer): Step {
  if (buf.length < 8) return MORE;
  const rejected = socks4Reply(SOCKS4_REJECTED);
  if (buf[1] !== 0x01) return { kind: 'reject', reason: `SOCKS4 command ${buf[1]} is not supported`, reply: rejected };
  const port = buf.readUInt16BE(2);
  const userEnd = findNul(buf, 8);
  if (userEnd === 'more') return MORE;
  if (userEnd === undefined) return { kind: 'reject', reason: 'SOCKS4 user id is too long' };
  // SOCKS4a: 0.0.0.x with x ≠ 0 means "the name follows the user id".
  if (buf[4] === 0 && buf[5] === 0 && buf[6] === 0 && buf[7] !== 0) {
    const nameEnd = findNul(buf, userEnd + 1);
    if (nameEnd === 'more') return MORE;
    const host = nameEnd === undefined ? undefined : decodeName(buf.subarray(userEnd + 1, nameEnd));
    if (nameEnd === undefined || host === undefined) {
      return { kind: 'reject', reason: 'SOCKS4a request has an invalid host name', reply: rejected };
    }
    return { kind: 'request', req: { version: 4, host, port, addressType: 'domain' }, consumed: nameEnd + 1 };
  }
  const host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
  return { kind: 'request', req: { version: 4, host, port, addressType: 'ipv4' }, consumed: userEnd + 1 };
}

/** Ends `stream` so queued data still reaches its peer, then frees it. */
function closeAfterFlush(stream: Duplex): void {
  if (stream.destroyed) return;
  if (stream.writableFinished) {
    stream.destroy();
    return;
  }
  stream.once('finish', () => stream.destroy());
  if (!stream.writableEnded) stream.end();
}

// A hook is the caller's code running inside our event handlers: its exception must not become an
// uncaught one that takes the whole engine down.
function callHook(fn: () => void): void {
  try {
    fn();
  } catch {
    // Nothing useful to do with it here; the connection carries on.
  }
}

/**
 * Takes ownership of `socket`: negotiates, connects, pipes; destroys both sides when either closes
 * or errors. Never throws. An end (half-close) is passed on to the other side rather than cutting
 * it off, so a reply still in flight is not lost; with `allowHalfOpen: false` it becomes a close.
 */
export function serveSocks(socket: Socket, connect: SocksConnect, options: SocksOptions = {}): void {
  const hooks = options.hooks ?? {};
  let state: 'greeting' | 'request' | 'connecting' | 'done' = 'greeting';
  let buffered: Buffer = Buffer.alloc(0);
  let request: SocksRequest | undefined;

  const fail = (err: unknown, reply?: Buffer): void => {
    if (state === 'done') return;
    state = 'done';
    clearTimeout(timer);
    callHook(() => hooks.onFailed?.(err, request));
    if (reply && socket.writable) {
      socket.write(reply);
      closeAfterFlush(socket);
    } else {
      socket.destroy();
    }
  };

  const timer = setTimeout(
    () => fail(new TunnelError('PROTOCOL', 'SOCKS client sent no complete request in time')),
    options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  );

  const advance = (): void => {
    for (;;) {
      const step: Step =
        state === 'request' ? parseSocks5Request(buffered)
        : buffered[0] === 0x05 ? parseGreeting(buffered)
        : buffered[0] === 0x04 ? parseSocks4(buffered)
        : { kind: 'reject', reason: `not a SOCKS client (first byte ${buffered[0]})` };
      switch (step.kind) {
        case 'more':
          return;
        case 'reject':
          fail(new TunnelError('PROTOCOL', step.reason), step.reply);
          return;
        case 'methodAccepted':
          socket.write(Buffer.from([0x05, 0x00]));
          buffered = buffered.subarray(step.consumed);
          state = 'request';
          if (buffered.length === 0) return;
          break;
        case 'request':
          buffered = buffered.subarray(step.consumed);
          startConnect(step.req);
          return;
      }
    }
  };

  const onData = (chunk: Buffer): void => {
    if (state === 'done') return;
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (state === 'connecting') {
      if (buffered.length >= MAX_EARLY_DATA) socket.pause();
      return;
    }
    advance();
  };

  const startConnect = (req: SocksRequest): void => {
    request = req;
    state = 'connecting';
    // The client's part is over; how long the tunnel takes to reach the target is `connect`'s call.
    clearTimeout(timer);
    Promise.resolve()
      .then(() => connect(req))
      .then(
        (stream) => {
          if (state !== 'connecting' || !socket.writable) {
            stream.destroy();
            fail(new TunnelError('CONNECTION_LOST', 'SOCKS client left before the target was reached'));
            return;
          }
          state = 'done';
          pipeBoth(stream, req.version === 5 ? socks5Reply(REP.succeeded) : socks4Reply(SOCKS4_GRANTED));
          callHook(() => hooks.onConnected?.(req));
        },
        (err: unknown) => {
          const reply = req.version === 5 ? socks5Reply(socks5ReplyCode(err)) : socks4Reply(SOCKS4_REJECTED);
          fail(err, reply);
        },
      );
  };

  const pipeBoth = (stream: Duplex, reply: Buffer): void => {
    // Paused first: with the data listener gone a flowing socket would drop what arrives next.
    socket.pause();
    socket.off('data', onData);
    socket.off('end', onHandshakeEnd);
    socket.off('close', onHandshakeClose);
    socket.write(reply);
    const onError = (): void => {
      socket.destroy();
      stream.destroy();
    };
    socket.on('error', onError);
    stream.on('error', onError);
    socket.once('close', () => closeAfterFlush(stream));
    stream.once('close', () => closeAfterFlush(socket));
    if (buffered.length > 0) stream.write(buffered);
    buffered = Buffer.alloc(0);
    writeChannelDirect(stream, socket);
    closeEndedChannelsQuietly(stream);
    stream.pipe(socket);
    // A client that half-closed while we were connecting has nothing more to send.
    if (socket.readableEnded) stream.end();
    else if (!readIntoSharedBuffer(socket, stream, { stopReading: true })) socket.pipe(stream);
  };

  const onHandshakeEnd = (): void => {
    // Before the request is complete a half-close can only mean the client gave up.
    if (state !== 'connecting') fail(new TunnelError('CONNECTION_LOST', 'SOCKS client closed during the handshake'));
  };
  const onHandshakeClose = (): void => {
    fail(new TunnelError('CONNECTION_LOST', 'SOCKS client closed during the handshake'));
  };

  // Errors are followed by 'close', which does the cleanup; this listener only keeps them from
  // being thrown as unhandled.
  socket.on('error', () => {});
  socket.on('data', onData);
  socket.on('end', onHandshakeEnd);
  socket.on('close', onHandshakeClose);
  socket.setNoDelay(true);
}
