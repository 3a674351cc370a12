// Both halves of a forwarded connection without a fresh buffer per read: the upload half (socket →
// ssh2 channel) and the download half (SSH socket → ssh2 → the forwarded connection's socket).
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';

/**
 * One read buffer for every connection of the process. By default each socket read lands in a
 * fresh 64 KiB buffer that lives until the next garbage collection: at 100+ MiB/s that is a heap
 * of dead buffers, fresh pages (page faults) for every read and frequent collections. ssh2 copies
 * what it is given into its SSH packets at once when the channel's window allows, so a buffer that
 * is reused right after the copy is enough; when ssh2 would have to keep the bytes (window full),
 * they are copied and reading pauses until they are sent. Nothing else runs between a read and its
 * callback, so one buffer serves every socket. 256 KiB, not Node's 64: a read is a callback and a
 * channel write, whatever its size (bench/ab.ts, one -L stream, 5 runs: 16 KiB 2891, 64 KiB 2266,
 * 256 KiB 2070 µs of CPU per MiB; 1 MiB no better than 256 KiB).
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(256 * 1024);

interface ChannelInternals {
  outgoing?: { state?: string; window?: number };
}

/** Node keeps a socket's user read buffer, its callback and the next buffer's source under symbols (net.js kBuffer, kBufferCb, kBufferGen). */
function userBufferSymbols(sock: Socket): { kBuffer: symbol; kBufferCb: symbol; kBufferGen: symbol } | undefined {
  const symbols = Object.getOwnPropertySymbols(sock);
  const kBuffer = symbols.find((s) => s.description === 'kBuffer');
  const kBufferCb = symbols.find((s) => s.description === 'kBufferCb');
  const kBufferGen = symbols.find((s) => s.description === 'kBufferGen');
  return kBuffer && kBufferCb && kBufferGen ? { kBuffer, kBufferCb, kBufferGen } : undefined;
}

/**
 * Switches a socket that is not reading (pauseOnConnect, or `stopReading`) to Node's user-buffer reads
 * (the `onread` option of net.connect, which net.Server does not offer for accepted sockets) and
 * writes what it reads to an ssh2 channel. Returns false, changing nothing, when the socket, the
 * stream or this Node version do not fit; the caller pipes as usual then.
 */
export function readIntoSharedBuffer(sock: Socket, channel: Duplex, opts: { stopReading?: boolean } = {}): boolean {
  const handle = (sock as unknown as { _handle?: { reading?: boolean; readStop?: () => number; useUserBuffer?: (b: Uint8Array) => void } })._handle;
  const window = (channel as unknown as ChannelInternals).outgoing;
  const symbols = userBufferSymbols(sock);
  if (!handle || typeof handle.useUserBuffer !== 'function' || !window || !symbols || sock.readableLength > 0 || sock.readableEnded) return false;
  if (handle.reading) {
    // A socket that already read (a SOCKS handshake) and holds nothing unread: stop, then switch.
    if (!opts.stopReading || typeof handle.readStop !== 'function') return false;
    handle.reading = false;
    handle.readStop();
  }
  const resume = () => sock.resume();
  // Bytes ssh2 must keep while the server's window is full; one per connection, made on its first
  // stall and grown only as far as a stall needs.
  let spare: Buffer | undefined;
  const onRead = (nread: number, buf: Buffer): boolean => {
    let rest = buf.subarray(0, nread);
    const room = channel.writableLength === 0 && window.state === 'open' ? (window.window ?? 0) : 0;
    if (room > 0) {
      // ssh2 sends up to `room` bytes now: copied into SSH packets before write() returns.
      channel.write(room >= nread ? rest : rest.subarray(0, room));
      if (room >= nread) return true;
      rest = rest.subarray(room);
    }
    // The rest waits for the server to open its window: it gets a copy, and reading stops until
    // ssh2 has sent it (back-pressure), which also frees `spare` for the next stall.
    if (!spare || spare.length < rest.length) spare = Buffer.allocUnsafeSlow(rest.length);
    rest.copy(spare);
    channel.write(spare.subarray(0, rest.length), resume);
    return false;
  };
  const s = sock as unknown as Record<symbol, unknown>;
  s[symbols.kBuffer] = SHARED_READ_BUFFER;
  s[symbols.kBufferCb] = onRead;
  handle.useUserBuffer(SHARED_READ_BUFFER);
  // End of input arrives as usual ('end'); half-close is kept: the channel gets EOF, not close.
  sock.once('end', () => channel.end());
  // Flowing, so that end of input is reported; reading starts here unless the caller holds it.
  sock.resume();
  return true;
}

