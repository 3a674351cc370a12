// `npm run soak [-- --minutes N]`: one tunnel through a real sshd for N minutes (default 30) with
// steady hash-checked traffic, while sshd is restarted about every minute. Reports how long each
// reconnect took, how many connections and bytes got through, and whether any byte came back
// wrong; writes RELIABILITY.md. Not part of `npm test`: it takes half an hour on purpose.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus } from 'node:os';
import { Tunnel, type TunnelState } from '../app/engine/tunnel.js';
import { freePort } from '../test/support/net.js';
import { profileFor } from '../test/support/profiles.js';
import { hashServer } from '../test/support/servers.js';
import { Sshd } from '../test/support/sshd.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`soak: --${name} needs a positive number, not "${process.argv[i + 1] ?? ''}"\n`);
    process.exit(2);
  }
  return value;
}

const MINUTES = option('minutes', 30);
const RESTART_EVERY_S = option('restart-seconds', 60);
/** Clients sending at once, each one connection after another, without pause. */
const WORKERS = 8;
const MAX_PAYLOAD = 1 << 20;

const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

interface Totals {
  /** Replies that matched what was sent. */
  verified: number;
  bytes: number;
  /** A complete reply that did not match: a corrupted byte somewhere. Must stay 0. */
  corrupted: number;
  /** Cut by a restart before the whole reply arrived: the client sees a closed connection, never wrong data. */
  interrupted: number;
  /** Refused or reset before anything came back (e.g. no session within the connect timeout). */
  failed: number;
}

const totals: Totals = { verified: 0, bytes: 0, corrupted: 0, interrupted: 0, failed: 0 };

/** One connection: random payload, half-close, compare the SHA-256 the target answers with. */
function exchange(port: number): Promise<void> {
  const size = 1 + Math.floor(Math.random() * MAX_PAYLOAD);
  const payload = randomBytes(size);
  const sent = createHash('sha256').update(payload).digest('hex');
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let reply = '';
    let settled = false;
    const settle = (outcome: keyof Omit<Totals, 'bytes'>) => {
      if (settled) return;
      settled = true;
      totals[outcome]++;
      if (outcome === 'verified') totals.bytes += size;
      sock.destroy();
      resolve();
    };
    const outcome = () => (reply.length < sent.length ? (reply ? 'interrupted' : 'failed') : reply === sent ? 'verified' : 'corrupted');
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (reply += d));
    sock.on('error', () => settle(reply ? 'interrupted' : 'failed'));
    sock.on('end', () => settle(outcome()));
    sock.on('close', () => settle(outcome()));
    sock.end(payload);
  });
}

function nextState(tunnel: Tunnel, name: TunnelState['state']): Promise<TunnelState> {
  return new Promise((resolve) => {
    const off = tunnel.on('state', (s) => {
      if (s.state === name) {
        off();
        resolve(s);
      }
    });
  });
}

function stats(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted.at(-1)! };
}

async function main(): Promise<number> {
  const sshd = await Sshd.start();
  const target = await hashServer();
  const bindPort = await freePort();
  // The profile's defaults (keepalive 15 s × 3, backoff from 1 s with jitter), as a person would have them.
  const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }], reconnect: { enabled: true } }) });
  const reconnects: number[] = [];
  let unexpected: string | undefined;
  tunnel.on('state', (s) => {
    if (s.state === 'failed') unexpected = `the tunnel failed: ${s.error.message}`;
  });
  tunnel.start();
  await tunnel.whenOpen();
  const started = Date.now();
  const endAt = started + MINUTES * 60_000;
  log(`soak: ${MINUTES} min, ${WORKERS} clients, sshd restarted every ${RESTART_EVERY_S} s; tunnel 127.0.0.1:${bindPort} → sshd ${sshd.port} → target ${target.port}`);

  let running = true;
  const workers = Array.from({ length: WORKERS }, async () => {
    while (running) await exchange(bindPort);
  });

  while (Date.now() < endAt && !unexpected) {
    const wait = Math.min(RESTART_EVERY_S * 1000, endAt - Date.now());
    await new Promise((resolve) => setTimeout(resolve, wait));
    if (Date.now() >= endAt) break;
    const reopened = nextState(tunnel, 'open');
    const t0 = performance.now();
    await sshd.restart();
    await reopened;
    const ms = performance.now() - t0;
    reconnects.push(ms);
    log(`restart ${reconnects.length}: open again after ${ms.toFixed(0)} ms; so far ${totals.verified} verified, ${totals.corrupted} corrupted, ${totals.interrupted} interrupted, ${totals.failed} failed`);
  }
  running = false;
  await Promise.all(workers);
  const elapsedMin = (Date.now() - started) / 60_000;
  const final = tunnel.stats()[0]!;
  await tunnel.stop();
  await target.close();
  await sshd.dispose();

  const r = reconnects.length ? stats(reconnects) : undefined;
  const gib = (totals.bytes / 2 ** 30).toFixed(2);
  const lines = [
    '# Reliability',
    '',
    'Written by `npm run soak` (`soak/main.ts`): one Tunnelvision tunnel (`-L`) through a real OpenSSH',
    `sshd on loopback, ${WORKERS} clients sending random payloads (1 B–1 MiB) back to back, each checked`,
    'against the SHA-256 the target computes; sshd is killed and started again (same port and keys)',
    `every ${RESTART_EVERY_S} s. The tunnel keeps its defaults (keepalive 15 s × 3, backoff from 1 s with jitter).`,
    '',
    `Run: ${new Date().toISOString()}, ${elapsedMin.toFixed(1)} minutes, Node ${process.versions.node}, ${cpus().length} cores.`,
    '',
    '| Figure | Value |',
    '| --- | --- |',
    `| sshd restarts | ${reconnects.length} |`,
    `| reconnect time (restart begun → open again), min / median / max | ${r ? `${r.min.toFixed(0)} / ${r.median.toFixed(0)} / ${r.max.toFixed(0)} ms` : 'no restart in so short a run'} |`,
    `| connections verified (hash matched) | ${totals.verified} |`,
    `| bytes verified | ${totals.bytes} (${gib} GiB) |`,
    `| connections cut by a restart before their reply was complete | ${totals.interrupted} |`,
    `| connections closed before any reply (in flight at a restart, or no session in time) | ${totals.failed} |`,
    `| connections the tunnel counted as failed | ${final.failed} |`,
    `| **corrupted replies (complete but wrong)** | **${totals.corrupted}** |`,
    '',
    totals.corrupted === 0 && !unexpected
      ? 'Zero corrupted bytes: every reply that arrived whole matched what was sent. A restart only ever cuts the connections in flight, which their clients see as closed.'
      : `FAILED: ${unexpected ?? `${totals.corrupted} corrupted replies`}.`,
    '',
  ];
  writeFileSync('RELIABILITY.md', lines.join('\n'));
  process.stdout.write(lines.join('\n'));
  return totals.corrupted === 0 && !unexpected ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
