// A/B of Tunnelvision builds or settings against OpenSSH, in one run, alternating, medians: for
// measuring one lever at a time (not part of BENCHMARKS.md). Settings reach the CLI process as
// environment variables; `--prof DIR` also writes a .cpuprofile per Tunnelvision run.
//   node out/bench/bench/ab.js [--kind -L|-R|-D] [--mib 128] [--streams 1] [--runs 3] [--workload throughput|rtt|rate]
//        [--prof DIR] [--no-openssh] [--direct] [--jump] label[:ENV=V,ENV=V,BIN=path/to/bin/tunnelvision.js] …
// --jump goes through a second sshd as a jump host (-J).
// The label "bare" runs bench/bare.js, a bare ssh2 forward (-L only).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/net.js';
import { Sshd } from '../test/support/sshd.js';
import { CIPHER, cpuMs, minorFaults, rssBytes, startTunnel, type TunnelExtra, type TunnelSpec, type Variant } from './tunnels.js';
import { connectionRate, echoServer, median, percentile, roundTrips, sinkServer, throughput } from './workloads.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value ?? fallback;
};
const flag = (name: string) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const kind = opt('--kind', '-L') as TunnelSpec['kind'];
const MiB = 1 << 20;
const bytes = Number(opt('--mib', '128')) * MiB;
const streams = Number(opt('--streams', '1'));
const runs = Number(opt('--runs', '3'));
const workload = opt('--workload', 'throughput');
const cipher = opt('--cipher', CIPHER);
const profDir = opt('--prof', '');
const withOpenssh = !flag('--no-openssh');
const withDirect = flag('--direct');
const withJump = flag('--jump');
const warmup = Number(opt('--warm', '0'));
const conns = Number(opt('--conns', '300'));

interface Arm {
  label: string;
  variant: Variant;
  extra: TunnelExtra;
}