/** SSH_MSG_CHANNEL_DATA. */
const MSG_CHANNEL_DATA = 94;
/** ssh2's receive window per channel and the level below which it tops it up (Channel.js MAX_WINDOW, WINDOW_THRESHOLD). */
const MAX_WINDOW = 2 * 1024 * 1024;
const WINDOW_THRESHOLD = MAX_WINDOW / 2;
/**
 * A session's reads go to a large buffer while it keeps being reused (fewer reads, and fewer packets
 * split between two reads, which ssh2 copies into a fresh buffer of their own); after a read whose
 * buffer must be left behind, to a buffer of Node's own read size, so a session whose reads can
 * never be reused (a jump host's, carrying the next hop's session) allocates what it would without this.
 */
const LARGE_READ = 256 * 1024;
const SMALL_READ = 64 * 1024;
/** Reused reads in a row before a small buffer is traded for a large one. */
const REUSED_BEFORE_LARGE = 8;
/** Decipher classes whose only hold on the bytes they were given is `_packet` (a packet whose tag is still to come). */
const KNOWN_DECIPHERS = new Set(['AESGCMDecipherBinding', 'ChaChaPolyDecipherBinding']);

interface DecipherInternals {
  _onPayload: (payload: Buffer) => unknown;
  _packet: Uint8Array | null;
  constructor: { name: string };
}

interface ProtocolInternals {
  _decipher?: DecipherInternals;
  _onPayload?: (payload: Buffer) => unknown;
  _handlers?: { CHANNEL_DATA?: (p: unknown, recipient: number, data: Buffer) => void };
  _kex?: { negotiated?: { sc?: { compress?: string } } };
  parse(chunk: Buffer, p: number, len: number): void;
  channelWindowAdjust(id: number, amount: number): void;
}

interface WindowedChannel {
  incoming: { window: number };
  outgoing: { id: number; state: string };
  readableLength: number;
}

/** A channel whose data ssh2 hands straight to its socket, and whether that socket asked to wait (drain). */
interface Direct {
  sock: Socket;
  waiting: boolean;
}

const directs = new WeakMap<object, Direct>();

/**
 * Has the data of `channel` written straight to `sock` (the download half of a forwarded
 * connection) on sessions that readSessionIntoPool switched; elsewhere ssh2 keeps pushing it to the
 * channel, which the caller pipes to `sock` as usual. Only for a channel that holds no data yet, or
 * bytes could overtake the ones it holds.
 */
export function writeChannelDirect(channel: Duplex, sock: Socket): void {
  const ch = channel as unknown as Partial<WindowedChannel>;
  if (ch.readableLength === 0 && ch.incoming && ch.outgoing) directs.set(channel, { sock, waiting: false });
}

/**
 * The download half. ssh2 reads its socket into a fresh 64 KiB buffer per read, decrypts packets in
 * place there and pushes views of them into the channels, so every read buffer lives until the
 * forwarded connection's socket has sent the bytes, and the heap fills with dead buffers as it did
 * for uploads. Here the SSH socket reads into one buffer, which is read into again only when
 * nothing can still be looking at it: every packet in it was channel data that the connection's
 * socket took at once (written to the kernel, nothing queued), and the decipher holds no part of
 * it. Anything else (other messages, a socket that queued the bytes, a key re-exchange) leaves that
 * buffer to whoever holds it and the next read goes to a fresh one. Returns false, changing
 * nothing, when the socket, ssh2 or this Node version do not fit.
 */
