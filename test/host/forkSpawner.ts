// The Node side of the spawner seam: child_process.fork shaped like Electron's utilityProcess
// (postMessage, on('message'), on('exit'), kill), so EngineHost runs a real engine process here.
import { fork, type ChildProcess } from 'node:child_process';
import type { ChildLike, Spawner } from '../../app/host/engineHost.js';

export interface ForkSpawner extends Spawner {
  /** Every process started, oldest first. */
  children: ChildProcess[];
}

export function forkSpawner(env: NodeJS.ProcessEnv): ForkSpawner {
  const children: ChildProcess[] = [];
  const spawn = (entry: string): ChildLike => {
    const child = fork(entry, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    return {
      postMessage: (m) => {
        if (child.connected) child.send(m as object);
      },
      on: (event: 'message' | 'exit', listener: (arg: never) => void) => {
        if (event === 'exit') child.on('exit', (code) => (listener as (c: number | null) => void)(code));
        else child.on('message', listener as (m: unknown) => void);
      },
      kill: () => void child.kill(),
    } as ChildLike;
  };
  return Object.assign(spawn, { children });
}
