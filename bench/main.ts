// `npm run bench`: Tunnelvision side by side with OpenSSH's `ssh -N` and with no tunnel at all,
// against the same real sshd, in the same run, alternating, medians of several runs. Writes
// BENCHMARKS.md. Not a test: it measures and reports, it asserts nothing.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cryptoReport } from '../app/engine/nativeCrypto.js';
import { freePort } from '../test/support/net.js';
import { Sshd } from '../test/support/sshd.js';
import { CIPHER, rssBytes, startTunnel, type TunnelSpec, type Variant } from './tunnels.js';
import { connectionRate, echoServer, idleConnections, median, percentile, roundTrips, sinkServer, throughput, type Target } from './workloads.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 1 : 3;
const MiB = 1 << 20;
const ONE_STREAM = (QUICK ? 64 : 512) * MiB;
const EACH_OF_8 = (QUICK ? 8 : 64) * MiB;
const ROUND_TRIPS = QUICK ? 300 : 2000;
const CONNECTIONS = QUICK ? 100 : 400;
const IDLE = QUICK ? 200 : 1000;
const VARIANTS: Variant[] = ['direct', 'openssh', 'tunnelvision'];

interface Row {
  metric: string;
  unit: string;
  /** Whether more is better (throughput) or less (latency, memory, time). */
  higherIsBetter: boolean;
  values: Partial<Record<Variant, number>>;
}

const rows: Row[] = [];
const dir = mkdtempSync(join(tmpdir(), 'tv-bench-'));
const log = (s: string) => process.stderr.write(`${s}\n`);

/**
 * The only ssh config either tool reads (-F): neither ~/.ssh/config nor /etc/ssh/ssh_config changes
 * a run. Key and known_hosts are set per host because OpenSSH does not pass -i or -o to the
 * `ssh -W` it runs for a jump host.
 */
function writeSshConfig(key: string): string {
  const file = join(dir, 'ssh_config');
  writeFileSync(file, ['Host 127.0.0.1', `  IdentityFile ${key}`, `  UserKnownHostsFile ${knownHosts}`, '  StrictHostKeyChecking yes', `  Ciphers ${CIPHER}`, ''].join('\n'));
  return file;
}

async function withTunnel<T>(variant: Variant, sshd: Sshd, spec: TunnelSpec, fn: (port: number, pid?: number) => Promise<T>): Promise<{ value: T; openMs: number }> {
  const tunnel = await startTunnel(variant, sshd, spec, knownHosts, sshConfig);
  try {
    return { value: await fn(tunnel.port, tunnel.pid), openMs: tunnel.openMs };
  } finally {
    await tunnel.stop();
  }
}

/** Runs `measure` for each variant, alternating the order each round, and records the medians. */
async function compare(metric: string, unit: string, higherIsBetter: boolean, variants: Variant[], measure: (v: Variant) => Promise<number>): Promise<void> {
  const samples: Partial<Record<Variant, number[]>> = {};
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const value = await measure(v);
      (samples[v] ??= []).push(value);
      log(`  ${metric} [${v}] run ${run + 1}: ${value.toFixed(2)} ${unit}`);
    }
  }
  const values: Row['values'] = {};
  for (const v of variants) values[v] = median(samples[v]!);
  rows.push({ metric, unit, higherIsBetter, values });
}

let knownHosts = '';
let sshConfig = '';

async function main(): Promise<void> {
  const sshd = await Sshd.start({ config: ['MaxSessions 2000', 'MaxStartups 2000'] });
  const bastion = await Sshd.start({ dir: undefined });
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine() + bastion.knownHostsLine());
  // The bastion must accept the same client key.
  writeFileSync(join(bastion.dir, 'authorized_keys'), `${sshd.clientKey.publicKey}\n`);
  sshConfig = writeSshConfig(sshd.clientKey.path);
  const sink = await sinkServer();
  const echo = await echoServer();
  try {
    await runAll(sshd, bastion, sink, echo);
  } finally {
    await sink.close();
    await echo.close();
    await sshd.dispose();
    await bastion.dispose();
  }
  writeReport();
  rmSync(dir, { recursive: true, force: true });
}

