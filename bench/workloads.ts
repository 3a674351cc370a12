// Traffic for the benchmarks: the same client and target code for every variant, so only the path
// between them differs.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Target {
  port: number;
  close(): Promise<void>;
  connections(): number;
}

function serve(onConnection: (s: Socket) => void): Promise<Target> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    onConnection(s);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        connections: () => sockets.size,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    ),
  );
}

/** Counts what it receives and, at end of input, answers with the count (8 bytes). */
export function sinkServer(): Promise<Target> {
  return serve((s) => {
    let n = 0;
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('end', () => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      s.end(b);
    });
  });
}

export function echoServer(): Promise<Target> {
  return serve((s) => s.pipe(s));
}

/** Connects to 127.0.0.1:port, through a SOCKS5 proxy when `socks` names the target to ask for. */
export function open(port: number, socks?: { port: number }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: true });
    s.once('error', reject);
    s.once('connect', () => {
      if (!socks) return resolve(s);
      // RFC 1928: no-auth greeting, then CONNECT 127.0.0.1:target; replies are 2 and 10 bytes.
      s.write(Buffer.from([5, 1, 0]));
      const req = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 0]);
      req.writeUInt16BE(socks.port, 8);
      s.write(req);
      let got = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length < 12) return;
        s.off('data', onData);
        if (got[1] !== 0 || got[3] !== 0) return reject(new Error(`SOCKS refused (${got[1]}, ${got[3]})`));
        if (got.length > 12) s.unshift(got.subarray(12));
        resolve(s);
      };
      s.on('data', onData);
    });
  });
}

const CHUNK = Buffer.alloc(1 << 20, 0x5a);

/** Sends `bytes` and waits for the sink's count: returns MiB/s, end to end. */
export async function throughput(port: number, bytes: number, socks?: { port: number }): Promise<number> {
  const s = await open(port, socks);
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    s.on('error', reject);
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(CHUNK.length, bytes - sent);
        sent += n;
        if (!s.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void s.once('drain', pump);
      }
      s.end();
    };
    let reply = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (reply = Buffer.concat([reply, d])));
    s.on('end', () => (Number(reply.readBigUInt64BE(0)) === bytes ? resolve() : reject(new Error(`sink got ${reply.readBigUInt64BE(0)} of ${bytes}`))));
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  s.destroy();
  return bytes / (1 << 20) / seconds;
}

/**
 * 1-byte request/response round trips: returns the sorted latencies in ms of the last `count`,
 * after `warmup` untimed ones (a tunnel in use is long-lived: its first exchanges are not its steady state).
 */
export async function roundTrips(port: number, count: number, socks?: { port: number }, warmup = 0): Promise<number[]> {
  const s = await open(port, socks);
  const times: number[] = [];
  const one = Buffer.from([1]);
  for (let i = 0; i < warmup + count; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      s.once('data', () => resolve());
      s.write(one);
    });
    if (i >= warmup) times.push(performance.now() - t);
  }
  s.destroy();
  return times.sort((a, b) => a - b);
}

/** New connections (connect, 1-byte echo, close) with `parallel` workers: returns connections/s. */
export async function connectionRate(port: number, total: number, parallel: number, socks?: { port: number }): Promise<number> {
  let remaining = total;
  const started = performance.now();
  const worker = async () => {
    while (remaining-- > 0) {
      const s = await open(port, socks);
      await new Promise<void>((resolve) => {
        s.once('data', () => resolve());
        s.write('x');
      });
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return total / ((performance.now() - started) / 1000);
}

/** Opens `count` connections and leaves them idle; returns them so the caller can measure, then close. */
export async function idleConnections(port: number, count: number, target: Target): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 50) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => open(port)))));
  }
  // Every connection is carried all the way only once the target holds it.
  while (target.connections() < count) await new Promise((resolve) => setTimeout(resolve, 20));
  return sockets;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
