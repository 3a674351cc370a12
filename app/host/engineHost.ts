// Keeps the engine process alive for the desktop app. The process is started through an injected
// spawner (Electron's utilityProcess in main, child_process.fork in tests), so this supervision
// runs and is tested in plain Node. Callers hold one TunnelClient for the app's lifetime: calls
// wait for a live engine, subscriptions outlive restarts, and the tunnels that were running when
// the engine died are reopened in the new one.
import { EVENT_NAMES, METHOD_NAMES, type EventName, type EventPayload, type TunnelClient } from '../shared/contract.js';
import { asSecretUse, type SecretUse } from '../profiles/secretUse.js';
import { Emitter } from '../shared/emitter.js';
import { TunnelError } from '../shared/errors.js';
import { createClient, type MessagePortLike } from '../shared/rpc.js';
import type { ControlMessage } from '../service/engineProcess.js';

/** What both utilityProcess.fork and an adapted child_process.fork give back. */
export interface ChildLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): void;
  on(event: 'exit', listener: (code: number | null) => void): void;
  kill(): void;
}

export type Spawner = (entry: string) => ChildLike;

/** Where the engine's secret look-ups and writes are answered (the SecretStore in the app). */
export interface SecretSource {
  /** `other-use` and `unbound` are refusals: a secret exists under `ref` but not for this use. */
  lookup(ref: string, use: SecretUse): Promise<{ found: true; value: string } | { found: false; why: 'none' | 'unreadable' | 'other-use' | 'unbound' }>;
  /** Absent: nothing the engine obtains is kept beyond its own life. */
  set?(ref: string, value: string, use: SecretUse): Promise<{ stored: true } | { stored: false; reason: string }>;
  delete?(ref: string): Promise<void>;
}

/** A look-up main refused: the profile named a secret kept for somewhere else (or for nowhere known). */
export interface RefusedSecret {
  profileId: string;
  ref: string;
  /** Where the profile would have sent it. */
  use: SecretUse;
  why: 'other-use' | 'unbound';
}

export interface EngineHostOptions {
  entry: string;
  spawn: Spawner;
  secrets: SecretSource;
  /** Told of each refused look-up, so main can log it; the engine is answered "no secret" and asks the person. */
  onRefusedSecret?(refused: RefusedSecret): void;
  /** First restart delay; doubles per crash that follows a short life, up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** An engine that lived this long before dying is restarted from the first delay again. */
  stableAfterMs?: number;
  readyTimeoutMs?: number;
  shutdownTimeoutMs?: number;
}

export type HostEvents = {
  /** The engine died on its own; it is started again after delayMs. */
  crash: (info: { code: number | null; restartInMs: number }) => void;
  /** A new engine is ready and `reopening` are being started in it. */
  restarted: (info: { reopening: string[] }) => void;
};

type Generation = { child: ChildLike; client: ReturnType<typeof createClient>; startedAt: number; exited: Promise<number | null> };

const RUNNING_STATES = new Set(['connecting', 'open', 'reconnecting']);

export class EngineHost extends Emitter<HostEvents> {
  readonly client: TunnelClient;
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  /** Profiles the engine reported as running: what a restart has to bring back. */
  private readonly running = new Set<string>();
  private current: Generation | undefined;
  /** Resolves once an engine is ready; replaced at each (re)start. */
  private ready: Promise<Generation>;
  private restartDelay: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<never>;
  private markStopped!: (err: Error) => void;

  constructor(private readonly opts: EngineHostOptions) {
    super();
    this.restartDelay = this.opts.restartDelayMs ?? 500;
    this.stopped = new Promise<never>((_, reject) => (this.markStopped = reject));
    this.stopped.catch(() => {});
    this.client = this.facade();
    this.ready = this.launch();
    // A first launch that fails is retried like a crash; live() then waits for the retry.
    this.ready.catch(() => {});
  }