const arms: Arm[] = [];
if (withDirect) arms.push({ label: 'direct', variant: 'direct', extra: {} });
if (withOpenssh) arms.push({ label: 'openssh', variant: 'openssh', extra: { cipher } });
for (const a of args.length ? args : ['tunnelvision']) {
  const colon = a.indexOf(':');
  const label = colon < 0 ? a : a.slice(0, colon);
  const envList = colon < 0 ? undefined : a.slice(colon + 1);
  const env: Record<string, string> = {};
  let bin: string | undefined;
  for (const pair of envList ? envList.split(',') : []) {
    const eq = pair.indexOf('=');
    if (pair.startsWith('BIN=')) bin = pair.slice(4);
    else if (eq < 0) env[pair] = '1';
    else env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  arms.push({ label, variant: 'tunnelvision', extra: { env, cipher, ...(label === 'bare' ? { bare: true } : {}), ...(bin ? { bin } : {}) } });
}

const dir = mkdtempSync(join(tmpdir(), 'tv-ab-'));
const sshd = await Sshd.start({ config: ['MaxSessions 2000', 'MaxStartups 2000'] });
const bastion = withJump ? await Sshd.start({ dir: undefined }) : undefined;
const knownHosts = join(dir, 'known_hosts');
writeFileSync(knownHosts, sshd.knownHostsLine() + (bastion?.knownHostsLine() ?? ''));
// The bastion must accept the same client key.
if (bastion) writeFileSync(join(bastion.dir, 'authorized_keys'), `${sshd.clientKey.publicKey}\n`);
const sshConfig = join(dir, 'ssh_config');
writeFileSync(sshConfig, ['Host 127.0.0.1', `  IdentityFile ${sshd.clientKey.path}`, `  UserKnownHostsFile ${knownHosts}`, '  StrictHostKeyChecking yes', `  Ciphers ${cipher}`, ''].join('\n'));
const sink = await sinkServer();
const echo = await echoServer();
const socks = (v: Variant, port: number) => (kind === '-D' && v !== 'direct' ? { port } : undefined);

async function measure(arm: Arm, run: number): Promise<number> {
  const target = workload === 'throughput' ? sink : echo;
  const spec: TunnelSpec = { kind, port: await freePort(), targetPort: target.port, ...(bastion ? { jump: bastion } : {}) };
  // NODE_ARGS=… in an arm: flags for node's command line, space-separated.
  const nodeArgs = arm.extra.env?.NODE_ARGS?.split(' ') ?? [];
  if (profDir && arm.variant === 'tunnelvision') nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${arm.label}-${run}.cpuprofile`);
  const extra: TunnelExtra = { ...arm.extra, ...(nodeArgs.length ? { nodeArgs } : {}) };
  const t = await startTunnel(arm.variant, sshd, spec, knownHosts, sshConfig, extra);
  try {
    if (workload === 'rtt') return percentile(await roundTrips(t.port, 1000, socks(arm.variant, target.port), warmup), 50);
    // Awaited here, not returned: the tunnel is stopped in `finally` as soon as this returns.
    if (workload === 'rate') {
      if (warmup > 0) await connectionRate(t.port, warmup, 8, socks(arm.variant, target.port));
      const before = t.pid ? cpuMs(t.pid) : 0;
      const rate = await connectionRate(t.port, conns, 8, socks(arm.variant, target.port));
      if (t.pid) cpu.set(arm.label, [...(cpu.get(arm.label) ?? []), ((cpuMs(t.pid) - before) / conns) * 1000]);
      return rate;
    }
    if (workload === 'open') return t.openMs;
    // SESSIONS=N in an arm: N tunnel processes (an SSH session each), the streams dealt among them:
    // the most that spreading streams over sessions and cores could give. CPU is all of theirs.
    const sessions = Number(arm.extra.env?.SESSIONS ?? 1);
    const more = arm.variant === 'tunnelvision' ? await Promise.all(Array.from({ length: sessions - 1 }, async () => startTunnel(arm.variant, sshd, { ...spec, port: await freePort() }, knownHosts, sshConfig, arm.extra))) : [];
    const ports = [t.port, ...more.map((m) => m.port)];
    const pids = [t, ...more].flatMap((x) => (x.pid ? [x.pid] : []));
    const cpuOfAll = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    try {
      const cpuBefore = cpuOfAll();
      const faultsBefore = t.pid ? minorFaults(t.pid) : 0;
      const started = performance.now();
      await Promise.all(Array.from({ length: streams }, (_, i) => throughput(ports[i % ports.length]!, bytes / streams, socks(arm.variant, target.port))));
      const mibs = bytes / MiB / ((performance.now() - started) / 1000);
      if (pids.length) cpu.set(arm.label, [...(cpu.get(arm.label) ?? []), ((cpuOfAll() - cpuBefore) / (bytes / MiB)) * 1000]);
      if (t.pid) faults.set(arm.label, [...(faults.get(arm.label) ?? []), (minorFaults(t.pid) - faultsBefore) / (bytes / MiB)]);
      if (t.pid) rss.set(arm.label, [...(rss.get(arm.label) ?? []), rssBytes(t.pid) / MiB]);
      return mibs;
    } finally {
      await Promise.all(more.map((m) => m.stop()));
    }
  } finally {
    await t.stop();
  }
}

const samples = new Map<string, number[]>();
/** CPU µs the tunnel processes spent per MiB carried (per connection for --workload rate): what decides throughput when the cores are shared. */
const cpu = new Map<string, number[]>();
const rss = new Map<string, number[]>();
const faults = new Map<string, number[]>();
try {
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? arms : [...arms].reverse();
    for (const arm of order) {
      const value = await measure(arm, run);
      samples.set(arm.label, [...(samples.get(arm.label) ?? []), value]);
      process.stderr.write(`  ${arm.label} run ${run + 1}: ${value.toFixed(2)}\n`);
    }
  }
} finally {
  await sink.close();
  await echo.close();
  await sshd.dispose();
  await bastion?.dispose();
  rmSync(dir, { recursive: true, force: true });
}
const base = samples.get('openssh') ? median(samples.get('openssh')!) : undefined;
const cpuBase = cpu.get('openssh') ? median(cpu.get('openssh')!) : undefined;
const unit = workload === 'rtt' ? 'ms p50' : workload === 'rate' ? 'conn/s' : workload === 'open' ? 'ms' : 'MiB/s';
process.stdout.write(`${bastion ? '-J ' : ''}${kind} ${workload} ${workload === 'throughput' ? `${bytes / MiB} MiB in ${streams} stream(s)` : ''}, ${cipher}, ${runs} runs (${unit}, median)\n`);
for (const arm of arms) {
  const m = median(samples.get(arm.label)!);
  const c = cpu.get(arm.label);
  const r = rss.get(arm.label);
  const cpuText = (c ? `  CPU ${median(c).toFixed(0)} µs/${workload === 'rate' ? 'conn' : 'MiB'}${cpuBase ? ` (${(median(c) / cpuBase).toFixed(2)}×)` : ''}` : '') + (r ? `  RSS after ${median(r).toFixed(0)} MiB` : '') + (faults.get(arm.label) ? `  faults ${median(faults.get(arm.label)!).toFixed(0)}/MiB` : '');
  process.stdout.write(`  ${arm.label.padEnd(20)} ${m.toFixed(2).padStart(9)}${base ? `  ${(m / base).toFixed(2)}× OpenSSH` : ''}${cpuText}   [${samples.get(arm.label)!.map((x) => x.toFixed(1)).join(', ')}]\n`);
}
