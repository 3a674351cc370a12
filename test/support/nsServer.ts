// A web page or hash server inside a namespace (test/fixtures/netServer.mjs), and TCP probes made
// from inside one: what a host there can reach, seen from there.
import type { ChildProcess } from 'node:child_process';
import type { Netns } from './netns.js';
import { killTree, waitForExit } from './proc.js';

const SCRIPT = new URL('../fixtures/netServer.mjs', import.meta.url).pathname;

export interface NsServer {
  port: number;
  dispose(): Promise<void>;
}

export async function serverIn(netns: Netns, mode: 'http' | 'hash', host: string, port: number): Promise<NsServer> {
  const proc: ChildProcess = netns.spawn(process.execPath, [SCRIPT, mode, host, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const bound = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`${mode} server in ${netns.name} exited (${code}) before listening`)));
  });
  return {
    port: bound,
    async dispose() {
      const exited = waitForExit(proc);
      killTree(proc.pid!);
      await exited;
    },
  };
}

/** `connected`, an errno code (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH…) or TIMEOUT, from inside `netns`. */
export async function probeFrom(netns: Netns, host: string, port: number, timeoutMs = 2_000): Promise<string> {
  const r = await netns.run(process.execPath, [SCRIPT, 'probe', host, String(port), String(timeoutMs)], timeoutMs + 10_000);
  return r.stdout.trim() || `no answer (${r.stderr.trim()})`;
}