  /** Resolves when an engine is up (the first one, or the one after a restart). */
  async whenReady(): Promise<void> {
    await this.live();
  }

  /** Profiles that would be reopened if the engine died now. */
  runningProfiles(): string[] {
    return [...this.running];
  }

  /**
   * Closes every tunnel (the engine frees its ports and says `shutdown-done`) and ends the process;
   * one that does not answer in time is killed. No restart happens afterwards.
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.restartTimer);
      this.markStopped(new TunnelError('CONNECTION_LOST', 'The tunnel engine is shutting down.'));
      const gen = this.current;
      if (!gen) return;
      const timeout = this.opts.shutdownTimeoutMs ?? 10_000;
      const done = new Promise<void>((resolve) => gen.child.on('message', (m) => (m as ControlMessage | null)?.t === 'shutdown-done' && resolve()));
      gen.child.postMessage({ t: 'shutdown' } satisfies ControlMessage);
      const answered = await within(Promise.race([done, gen.exited.then(() => undefined)]), timeout);
      // After shutdown-done the process exits by itself; it gets a moment to do so before the kill.
      const exited = await within(gen.exited, answered ? 2_000 : 0);
      if (!exited) {
        gen.child.kill();
        await gen.exited;
      }
    })();
    return this.stopping;
  }

  private launch(): Promise<Generation> {
    const child = this.opts.spawn(this.opts.entry);
    const receivers = new Set<(message: unknown) => void>();
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.on('message', (message) => {
      for (const receive of receivers) receive(message);
    });
    const port: MessagePortLike = {
      postMessage: (m) => child.postMessage(m),
      onMessage: (listener) => {
        receivers.add(listener);
        return () => receivers.delete(listener);
      },
    };
    port.onMessage((m) => this.answerSecret(port, m));
    const client = createClient(port);
    for (const name of EVENT_NAMES) client.on(name, (payload) => this.dispatch(name, payload));
    const gen: Generation = { child, client, startedAt: Date.now(), exited };
    this.current = gen;
    void exited.then((code) => this.onExit(gen, code));

    return new Promise<Generation>((resolve, reject) => {
      // Killed, it exits, and that exit is handled like any crash (rejecting below, restarting).
      const timer = setTimeout(() => child.kill(), this.opts.readyTimeoutMs ?? 15_000);
      const off = port.onMessage((m) => {
        if ((m as ControlMessage | null)?.t !== 'ready') return;
        off();
        clearTimeout(timer);
        resolve(gen);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new TunnelError('CONNECTION_LOST', 'The engine process exited while starting.'));
      });
    });
  }

  private onExit(gen: Generation, code: number | null): void {
    gen.client.dispose();
    if (this.current !== gen) return;
    this.current = undefined;
    if (this.stopping) return;
    const lived = Date.now() - gen.startedAt;
    if (lived >= (this.opts.stableAfterMs ?? 30_000)) this.restartDelay = this.opts.restartDelayMs ?? 500;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(delay * 2, this.opts.maxRestartDelayMs ?? 30_000);
    // The dead engine cannot say so itself: tell listeners its tunnels are down and coming back.
    const error = { name: 'TunnelError', code: 'CONNECTION_LOST' as const, message: 'The tunnel engine stopped unexpectedly; restarting it.' };
    for (const profileId of this.running) this.dispatch('state', { profileId, state: { state: 'reconnecting', attempt: 1, delayMs: delay, error } });
    this.emit('crash', { code, restartInMs: delay });
    let restarted!: (gen: Generation) => void;
    this.ready = new Promise((resolve) => (restarted = resolve));
    this.restartTimer = setTimeout(() => void this.restart(restarted), delay);
  }

  private async restart(restarted: (gen: Generation) => void): Promise<void> {
    let gen: Generation;
    try {
      gen = await this.launch();
    } catch {
      // onExit of that attempt has scheduled the next one and made a new `ready`; chain to it.
      void this.ready.then(restarted);
      return;
    }
    restarted(gen);
    const reopening = [...this.running];
    this.emit('restarted', { reopening });
    for (const id of reopening) {
      // A profile deleted meanwhile fails to start; it is then no longer running.
      gen.client.start(id).catch(() => this.running.delete(id));
    }
  }

  /** The ready engine; across a failed start, the one started after it. */
  private async live(): Promise<Generation> {
    for (;;) {
      // Checked first: after shutdown `ready` still holds the engine that is gone.
      if (this.stopping) return this.stopped;
      const ready = this.ready;
      try {
        return await Promise.race([ready, this.stopped]);
      } catch (err) {
        // onExit replaces `ready` before this rejection is seen, unless nothing will follow.
        if (this.stopping || this.ready === ready) throw err;
      }
    }
  }

