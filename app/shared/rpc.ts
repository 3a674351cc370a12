// The contract carried over anything that can post messages: Electron's MessagePort and
// utilityProcess, a Node child process, a WebSocket in the browser tests. Whatever arrives is
// validated against the contract before anyone acts on it. No Node built-ins: the renderer uses it.
import { EVENT_NAMES, METHOD_NAMES, events, methods, type EventName, type MethodName, type TunnelClient, type TunnelEvents, type TunnelService } from './contract.js';
import { ERROR_CODES, TunnelError, toWireError, type ErrorCode, type WireError } from './errors.js';

export interface MessagePortLike {
  postMessage(message: unknown): void;
  /** Subscribes; returns the unsubscribe. */
  onMessage(listener: (message: unknown) => void): () => void;
}

type Call = { t: 'call'; id: number; m: string; a: unknown };
type Return = { t: 'ret'; id: number; ok: true; v: unknown } | { t: 'ret'; id: number; ok: false; e: WireError };
type Event = { t: 'ev'; n: string; p: unknown };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function issuesText(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`)
    .join('; ');
}

/** Serves `service` on `port`: calls are validated, run, and answered; events are forwarded. */
export function serveService(port: MessagePortLike, service: TunnelService & TunnelEvents): () => void {
  const offEvents = EVENT_NAMES.map((name) => service.on(name, (payload) => port.postMessage({ t: 'ev', n: name, p: payload } satisfies Event)));
  const reply = (msg: Return) => port.postMessage(msg);
  const offMessages = port.onMessage((msg) => {
    if (!isObject(msg) || msg.t !== 'call' || typeof msg.id !== 'number' || typeof msg.m !== 'string') return;
    const call = msg as Call;
    const fail = (err: unknown) => reply({ t: 'ret', id: call.id, ok: false, e: toWireError(err) });
    if (!Object.hasOwn(methods, call.m)) return fail(new TunnelError('CONFIG_INVALID', `There is no operation "${call.m}".`));
    const name = call.m as MethodName;
    const args = methods[name].args.safeParse(call.a);
    if (!args.success) return fail(new TunnelError('CONFIG_INVALID', `Invalid arguments for ${name}: ${issuesText(args.error)}`));
    const fn = service[name] as (...a: unknown[]) => Promise<unknown>;
    fn.apply(service, args.data as unknown[]).then((v) => reply({ t: 'ret', id: call.id, ok: true, v }), fail);
  });
  return () => {
    offEvents.forEach((off) => off());
    offMessages();
  };
}

/** An error raised on the other side, rebuilt from its wire form. */
function fromWire(e: WireError): TunnelError {
  const code: ErrorCode = Object.hasOwn(ERROR_CODES, e.code) ? e.code : 'INTERNAL';
  return new TunnelError(code, e.message, e.hop ? { hop: e.hop } : {});
}

export function createClient(port: MessagePortLike): TunnelClient & { dispose(): void } {
  let nextId = 1;
  const pending = new Map<number, { method: MethodName; resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();

  const off = port.onMessage((msg) => {
    if (!isObject(msg)) return;
    if (msg.t === 'ret' && typeof msg.id === 'number') {
      const call = pending.get(msg.id);
      if (!call) return;
      pending.delete(msg.id);
      const ret = msg as Return;
      if (!ret.ok) return call.reject(fromWire(ret.e));
      const result = methods[call.method].result.safeParse(ret.v);
      if (result.success) call.resolve(result.data);
      else call.reject(new TunnelError('PROTOCOL', `The engine answered ${call.method} with data that does not fit the contract: ${issuesText(result.error)}`));
    } else if (msg.t === 'ev' && typeof msg.n === 'string' && Object.hasOwn(events, msg.n)) {
      const name = msg.n as EventName;
      const payload = events[name].safeParse(msg.p);
      // An event that does not fit the contract is dropped, never half-rendered.
      if (!payload.success) return;
      for (const listener of listeners.get(name) ?? []) listener(payload.data);
    }
  });

  const client = {
    on(event: EventName, listener: (payload: unknown) => void) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    dispose() {
      off();
      for (const call of pending.values()) call.reject(new TunnelError('CONNECTION_LOST', 'The connection to the engine closed.'));
      pending.clear();
      listeners.clear();
    },
  } as Record<string, unknown>;
  for (const method of METHOD_NAMES) {
    client[method] = (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { method, resolve, reject });
        port.postMessage({ t: 'call', id, m: method, a: args } satisfies Call);
      });
  }
  return client as unknown as TunnelClient & { dispose(): void };
}
