// Load against real OpenSSH: 1,000 concurrent connections through one forward, and 50 profiles
// open at once. Every payload is hash-checked, nothing fails, and afterwards this process's file
// descriptors, its live sockets and SSH channels are back exactly where they started and its heap
// near it.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { queryObjects, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tunnel } from '../app/engine/tunnel.js';
import { freePort } from './support/net.js';
import { profileFor } from './support/profiles.js';
import { hashServer, sendAndHash, type TcpTarget } from './support/servers.js';
import { Sshd } from './support/sshd.js';

const CONNECTIONS = 1_000;
const PROFILES = 50;
const PER_PROFILE = 4;
// Two shared cores: nothing below asserts on speed, so the bounds only stop a hang.
const LOAD_TIMEOUT_MS = 240_000;
const SETTLE = { timeout: 30_000, interval: 100 };
/**
 * After a full GC the JS heap must come back within this much of where it started: a leak of a
 * few hundred bytes per connection (a listener, a buffer, a closure) would show as several MiB
 * after 1,000 connections, while V8's own bookkeeping (compiled code, inline caches) moves by ~1–2 MiB.
 */
const HEAP_TOLERANCE = 8 * 1024 * 1024;
/**
 * The load runs twice; once the first round has compiled and cached what it needs, the second may
 * leave the collected heap no bigger than this over the first: 2 KiB per connection, less than one
 * forgotten socket with its listeners.
 */
const HEAP_REPEAT_TOLERANCE = 2 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * ssh2's channel class, from the same module instance the engine loads. Together with node's
 * Socket it is what every forwarded connection creates (three sockets in this process, one
 * channel), so a connection that is never let go shows up here one by one. Counted on the heap
 * after a full GC (v8.queryObjects), which unlike RSS does not depend on what else the machine is
 * running or on when glibc hands memory back.
 */
const { Channel } = createRequire(import.meta.url)('ssh2/lib/Channel.js') as { Channel: new (...args: never[]) => unknown };

function liveObjects(): { sockets: number; channels: number } {
  return { sockets: queryObjects(Socket, { format: 'count' }), channels: queryObjects(Channel, { format: 'count' }) };
}

type Baseline = { fds: number; heap: number; rss: number; objects: ReturnType<typeof liveObjects> };

// Each profile is its own SSH connection, all opened at the same moment. sshd's default
// MaxStartups (10:30:100) randomly drops new connections once 10 are still unauthenticated, which
// 50 simultaneous handshakes exceed; a server expecting that many clients raises it, as here.
let sshd: Sshd;
let target: TcpTarget;
let liveAtTarget = 0;

beforeAll(async () => {
  sshd = await Sshd.start({ config: [`MaxStartups ${PROFILES * 2}`] });
  target = await hashServer('127.0.0.1', () => {
    liveAtTarget++;
    return () => liveAtTarget--;
  });
});

afterAll(async () => {
  await target?.close();
  await sshd?.dispose();
});

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function memory(): { heap: number; rss: number } {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

function sizeOf(i: number): number {
  // 1 byte to 64 KiB, spread so neighbours differ and chunk boundaries fall everywhere.
  return 1 + ((i * 7919) % 65_536);
}

/** The soft limit on open files, from /proc/self/limits (Node has no getrlimit). */
function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

async function tunnelTo(bindPort: number, id = 'load'): Promise<Tunnel> {
  const tunnel = new Tunnel({ profile: profileFor(sshd, { id, name: id, forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }) });
  tunnel.start();
  await tunnel.whenOpen();
  return tunnel;
}

/** Where fds and memory stand once the code paths have run once (modules loaded, code compiled). */
async function warmBaseline(): Promise<Baseline> {
  const fds = openFds();
  const bindPort = await freePort();
  const tunnel = await tunnelTo(bindPort, 'warm-up');
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sendAndHash(bindPort, sizeOf(i))));
  for (const r of results) expect(r.reply).toBe(r.sent);
  await tunnel.stop();
  await expect.poll(openFds, SETTLE).toBe(fds);
  return { fds, ...memory(), objects: liveObjects() };
}

