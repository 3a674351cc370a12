// Reuses ssh2's outgoing packet buffers. ssh2 allocates a fresh buffer for every SSH packet (at most
// 32 KiB of payload here) and fills its few bytes of padding with a randomFillSync call of their own.
// At 100+ MiB/s that is thousands of short-lived 32 KiB buffers a second: malloc churn, page faults
// on memory the heap just gave back, and garbage collections (see BENCHMARKS.md). Here the AEAD
// ciphers' allocPacket takes a buffer from a pool instead, padding comes from a batch of random bytes,
// and a packet goes back to the pool once the socket under the session has written it (the write's
// callback: the kernel has the bytes, or the channel of the previous hop has copied them).
import { randomFillSync } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';

interface CipherLike {
  allocPacket(payloadLen: number): Buffer;
}

/** Packet layout per ssh2 cipher class: padding block, bytes before the aligned part, trailer (tag/MAC). */
const LAYOUTS: Record<string, { block: number; trailer: number }> = {
  // AES-GCM (RFC 5647): the length is associated data, the rest aligned to 16; 16-byte tag.
  AESGCMCipherBinding: { block: 16, trailer: 16 },
  // chacha20-poly1305@openssh.com: the length is encrypted apart; the rest aligned to 8; 16-byte tag.
  ChaChaPolyCipherBinding: { block: 8, trailer: 16 },
};

/** Only full-size packets are worth pooling: bulk data. Small ones come from Node's own slab. */
const MIN_POOLED = 8 * 1024;
/** Per size: enough for the windows of a few busy channels, bounded so an idle tunnel holds little. */
const MAX_FREE_PER_SIZE = 64;

const free = new Map<number, Buffer[]>();
const inFlight = new WeakSet<Buffer>();
const patched = new WeakSet<object>();

let random = Buffer.alloc(0);
let randomAt = 0;

function padding(packet: Buffer, at: number, len: number): void {
  if (randomAt + len > random.length) {
    random = randomFillSync(Buffer.allocUnsafeSlow(4096));
    randomAt = 0;
  }
  for (let i = 0; i < len; i++) packet[at + i] = random[randomAt + i]!;
  randomAt += len;
}

function take(size: number): Buffer {
  const buf = free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  inFlight.add(buf);
  return buf;
}

function release(buf: Buffer): void {
  if (!inFlight.delete(buf)) return;
  let list = free.get(buf.length);
  if (!list) free.set(buf.length, (list = []));
  if (list.length < MAX_FREE_PER_SIZE) list.push(buf);
}

function makeAllocPacket(block: number, trailer: number) {
  return function allocPacket(payloadLen: number): Buffer {
    let pktLen = 4 + 1 + payloadLen;
    let padLen = block - ((pktLen - 4) & (block - 1));
    if (padLen < 4) padLen += block;
    pktLen += padLen;
    const size = pktLen + trailer;
    // Small packets (a channel opening, a window adjust, a keystroke) come from Node's slab as ssh2's
    // do; only their padding comes from the batch (a randomFillSync call each showed in connection-rate profiles).
    const packet = size < MIN_POOLED ? Buffer.allocUnsafe(size) : take(size);
    packet.writeUInt32BE(pktLen - 4, 0);
    packet[4] = padLen;
    padding(packet, 5 + payloadLen, padLen);
    return packet;
  };
}

/** Our layout must match ssh2's own for the sizes that matter, or we leave the class alone. */
function sameLayout(ours: (n: number) => Buffer, theirs: (n: number) => Buffer): boolean {
  for (const n of [0, 1, 9, 27, MIN_POOLED, 16 * 1024 + 3, 32 * 1024 + 9, 32 * 1024 + 13]) {
    const a = ours(n);
    const b = theirs(n);
    const same = a.length === b.length && a.readUInt32BE(0) === b.readUInt32BE(0) && a[4] === b[4];
    release(a);
    if (!same) return false;
  }
  return true;
}

/** Patches the class of `client`'s current outgoing cipher, once per class; unknown classes are left as they are. */
function patchCipherClass(client: Client): void {
  const cipher = (client as unknown as { _protocol?: { _cipher?: CipherLike } })._protocol?._cipher;
  if (!cipher) return;
  const proto = Object.getPrototypeOf(cipher) as CipherLike & { constructor: { name: string } };
  if (patched.has(proto)) return;
  patched.add(proto);
  const layout = LAYOUTS[proto.constructor.name];
  if (!layout || typeof proto.allocPacket !== 'function') return;
  const original = proto.allocPacket;
  const allocPacket = makeAllocPacket(layout.block, layout.trailer);
  if (!sameLayout((n) => allocPacket.call(cipher, n), (n) => original.call(cipher, n))) return;
  proto.allocPacket = allocPacket;
}

/**
 * Wraps the write of the stream ssh2 writes its packets to, so pooled packets come back once written.
 * Call before handing `sock` to ssh2.
 */
export function returnPacketsAfterWrite(sock: Duplex): void {
  const write = sock.write;
  sock.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]): boolean {
    if (rest.length === 0 && Buffer.isBuffer(chunk) && chunk.length >= MIN_POOLED && inFlight.has(chunk)) {
      return (write as (chunk: Buffer, cb: (err?: Error | null) => void) => boolean).call(this, chunk, (err) => {
        if (!err) release(chunk);
      });
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Duplex['write'];
}

/** Once `client` is authenticated (its ciphers are in place), pools its packet buffers. */
export function poolPackets(client: Client): void {
  patchCipherClass(client);
}
