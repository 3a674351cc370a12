// Runs the real `tunnelvision` bin as a subprocess and reads its --json events as they come.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Netns } from './netns.js';

const BIN = new URL('../../bin/tunnelvision.js', import.meta.url).pathname;

export type CliEvent = Record<string, unknown> & { event: string };

export interface CliRun {
  proc: ChildProcessWithoutNullStreams;
  events: CliEvent[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first event (already seen or still to come) that matches. */
  waitFor(pred: (e: CliEvent) => boolean, what?: string): Promise<CliEvent>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the bin here, or inside `netns` (`ip netns exec` execs node itself, so `proc` is still the CLI). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, netns?: Netns): CliRun {
  const options = { env: { ...process.env, ...env }, stdio: 'pipe' as const };
  const proc = (netns ? netns.spawn(process.execPath, [BIN, ...args], options) : spawn(process.execPath, [BIN, ...args], options)) as ChildProcessWithoutNullStreams;
  proc.stdin.end();
  let out = '';
  let err = '';
  const events: CliEvent[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: proc.stdout }).on('line', (line) => {
    out += `${line}\n`;
    if (line.startsWith('{')) {
      try {
        events.push(JSON.parse(line) as CliEvent);
      } catch {
        // Human output; stdout() still has it.
      }
    }
    for (const w of waiters) w();
  });
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    events,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor(pred, what = 'event') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(pred);
          if (found) {
            waiters.delete(check);
            resolve(found);
          }
        };
        waiters.add(check);
        check();
        void exit.then(() => {
          check();
          if (waiters.has(check)) {
            waiters.delete(check);
            reject(new Error(`tunnelvision exited before ${what}.\nstdout:\n${out}\nstderr:\n${err}`));
          }
        });
      });
    },
  };
}