async function expectBackToBaseline(base: Baseline): Promise<{ heap: number; rss: number }> {
  await expect.poll(openFds, SETTLE).toBe(base.fds);
  // Not one socket or channel of the 1,000 (or of the 50 sessions) is still reachable.
  await expect.poll(liveObjects, SETTLE).toEqual(base.objects);
  await expect.poll(() => memory().heap - base.heap, SETTLE).toBeLessThan(HEAP_TOLERANCE);
  return memory();
}

const mib = (n: number) => (n / 1024 / 1024).toFixed(1);

/** One round: 1,000 connections held open together, then answered; memory once all is closed again. */
async function thousandAtOnce(base: Baseline): Promise<{ heap: number; rss: number }> {
  const bindPort = await freePort();
  const tunnel = await tunnelTo(bindPort);
  try {
    // Every client sends its payload and holds its side open until the target holds all of
    // them: 1,000 channels really open at once, not 1,000 short ones in a row.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const results = Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => sendAndHash(bindPort, sizeOf(i), '127.0.0.1', gate)));
    await expect.poll(() => liveAtTarget, { timeout: LOAD_TIMEOUT_MS / 2, interval: 50 }).toBe(CONNECTIONS);
    expect(tunnel.stats()[0]!.active).toBe(CONNECTIONS);
    release();
    expect((await results).filter((r) => r.reply !== r.sent)).toEqual([]);
    await expect.poll(() => tunnel.stats()[0]!.active, SETTLE).toBe(0);
    const stats = tunnel.stats()[0]!;
    expect(stats).toMatchObject({ total: CONNECTIONS, failed: 0 });
    expect(stats.lastError).toBeUndefined();
    expect(stats.bytesToTarget).toBe(Array.from({ length: CONNECTIONS }, (_, i) => sizeOf(i)).reduce((a, b) => a + b));
    expect(tunnel.state.state).toBe('open');
  } finally {
    await tunnel.stop();
  }
  return expectBackToBaseline(base);
}

describe('load', () => {
  it('the open-files limit leaves room for the test (3 fds per connection in this process)', () => {
    // Per connection this process holds the client socket, the forwarded socket and the target's.
    expect(openFileLimit(), 'raise the limit with `ulimit -n 8192` before running the tests').toBeGreaterThanOrEqual(CONNECTIONS * 3 + 1_024);
  });

  it(`${CONNECTIONS} concurrent connections through one forward, twice: every payload intact, no errors, fds, sockets, channels and heap back`, { timeout: LOAD_TIMEOUT_MS }, async () => {
    const base = await warmBaseline();
    const first = await thousandAtOnce(base);
    const second = await thousandAtOnce(base);
    // RSS is printed for the record only: it depends on the allocator and on the machine's other work.
    console.log(`load: heap ${mib(base.heap)} → ${mib(first.heap)} → ${mib(second.heap)} MiB, rss ${mib(base.rss)} → ${mib(first.rss)} → ${mib(second.rss)} MiB, live ${JSON.stringify(base.objects)}`);
    expect(second.heap - first.heap).toBeLessThan(HEAP_REPEAT_TOLERANCE);
  });

  it(`${PROFILES} profiles open at once against one sshd: each carries its own payloads intact; fds, sockets, channels and heap back`, { timeout: LOAD_TIMEOUT_MS }, async () => {
    const base = await warmBaseline();
    const ports = await Promise.all(Array.from({ length: PROFILES }, () => freePort()));
    const tunnels = await Promise.all(ports.map((port, i) => tunnelTo(port, `load-${i}`)));
    try {
      expect(tunnels.map((t) => t.state.state)).toEqual(Array.from({ length: PROFILES }, () => 'open'));
      const results = await Promise.all(ports.flatMap((port, i) => Array.from({ length: PER_PROFILE }, (_, j) => sendAndHash(port, sizeOf(i * PER_PROFILE + j) * 4))));
      expect(results.filter((r) => r.reply !== r.sent)).toEqual([]);
      for (const t of tunnels) expect(t.stats()[0]).toMatchObject({ total: PER_PROFILE, failed: 0 });
    } finally {
      await Promise.all(tunnels.map((t) => t.stop()));
    }
    const after = await expectBackToBaseline(base);
    console.log(`load: ${PROFILES} profiles: heap ${mib(base.heap)} → ${mib(after.heap)} MiB, rss ${mib(base.rss)} → ${mib(after.rss)} MiB`);
  });
});
