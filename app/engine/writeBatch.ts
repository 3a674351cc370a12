// ssh2 writes every SSH packet to its socket with a write of its own. A short forwarded connection is
// four or five small packets (open, data, EOF, close, window adjust), each a syscall that on loopback
// also runs the reader's side of TCP and wakes it: under many connections those writes were the
// largest cost in the engine (BENCHMARKS.md, connection rate). OpenSSH writes its whole output
// buffer once per turn of its poll loop. Here a small packet holds the socket's writes (cork) until
// the I/O callbacks of this event-loop turn have run (setImmediate), and then they go out together.
// Bulk data packets written while nothing is held go out at once, as before: batching those was
// slower (one writev of several 32 KiB packets costs more than the writes it replaces).
import type { Duplex } from 'node:stream';

const SMALL = 8 * 1024;

/** Batches the small writes made to `sock` in one event-loop turn. Call before handing `sock` to ssh2. */
export function batchSmallWrites(sock: Duplex): void {
  const write = sock.write;
  let holding = false;
  const release = () => {
    holding = false;
    sock.uncork();
  };
  sock.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]): boolean {
    if (!holding && Buffer.isBuffer(chunk) && chunk.length < SMALL && !this.destroyed) {
      holding = true;
      this.cork();
      setImmediate(release);
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Duplex['write'];
}
