// Entry point of the engine process. Electron's main starts it with utilityProcess.fork (then
// `process.parentPort` exists); tests and the UI bridge start it with child_process.fork (then
// `process.send`). Either way the contract is served on that one channel, plus two messages of the
// process's own: secret look-ups and writes (main holds safeStorage) and a graceful shutdown.
import { randomUUID } from 'node:crypto';
import type { SecretUse } from '../profiles/secretUse.js';
import type { MessagePortLike } from '../shared/rpc.js';
import { serveService } from '../shared/rpc.js';
import { installCrashReport, rememberSecret } from '../shared/crash.js';
import { defaultConfigDir } from '../profiles/store.js';
import { EngineService } from './engineService.js';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  off(event: 'message', listener: (e: { data: unknown }) => void): void;
}

/** Messages between the engine process and its parent that are not part of the contract. */
export type ControlMessage =
  /** A secret for `profileId`, to be sent to `use`: main answers only if it was stored for that use. */
  | { t: 'secret?'; id: string; ref: string; use: SecretUse; profileId: string }
  | { t: 'secret!'; id: string; value: string | null }
  /** A secret the engine obtained itself (a Cloud Foundry login), to keep under `ref` for `use`. */
  | { t: 'keep-secret'; id: string; ref: string; value: string; use: SecretUse }
  | { t: 'kept-secret'; id: string; stored: boolean; reason?: string }
  | { t: 'forget-secret'; ref: string }
  | { t: 'shutdown' }
  | { t: 'shutdown-done' }
  | { t: 'ready' };

function parentChannel(): MessagePortLike {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      postMessage: (m) => parentPort.postMessage(m),
      onMessage: (listener) => {
        const h = (e: { data: unknown }) => listener(e.data);
        parentPort.on('message', h);
        return () => parentPort.off('message', h);
      },
    };
  }
  if (!process.send) throw new Error('The engine process must be started by Tunnelvision (utilityProcess or child_process.fork).');
  return {
    postMessage: (m) => process.send!(m),
    onMessage: (listener) => {
      process.on('message', listener);
      return () => process.off('message', listener);
    },
  };
}

const channel = parentChannel();
// A bug that crashes the engine is reported on stderr without the secrets it was handed: those
// from the secret store and the answers to prompts. 70: EX_SOFTWARE; the host restarts it.
installCrashReport('tunnelvision engine', 70);
channel.onMessage((msg) => {
  const m = msg as { t?: unknown; value?: unknown; m?: unknown; a?: unknown } | null;
  if (m?.t === 'secret!') rememberSecret(m.value);
  else if (m?.t === 'call' && m.m === 'answerPrompt' && Array.isArray(m.a)) [m.a[1]].flat().forEach((answer) => rememberSecret(answer));
});
const waitingSecrets = new Map<string, (value: string | undefined) => void>();
const waitingKeeps = new Map<string, (result: { stored: true } | { stored: false; reason: string }) => void>();

const service = new EngineService({
  configDir: process.env.TUNNELVISION_CONFIG_DIR ?? defaultConfigDir(),
  secrets: (ref, use, profileId) =>
    new Promise((resolve) => {
      const id = randomUUID();
      waitingSecrets.set(id, resolve);
      channel.postMessage({ t: 'secret?', id, ref, use, profileId } satisfies ControlMessage);
    }),
  keeper: {
    set: (ref, value, use) =>
      new Promise((resolve) => {
        const id = randomUUID();
        waitingKeeps.set(id, resolve);
        channel.postMessage({ t: 'keep-secret', id, ref, value, use } satisfies ControlMessage);
      }),
    delete: async (ref) => channel.postMessage({ t: 'forget-secret', ref } satisfies ControlMessage),
  },
});

const stopServing = serveService(channel, service);

channel.onMessage((msg) => {
  const m = msg as Partial<ControlMessage> | null;
  if (m?.t === 'secret!' && typeof m.id === 'string') {
    waitingSecrets.get(m.id)?.(typeof m.value === 'string' ? m.value : undefined);
    waitingSecrets.delete(m.id);
  } else if (m?.t === 'kept-secret' && typeof m.id === 'string') {
    waitingKeeps.get(m.id)?.(m.stored === true ? { stored: true } : { stored: false, reason: typeof m.reason === 'string' ? m.reason : 'the app did not keep it' });
    waitingKeeps.delete(m.id);
  } else if (m?.t === 'shutdown') {
    void shutdown();
  }
});

let shuttingDown: Promise<void> | undefined;
function shutdown(): Promise<void> {
  shuttingDown ??= service.dispose().then(() => {
    stopServing();
    channel.postMessage({ t: 'shutdown-done' } satisfies ControlMessage);
    process.exit(0);
  });
  return shuttingDown;
}

// The parent went away without saying goodbye: still close every tunnel so no port stays taken.
process.on('disconnect', () => void shutdown());
channel.postMessage({ t: 'ready' } satisfies ControlMessage);