  private answerSecret(port: MessagePortLike, message: unknown): void {
    const m = message as ControlMessage | null;
    const secrets = this.opts.secrets;
    if (m?.t === 'secret?' && typeof m.id === 'string' && typeof m.ref === 'string') {
      const reply = (value: string | null) => port.postMessage({ t: 'secret!', id: m.id, value } satisfies ControlMessage);
      const use = asSecretUse(m.use);
      // A request that says no use is answered like one for a use nothing was stored for.
      if (!use) return reply(null);
      const profileId = typeof m.profileId === 'string' ? m.profileId : '(unknown profile)';
      // Refused, unreadable or absent all answer "no secret", so the engine asks the person instead.
      secrets.lookup(m.ref, use).then(
        (found) => {
          if (found.found) return reply(found.value);
          if (found.why === 'other-use' || found.why === 'unbound') this.opts.onRefusedSecret?.({ profileId, ref: m.ref, use, why: found.why });
          reply(null);
        },
        () => reply(null),
      );
    } else if (m?.t === 'keep-secret' && typeof m.id === 'string' && typeof m.ref === 'string' && typeof m.value === 'string') {
      const reply = (r: { stored: true } | { stored: false; reason: string }) => port.postMessage({ t: 'kept-secret', id: m.id, ...r } satisfies ControlMessage);
      const use = asSecretUse(m.use);
      if (!secrets.set) return reply({ stored: false, reason: 'this app keeps no secrets' });
      if (!use) return reply({ stored: false, reason: 'the engine did not say where the secret may be sent' });
      secrets.set(m.ref, m.value, use).then(reply, (err: unknown) => reply({ stored: false, reason: `the secret store failed (${err instanceof Error ? err.message : String(err)})` }));
    } else if (m?.t === 'forget-secret' && typeof m.ref === 'string') {
      secrets.delete?.(m.ref).catch(() => undefined);
    }
  }

  private dispatch<E extends EventName>(name: E, payload: EventPayload<E>): void {
    if (name === 'state') {
      const { profileId, state } = payload as EventPayload<'state'>;
      if (RUNNING_STATES.has(state.state)) this.running.add(profileId);
      else this.running.delete(profileId);
    }
    for (const listener of this.listeners.get(name) ?? []) (listener as (p: EventPayload<E>) => void)(payload);
  }

  private facade(): TunnelClient {
    const facade: Record<string, unknown> = {
      on: (event: EventName, listener: (payload: never) => void) => {
        const set = this.listeners.get(event) ?? new Set();
        this.listeners.set(event, set);
        set.add(listener);
        return () => set.delete(listener);
      },
    };
    for (const method of METHOD_NAMES) {
      facade[method] = async (...args: unknown[]) => {
        // A person's stop must not be undone by a restart that races with it.
        if ((method === 'stop' || method === 'deleteProfile') && typeof args[0] === 'string') this.running.delete(args[0]);
        const gen = await this.live();
        return (gen.client[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      };
    }
    return facade as unknown as TunnelClient;
  }
}

/** True if `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