export function readSessionIntoPool(client: Client, sock: Duplex): boolean {
  const c = client as unknown as { _protocol?: ProtocolInternals; _chanMgr?: { get(id: number): unknown } };
  const proto = c._protocol;
  const channels = c._chanMgr;
  const decipher = proto?._decipher;
  const channelData = proto?._handlers?.CHANNEL_DATA;
  const onPayload = proto?._onPayload;
  if (!(sock instanceof Socket) || !proto?._handlers || !channels || !decipher || !channelData || !onPayload) return false;
  const handle = (sock as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  const symbols = userBufferSymbols(sock);
  if (!handle || typeof handle.useUserBuffer !== 'function' || !symbols) return false;
  if (decipher._onPayload !== onPayload || !KNOWN_DECIPHERS.has(decipher.constructor.name) || proto._kex?.negotiated?.sc?.compress !== 'none') return false;
  if (sock.readableLength > 0 || sock.readableEnded || sock.listenerCount('data') !== 1) return false;
  const ssh2OnData = sock.listeners('data')[0] as (data: Buffer) => void;

  let reusable = true;
  const onPayloadSeen = (payload: Buffer): unknown => {
    if (payload[0] !== MSG_CHANNEL_DATA) reusable = false;
    return onPayload(payload);
  };
  // Deciphers made by later key exchanges take theirs from the protocol.
  proto._onPayload = onPayloadSeen;
  decipher._onPayload = onPayloadSeen;

  proto._handlers.CHANNEL_DATA = (p, recipient, data) => {
    const channel = channels.get(recipient) as WindowedChannel | undefined;
    const direct = channel && directs.get(channel);
    if (!direct) {
      reusable = false;
      channelData(p, recipient, data);
      return;
    }
    // As ssh2 does: nothing beyond the window it granted.
    if (channel.incoming.window === 0) return;
    channel.incoming.window -= data.length;
    const out = direct.sock;
    if (out.destroyed) return;
    const room = out.write(data);
    if (out.writableLength > 0) reusable = false;
    if (!room) {
      // Back-pressure: the window is topped up once the socket has sent what it queued.
      if (!direct.waiting) {
        direct.waiting = true;
        out.once('drain', () => {
          direct.waiting = false;
          topUp(proto, channel);
        });
      }
    } else if (!direct.waiting) {
      topUp(proto, channel);
    }
  };

  const decipherClass = decipher.constructor;
  let buffer = Buffer.allocUnsafeSlow(SMALL_READ);
  let reusedInRow = 0;
  const onRead = (nread: number, buf: Buffer): boolean => {
    reusable = true;
    const before = proto._decipher;
    // ssh2's own 'data' listener (parse; on a protocol error, close the connection) with this read's bytes.
    ssh2OnData(buf.subarray(0, nread));
    const after = proto._decipher!;
    const kept =
      !reusable ||
      after !== before ||
      after._onPayload !== onPayloadSeen ||
      after.constructor !== decipherClass ||
      proto._kex?.negotiated?.sc?.compress !== 'none' ||
      (after._packet !== null && after._packet.buffer === buf.buffer);
    if (kept) {
      reusedInRow = 0;
      buffer = Buffer.allocUnsafeSlow(SMALL_READ);
    } else if (++reusedInRow === REUSED_BEFORE_LARGE && buffer.length < LARGE_READ) {
      buffer = Buffer.allocUnsafeSlow(LARGE_READ);
    }
    return true;
  };
  // Reading goes on as it was; from the next read on, into `buffer` (and after each, into what kBufferGen gives).
  const s = sock as unknown as Record<symbol, unknown>;
  s[symbols.kBuffer] = buffer;
  s[symbols.kBufferCb] = onRead;
  s[symbols.kBufferGen] = () => buffer;
  handle.useUserBuffer(buffer);
  return true;
}

function topUp(proto: ProtocolInternals, channel: WindowedChannel): void {
  if (channel.incoming.window > WINDOW_THRESHOLD || channel.outgoing.state === 'closed') return;
  const amount = MAX_WINDOW - channel.incoming.window;
  channel.incoming.window += amount;
  proto.channelWindowAdjust(channel.outgoing.id, amount);
}