async function runAll(sshd: Sshd, bastion: Sshd, sink: Target, echo: Target): Promise<void> {
  const spec = async (kind: TunnelSpec['kind'], target: Target, jump?: Sshd): Promise<TunnelSpec> => ({ kind, port: await freePort(), targetPort: target.port, ...(jump ? { jump } : {}) });
  const socksFor = (v: Variant, kind: TunnelSpec['kind'], target: Target) => (kind === '-D' && v !== 'direct' ? { port: target.port } : undefined);

  for (const [label, kind, jump] of [
    ['-L', '-L', undefined],
    ['-R', '-R', undefined],
    ['-J (one hop) -L', '-L', bastion],
    ['-D (SOCKS5)', '-D', undefined],
  ] as const) {
    log(`${label}`);
    await compare(`${label}: throughput, 1 stream of ${ONE_STREAM / MiB} MiB`, 'MiB/s', true, VARIANTS, async (v) =>
      (await withTunnel(v, sshd, await spec(kind, sink, jump), (port) => throughput(port, ONE_STREAM, socksFor(v, kind, sink)))).value,
    );
    await compare(`${label}: throughput, 8 parallel streams of ${EACH_OF_8 / MiB} MiB`, 'MiB/s', true, VARIANTS, async (v) =>
      (
        await withTunnel(v, sshd, await spec(kind, sink, jump), async (port) => {
          const started = performance.now();
          await Promise.all(Array.from({ length: 8 }, () => throughput(port, EACH_OF_8, socksFor(v, kind, sink))));
          return (8 * EACH_OF_8) / MiB / ((performance.now() - started) / 1000);
        })
      ).value,
    );
    const latencies: Partial<Record<Variant, number[]>> = {};
    await compare(`${label}: 1-byte round trip, p50`, 'ms', false, VARIANTS, async (v) => {
      const times = (await withTunnel(v, sshd, await spec(kind, echo, jump), (port) => roundTrips(port, ROUND_TRIPS, socksFor(v, kind, echo)))).value;
      (latencies[v] ??= []).push(percentile(times, 99));
      return percentile(times, 50);
    });
    const p99: Row['values'] = {};
    for (const v of VARIANTS) p99[v] = median(latencies[v]!);
    rows.push({ metric: `${label}: 1-byte round trip, p99`, unit: 'ms', higherIsBetter: false, values: p99 });
    await compare(`${label}: new connections per second (${CONNECTIONS}, 8 at a time)`, 'conn/s', true, VARIANTS, async (v) =>
      (await withTunnel(v, sshd, await spec(kind, echo, jump), (port) => connectionRate(port, CONNECTIONS, 8, socksFor(v, kind, echo)))).value,
    );
  }

  log('open time and memory');
  await compare('-L: time from command start to forward open', 'ms', false, ['openssh', 'tunnelvision'], async (v) => (await withTunnel(v, sshd, await spec('-L', echo), async () => 0)).openMs);
  await compare('-L: memory of the tunnel process, open and idle', 'MiB', false, ['openssh', 'tunnelvision'], async (v) =>
    (await withTunnel(v, sshd, await spec('-L', echo), async (_port, pid) => rssBytes(pid!) / MiB)).value,
  );
  await compare(`-L: memory added by ${IDLE} idle connections`, 'MiB', false, ['openssh', 'tunnelvision'], async (v) =>
    (
      await withTunnel(v, sshd, await spec('-L', echo), async (port, pid) => {
        const before = rssBytes(pid!);
        const sockets = await idleConnections(port, IDLE, echo);
        const after = rssBytes(pid!);
        await Promise.all(sockets.map((s) => new Promise<void>((resolve) => (s.once('close', () => resolve()), s.destroy()))));
        return (after - before) / MiB;
      })
    ).value,
  );
  await compare('UI-facing process event-loop delay while one tunnel is saturated, p99', 'ms', false, ['tunnelvision'], () => uiSideDelay(sshd, sink));
}

