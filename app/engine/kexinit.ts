// The server's first words, read as data: its version line, then its SSH_MSG_KEXINIT (RFC 4253
// §4.2, §7.1), which is sent in the clear. ssh2 negotiates without telling why it found no host-key
// algorithm in common; this says what the server offered, so that failure can be explained.

const MSG_KEXINIT = 20;
const COOKIE_BYTES = 16;
/** Beyond this, the peer is not speaking SSH as we expect; stop looking. */
const MAX_BYTES = 64 * 1024;

export type KexinitRead = { done: false } | { done: true; serverHostKey: string[] | undefined };

/** Reads from the start of a server's stream; `undefined` when what arrived is not a KEXINIT. */
export function readServerHostKeyOffer(data: Buffer): KexinitRead {
  // Lines before the version line are allowed; the version line starts with "SSH-".
  let lineStart = 0;
  for (;;) {
    const end = data.indexOf(0x0a, lineStart);
    if (end < 0) return data.length > MAX_BYTES ? { done: true, serverHostKey: undefined } : { done: false };
    const isVersion = data.subarray(lineStart, lineStart + 4).toString('latin1') === 'SSH-';
    lineStart = end + 1;
    if (isVersion) break;
  }
  const packet = data.subarray(lineStart);
  if (packet.length < 5) return { done: false };
  const length = packet.readUInt32BE(0);
  if (length > MAX_BYTES) return { done: true, serverHostKey: undefined };
  if (packet.length < 4 + length) return { done: false };
  const padding = packet[4]!;
  const payload = packet.subarray(5, 4 + length - padding);
  if (payload[0] !== MSG_KEXINIT) return { done: true, serverHostKey: undefined };
  let at = 1 + COOKIE_BYTES;
  const nameList = (): string[] | undefined => {
    if (at + 4 > payload.length) return undefined;
    const size = payload.readUInt32BE(at);
    at += 4;
    if (at + size > payload.length) return undefined;
    const text = payload.subarray(at, at + size).toString('latin1');
    at += size;
    return text ? text.split(',') : [];
  };
  if (!nameList()) return { done: true, serverHostKey: undefined }; // kex_algorithms
  return { done: true, serverHostKey: nameList() };
}

/**
 * Collects a server stream's first bytes until its host-key offer is known, then stops listening.
 * It starts listening only when ssh2 does (which is after an await): a 'data' listener of ours
 * alone would set the stream flowing and ssh2 would miss the bytes sent meanwhile.
 */
export function watchServerHostKeyOffer(stream: NodeJS.EventEmitter): () => string[] | undefined {
  let buffered = Buffer.alloc(0);
  let offer: string[] | undefined;
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const read = readServerHostKeyOffer(buffered);
    if (!read.done) return;
    offer = read.serverHostKey;
    buffered = Buffer.alloc(0);
    stream.removeListener('data', onData);
  };
  const watch = (event: string | symbol) => {
    if (event !== 'data') return;
    stream.removeListener('newListener', watch);
    stream.on('data', onData);
  };
  stream.on('newListener', watch);
  return () => offer;
}
