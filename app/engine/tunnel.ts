// One profile's tunnel, supervised: binds its listeners once, keeps an SSH session under them,
// reconnects with backoff when the session drops, never retries what a person must fix, and
// reports "open" only while every forward is listening or bound.
import type { Client, ClientChannel, AcceptConnection, RejectConnection, TcpConnectionDetails } from 'ssh2';
import type { Forward, Profile } from '../profiles/schema.js';
import { hostPort } from '../shared/address.js';
import { Emitter } from '../shared/emitter.js';
import { TunnelError, describeError, isFatal, toWireError, type WireError } from '../shared/errors.js';
import { nextDelayMs } from './backoff.js';
import { connectorFor } from './connectors.js';
import { LocalListener, RemoteForwarder, forwardLabel, type ForwardStats } from './forwards.js';
import type { Prompter, SecretResolver } from './prompts.js';
import { dialThrough, type Session } from './session.js';

export interface OpenForward {
  index: number;
  type: 'local' | 'remote' | 'dynamic';
  label: string;
  /** Where clients connect: the local listener, or for -R the server's bind (with the assigned port). */
  bindHost: string;
  bindPort: number;
  targetHost?: string;
  targetPort?: number;
  /** How to point a database client at the local end, when the target is a known service. */
  service?: ServiceConnection;
}

/** Ready-to-copy ways to reach a service through a local forward; with its password only when the CLI is asked (--show-password). */
export interface ServiceConnection {
  /** The service instance's name (Cloud Foundry) and its host as the platform knows it. */
  name: string;
  host: string;
  user?: string;
  database?: string;
  /** `mysql -h 127.0.0.1 -P 13306 -u USER -p DB`, `mysql://USER@127.0.0.1:13306/DB`, `jdbc:mysql://…`. */
  command: string;
  uri: string;
  jdbcUrl: string;
}

/** Where a forward's connections go during one session, when that is decided at connect time. */
export interface ForwardTarget {
  host: string;
  port: number;
  service?: ServiceConnection;
}

/** One live session and what it carries, as a Connector made it. */
export interface Connection {
  session: Session;
  /** The path as a person sees it, first hop first (it may name hops the SSH session does not: a container). */
  hops: HopSummary[];
  /** The hop named when a channel to a target cannot be opened. */
  dialHop: string;
  /** Per forward, its target for this session; absent entries keep the forward's own target. */
  targets?: ReadonlyArray<ForwardTarget | undefined>;
}

/**
 * How a profile kind gets its sessions. The supervisor (states, backoff, keepalive, listeners) is
 * the same for every kind; only this differs: an SSH chain, or a Cloud Foundry app container that
 * must be looked up again, with a fresh one-time code, on every connect.
 */
export interface Connector {
  /** Bound once, for the tunnel's whole life. */
  readonly forwards: readonly Forward[];
  connect(signal: AbortSignal): Promise<Connection>;
}

export type TunnelState =
  | { state: 'stopped' }
  | { state: 'connecting'; attempt: number }
  | { state: 'open'; since: number; hops: HopSummary[]; forwards: OpenForward[] }
  | { state: 'reconnecting'; attempt: number; delayMs: number; error: WireError }
  | { state: 'failed'; error: WireError }
  | { state: 'closed' };

export interface HopSummary {
  label: string;
  hostKey?: { type: string; fingerprint: string };
}

export interface LogEntry {
  time: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export interface TunnelOptions {
  profile: Profile;
  prompter?: Prompter;
  secrets?: SecretResolver;
  /** The user for endpoints that name none; OpenSSH uses the local user name. */
  defaultUser?: string;
  /** How sessions are made; by the profile's kind when absent. */
  connector?: Connector;
  /** Injected for tests of the backoff; Math.random otherwise. */
  random?: () => number;
}

/** How long stop() waits for the server to confirm that -R forwards are cancelled. */
const CANCEL_GRACE_MS = 1_000;

type TunnelEvents = {
  state: (s: TunnelState) => void;
  log: (entry: LogEntry) => void;
};

export class Tunnel extends Emitter<TunnelEvents> {
  private current: TunnelState = { state: 'stopped' };
  private readonly listeners: LocalListener[] = [];
  private readonly remotes: RemoteForwarder[] = [];
  private readonly connector: Connector;
  private connection: Connection | undefined;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private run: Promise<void> | undefined;
  private readonly sessionWaiters = new Set<(c: Connection | undefined) => void>();