/** Runs bench/uiSide (main's role) with the engine in its own process, saturates the tunnel, reads p99. */
async function uiSideDelay(sshd: Sshd, sink: Target): Promise<number> {
  const port = await freePort();
  const profile = {
    id: 'bench',
    name: 'bench',
    server: { host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [sshd.clientKey.path] } },
    hostKey: { strict: 'yes', knownHostsFiles: [knownHosts] },
    ciphers: [CIPHER],
    forwards: [{ type: 'local', bindPort: port, targetHost: '127.0.0.1', targetPort: sink.port }],
  };
  const configDir = mkdtempSync(join(dir, 'ui-'));
  const ui = spawn(process.execPath, [new URL('./uiSide.js', import.meta.url).pathname, configDir, JSON.stringify(profile)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: ui.stdout! })[Symbol.asyncIterator]();
  await lines.next();
  ui.stdin!.write('measure\n');
  await throughput(port, ONE_STREAM);
  ui.stdin!.write('report\n');
  const report = JSON.parse((await lines.next()).value as string) as { p99Ms: number };
  await new Promise((resolve) => ui.once('exit', resolve));
  return report.p99Ms;
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '–';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function ratio(row: Row, against: Variant): string {
  const tv = row.values.tunnelvision;
  const other = row.values[against];
  if (tv === undefined || other === undefined || other === 0) return '–';
  return `${(tv / other).toFixed(2)}×`;
}

function writeReport(): void {
  const crypto = cryptoReport();
  // ssh -V prints to stderr.
  const sshVersion = execFileSync('sh', ['-c', 'ssh -V 2>&1'], { encoding: 'utf8' }).trim();
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}${QUICK ? ' (BENCH_QUICK=1: small sizes, one run — not comparable)' : ''}. Regenerate it with that command; do not edit by hand.`,
    '',
    '## Machine and method',
    '',
    `- CPU: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node.js ${process.versions.node}; ${sshVersion}.`,
    `- Cipher: \`${CIPHER}\` for both tunnels (\`ssh -c\`, \`tunnelvision connect -c\`); ssh2 native crypto binding ${crypto.nativeBinding ? 'loaded' : 'NOT loaded'}; AES-NI ${crypto.aesNi ? 'yes' : 'no'}.`,
    '- One real OpenSSH sshd on 127.0.0.1 (a second one as the jump host); targets are a byte-counting sink and an echo server on 127.0.0.1, in the benchmark process.',
    '- Commands: `ssh -F <empty> -f -N -o ExitOnForwardFailure=yes -c aes128-gcm@openssh.com -p PORT -i KEY -L P:127.0.0.1:T user@127.0.0.1` ' +
      '(`-f` with ExitOnForwardFailure returns once the forwards are up: OpenSSH\'s own "open"), and `tunnelvision connect --json -F <empty> -c aes128-gcm@openssh.com -p PORT -i KEY -L P:127.0.0.1:T user@127.0.0.1` (open = its `"state":"open"` event). Same for -R, -D, -J.',
    `- Each figure is the median of ${RUNS} runs; variants alternate order each run. "direct" is the same workload with no tunnel.`,
    '- Ratios are Tunnelvision ÷ other: above 1 is better for throughput and connection rate, below 1 is better for latency, time and memory.',
    '',
    '## Results',
    '',
    '| Metric | Unit | direct | OpenSSH | Tunnelvision | TV ÷ OpenSSH | TV ÷ direct |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.metric} | ${r.unit} | ${fmt(r.values.direct)} | ${fmt(r.values.openssh)} | ${fmt(r.values.tunnelvision)} | ${ratio(r, 'openssh')} | ${ratio(r, 'direct')} |`),
    '',
  ];
  writeFileSync(new URL('../../../BENCHMARKS.md', import.meta.url), lines.join('\n'));
  log('wrote BENCHMARKS.md');
}

await main();
