// The tunnels a benchmark compares, each started as a person would start it: a direct TCP
// connection (no tunnel), OpenSSH's `ssh -N`, and `tunnelvision connect`, all against one sshd.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, readdirSync } from 'node:fs';
import type { Sshd } from '../test/support/sshd.js';
import { killTree, waitForExit } from '../test/support/proc.js';

export const CIPHER = 'aes128-gcm@openssh.com';
// Compiled to out/bench/bench/: the package's bin is three levels up.
const BIN = new URL('../../../bin/tunnelvision.js', import.meta.url).pathname;

export type Variant = 'direct' | 'openssh' | 'tunnelvision';

export interface RunningTunnel {
  variant: Variant;
  /** The port clients connect to (the forward's local end, or the target itself for direct). */
  port: number;
  /** ms from spawning the command to the forward being usable. */
  openMs: number;
  pid?: number;
  stop(): Promise<void>;
}

export interface TunnelSpec {
  kind: '-L' | '-R' | '-D';
  /** The local port to listen on (-L/-D) or the server-side port (-R). */
  port: number;
  targetPort: number;
  /** One jump host (another sshd) for -J runs. */
  jump?: Sshd;
}

function forwardArg(spec: TunnelSpec): string[] {
  if (spec.kind === '-D') return ['-D', `127.0.0.1:${spec.port}`];
  return [spec.kind, `${spec.port}:127.0.0.1:${spec.targetPort}`];
}

function commonSshOptions(sshd: Sshd, knownHosts: string, cipher = CIPHER): string[] {
  return ['-p', String(sshd.port), '-i', sshd.clientKey.path, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-c', cipher];
}

/** Extra settings for Tunnelvision's process: node flags (--cpu-prof) and environment. */
export interface TunnelExtra {
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Instead of CIPHER, for both OpenSSH and Tunnelvision (cipher A/B runs). */
  cipher?: string;
  /** Another build's bin/tunnelvision.js (A/B against a baseline). */
  bin?: string;
  /** Run bench/bare.js (a bare ssh2 -L forward, -L only) instead of Tunnelvision. */
  bare?: boolean;
}

export async function startTunnel(variant: Variant, sshd: Sshd, spec: TunnelSpec, knownHosts: string, sshConfig: string, extra: TunnelExtra = {}): Promise<RunningTunnel> {
  if (variant === 'direct') return { variant, port: spec.targetPort, openMs: 0, stop: async () => {} };
  const started = performance.now();
  const jump = spec.jump ? ['-J', `${spec.jump.user}@127.0.0.1:${spec.jump.port}`] : [];
  if (variant === 'openssh') {
    // -f with ExitOnForwardFailure: ssh forks to the background once every forward is set up,
    // which is OpenSSH's own "open" moment.
    const args = ['-F', sshConfig, '-f', '-N', '-o', 'ExitOnForwardFailure=yes', ...commonSshOptions(sshd, knownHosts, extra.cipher), ...jump, ...forwardArg(spec), `${sshd.user}@127.0.0.1`];
    const proc = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    if (code !== 0) throw new Error(`ssh failed (${code}): ${err}`);
    const openMs = performance.now() - started;
    const pid = findSshPid(spec);
    return {
      variant,
      port: spec.port,
      openMs,
      ...(pid ? { pid } : {}),
      stop: async () => {
        if (pid) killTree(pid, 'SIGTERM');
      },
    };
  }
  const args = extra.bare
    ? [String(sshd.port), sshd.clientKey.path, sshd.user, extra.cipher ?? CIPHER, String(spec.port), String(spec.targetPort)]
    : ['connect', '--json', '-F', sshConfig, ...commonSshOptions(sshd, knownHosts, extra.cipher), ...jump, ...forwardArg(spec), `${sshd.user}@127.0.0.1`];
  const bin = extra.bare ? new URL('./bare.js', import.meta.url).pathname : (extra.bin ?? BIN);
  const proc: ChildProcess = spawn(process.execPath, [...(extra.nodeArgs ?? []), bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(extra.env ? { env: { ...process.env, ...extra.env } } : {}),
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.includes('"state":"open"')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`tunnelvision exited (${code}) before open: ${err}`)));
  });
  const openMs = performance.now() - started;
  return {
    variant,
    port: spec.port,
    openMs,
    ...(proc.pid ? { pid: proc.pid } : {}),
    stop: async () => {
      const exited = waitForExit(proc);
      proc.kill('SIGINT');
      await exited;
    },
  };
}

/** ssh -f daemonises; find the backgrounded process by its forward argument. */
function findSshPid(spec: TunnelSpec): number | undefined {
  const needle = forwardArg(spec).join('\0');
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.startsWith('ssh\0') && cmd.includes(needle)) return Number(entry);
    } catch {
      // Gone.
    }
  }
  return undefined;
}

/** Resident memory of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** CPU time a process has used so far, user + system, all threads, in ms (/proc/PID/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here; USER_HZ is 100 on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Minor page faults of a process so far (/proc/PID/stat): memory the kernel had to map on first touch. */
export function minorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[7]);
}
