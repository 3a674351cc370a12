// The upload half of a forwarded connection (socket → ssh2 channel) without a fresh buffer per read.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * One read buffer for every connection of the process. By default each socket read lands in a
 * fresh 64 KiB buffer that lives until the next garbage collection: at 100+ MiB/s that is a heap
 * of dead buffers, fresh pages (page faults) for every read and frequent collections. ssh2 copies
 * what it is given into its SSH packets at once when the channel's window allows, so a buffer that
 * is reused right after the copy is enough; when ssh2 would have to keep the bytes (window full),
 * they are copied and reading pauses until they are sent. Nothing else runs between a read and its
 * callback, so one buffer serves every socket.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

interface ChannelInternals {
  outgoing?: { state?: string; window?: number };
}

/** Node keeps a socket's user read buffer and callback under symbols (net.js kBuffer, kBufferCb). */
function userBufferSymbols(sock: Socket): { kBuffer: symbol; kBufferCb: symbol } | undefined {
  const symbols = Object.getOwnPropertySymbols(sock);
  const kBuffer = symbols.find((s) => s.description === 'kBuffer');
  const kBufferCb = symbols.find((s) => s.description === 'kBufferCb');
  return kBuffer && kBufferCb ? { kBuffer, kBufferCb } : undefined;
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
  // Bytes ssh2 must keep while the server's window is full; one per connection, made on its first stall.
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
    spare ??= Buffer.allocUnsafeSlow(buf.length);
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