  constructor(private readonly opts: TunnelOptions) {
    super();
    this.connector = opts.connector ?? connectorFor(opts);
    const events = { connectionFailed: (err: TunnelError) => this.log('warn', describeError(err)), notice: (message: string) => this.log('warn', message) };
    this.connector.forwards.forEach((f, index) => {
      if (f.type === 'remote') this.remotes.push(new RemoteForwarder(f, events));
      else this.listeners.push(new LocalListener(f, (host, port, src) => this.dial(index, host, port, src), events));
    });
  }

  get profile(): Profile {
    return this.opts.profile;
  }

  get state(): TunnelState {
    return this.current;
  }

  /** Starts supervising; resolves at once. Watch `state` for open / failed. */
  start(): void {
    this.run ??= this.supervise();
  }

  /** Resolves at the first `open`, or rejects with the error of `failed` / when stopped first. */
  whenOpen(): Promise<Extract<TunnelState, { state: 'open' }>> {
    return new Promise((resolve, reject) => {
      const check = (s: TunnelState) => {
        if (s.state === 'open') resolve(s);
        else if (s.state === 'failed') reject(s.error);
        else if (s.state === 'closed') reject(toWireError(new TunnelError('CONNECTION_LOST', 'The tunnel was stopped.')));
        else return false;
        return true;
      };
      if (check(this.current)) return;
      const off = this.on('state', (s) => {
        if (check(s)) off();
      });
    });
  }

  /** Skips the backoff wait (wake from sleep, network change, the user's "retry now"). */
  retryNow(): void {
    this.wake?.();
  }

  stats(): ForwardStats[] {
    let l = 0;
    let r = 0;
    return this.connector.forwards.map((f) => (f.type === 'remote' ? this.remotes[r++]! : this.listeners[l++]!).stats());
  }

  /** Closes the session and every listener and connection; resolves once the ports are free. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      this.wake?.();
      await this.closeSession(true);
      await this.run?.catch(() => {});
      await Promise.all([...this.listeners.map((l) => l.dispose()), ...this.remotes.map((r) => r.dispose())]);
      this.setState({ state: 'closed' });
    })();
    return this.stopping;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private setState(s: TunnelState): void {
    this.current = s;
    this.emit('state', s);
  }

  private log(level: LogEntry['level'], message: string): void {
    this.emit('log', { time: Date.now(), level, message });
  }

  private async supervise(): Promise<void> {
    try {
      for (const l of this.listeners) await l.listen();
    } catch (err) {
      return this.fail(err);
    }
    const { reconnect } = this.opts.profile;
    let attempt = 0;
    while (!this.stopped) {
      attempt++;
      this.setState({ state: 'connecting', attempt });
      let error: unknown;
      try {
        const connection = await this.connect();
        const openedAt = Date.now();
        error = await this.serve(connection);
        // autossh's gate: the end of a session that lasted is the first failure of a new run, not
        // one more in a row. `attempt` counts failures in a row: reconnecting N waits step N, and
        // the attempt that follows is N + 1.
        if (Date.now() - openedAt >= reconnect.resetAfterSeconds * 1000) attempt = 1;
      } catch (err) {
        error = err;
      }
      if (this.stopped) return;
      if (isFatal(error) || !reconnect.enabled) return this.fail(error);
      const delayMs = nextDelayMs(attempt, reconnect, this.opts.random ?? Math.random);
      this.setState({ state: 'reconnecting', attempt, delayMs, error: toWireError(error) });
      await this.sleep(delayMs);
    }
  }

  private async fail(err: unknown): Promise<void> {
    const error = toWireError(err);
    this.log('error', describeError(error));
    // A failed tunnel holds nothing: its ports are free for whatever the person does next.
    await Promise.all(this.listeners.map((l) => l.dispose()));
    if (!this.stopped) this.setState({ state: 'failed', error });
  }

  private async connect(): Promise<Connection> {
    const connection = await this.connector.connect(this.abort.signal);
    const { session } = connection;
    if (this.stopped) {
      await session.dispose();
      throw new TunnelError('CONNECTION_LOST', 'The tunnel was stopped.');
    }
    this.connection = connection;
    try {
      session.client.on('tcp connection', (info: TcpConnectionDetails, accept: AcceptConnection<ClientChannel>, reject: RejectConnection) => {
        const remote = this.remotes.find((r) => r.matches(info));
        if (remote) remote.handle(accept, reject);
        else reject();
      });
      for (const r of this.remotes) {
        const port = await r.request(session.client, session.hops.at(-1)!.label);
        if (r.forward.bindPort === 0) this.log('info', `Server assigned port ${port} for ${r.label}.`);
      }
      // stop() may have come while the server was answering the -R requests; such a session must not be reported open.
      if (this.stopped) throw new TunnelError('CONNECTION_LOST', 'The tunnel was stopped.');
    } catch (err) {
      await this.closeSession(false);
      throw err;
    }
    return connection;
  }

  /** Reports open, hands the session to waiting connections, and resolves with why it ended. */
  private serve(connection: Connection): Promise<TunnelError> {
    const { session } = connection;
    const ended = new Promise<TunnelError>((resolve) => {
      let lastError: Error | undefined;
      session.clients.forEach((client: Client, i) => {
        const hop = session.hops[i]!.label;
        client.on('error', (err: Error) => (lastError ??= err));
        client.once('close', () => {
          const why = lastError?.message === 'Keepalive timeout' ? `no answer to keepalives (${this.opts.profile.keepalive.countMax} × ${this.opts.profile.keepalive.intervalSeconds} s)` : lastError ? lastError.message : 'the connection closed';
          resolve(new TunnelError('CONNECTION_LOST', `Lost the connection to ${hop}: ${why}.`, { hop }));
        });
      });
    });
    this.setState({ state: 'open', since: Date.now(), hops: connection.hops, forwards: this.openForwards(connection) });
    this.log('info', `Open: ${this.openForwards(connection).map((f) => f.label).join('; ')}`);
    for (const resolve of this.sessionWaiters) resolve(connection);
    this.sessionWaiters.clear();
    // stop() closes the session, which ends this wait too.
    return ended.finally(() => this.closeSession(false));
  }

  private openForwards(connection: Connection): OpenForward[] {
    let l = 0;
    let r = 0;
    return this.connector.forwards.map((f, index) => {
      if (f.type === 'remote') {
        const remote = this.remotes[r++]!;
        const bindPort = remote.assignedPort ?? f.bindPort;
        return { index, type: f.type, label: remote.label.replace(`:${f.bindPort} `, `:${bindPort} `), bindHost: f.bindHost, bindPort, targetHost: f.targetHost, targetPort: f.targetPort };
      }
      const listener = this.listeners[l++]!;
      const base = { index, type: f.type, label: listener.label, bindHost: f.bindHost, bindPort: listener.port };
      if (f.type !== 'local') return base;
      const target = connection.targets?.[index];
      if (!target) return { ...base, targetHost: f.targetHost, targetPort: f.targetPort };
      const label = forwardLabel({ ...f, targetHost: target.host, targetPort: target.port });
      return { ...base, label, targetHost: target.host, targetPort: target.port, ...(target.service ? { service: target.service } : {}) };
    });
  }

  private async closeSession(cancelRemotes: boolean): Promise<void> {
    const session = this.connection?.session;
    if (!session) return;
    this.connection = undefined;
    // A courtesy: the server drops a session's -R listeners when the session ends anyway, so a
    // server that no longer answers gets a short grace rather than a hold on stop().
    if (cancelRemotes) await withinGrace(Promise.all(this.remotes.map((r) => r.cancel(session.client))), CANCEL_GRACE_MS);
    await session.dispose();
  }

  /** A connection that arrives while reconnecting waits for the next session, up to the connect timeout. */
  private async dial(index: number, host: string, port: number, src: { address: string; port: number }) {
    const connection = this.connection ?? (await this.nextSession());
    if (!connection) throw new TunnelError('CONNECTION_LOST', `No SSH session to carry the connection to ${hostPort(host, port)}: the tunnel is ${this.current.state}.`);
    const target = connection.targets?.[index] ?? { host, port };
    return dialThrough(connection.session.client, connection.dialHop)(target.host, target.port, src);
  }

  private nextSession(): Promise<Connection | undefined> {
    if (this.stopped || this.current.state === 'failed') return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), this.opts.profile.connectTimeoutSeconds * 1000);
      const done = (s: Connection | undefined) => {
        clearTimeout(timer);
        this.sessionWaiters.delete(done);
        offState();
        resolve(s);
      };
      const offState = this.on('state', (s) => {
        if (s.state === 'failed' || s.state === 'closed') done(undefined);
      });
      this.sessionWaiters.add(done);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        finish();
      };
    });
  }
}

/** Resolves when `work` settles or after `ms`, whichever comes first. */
function withinGrace(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}
