// What main does with a call from the window, without Electron: check who is asking, check the
// arguments against the contract, call the engine, and wrap the outcome in an envelope, because
// ipcMain.handle turns a thrown error into a bare message and the renderer needs the error code.
import { EVENT_NAMES, eventChannel, methods, type MethodName, type TunnelClient } from '../shared/contract.js';
import { TunnelError, toWireError, type WireError } from '../shared/errors.js';

export type Envelope = { ok: true; value: unknown } | { ok: false; error: WireError };

export interface IpcHandlerOptions {
  client: TunnelClient;
  /** The page the app loads (app://tunnelvision/index.html, see appProtocol.ts); only it may call. */
  appUrl: string;
  /** Sees each valid prompt answer before it goes to the engine (to remember a password that works). */
  onAnswer?(promptId: string, answer: unknown): void;
}

export type IpcHandler = (method: MethodName, senderUrl: string | undefined, args: unknown[]) => Promise<Envelope>;

/** True for the app's own page, whatever its #route or ?query. */
export function isAppUrl(senderUrl: string | undefined, appUrl: string): boolean {
  if (!senderUrl) return false;
  try {
    const sender = new URL(senderUrl);
    const app = new URL(appUrl);
    return sender.protocol === app.protocol && sender.host === app.host && sender.pathname === app.pathname;
  } catch {
    return false;
  }
}

export function createIpcHandler(opts: IpcHandlerOptions): IpcHandler {
  return async (method, senderUrl, args) => {
    try {
      if (!Object.hasOwn(methods, method)) throw new TunnelError('CONFIG_INVALID', `There is no operation "${String(method)}".`);
      // A frame that navigated elsewhere (or an injected one) gets nothing, not even validation errors.
      if (!isAppUrl(senderUrl, opts.appUrl)) throw new TunnelError('CONFIG_INVALID', 'Calls are accepted from the Tunnelvision window only.');
      const parsed = methods[method].args.safeParse(args);
      if (!parsed.success) {
        const detail = parsed.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`).join('; ');
        throw new TunnelError('CONFIG_INVALID', `Invalid arguments for ${method}: ${detail}`);
      }
      const valid = parsed.data as unknown[];
      if (method === 'answerPrompt') opts.onAnswer?.(valid[0] as string, valid[1]);
      const fn = opts.client[method] as (...a: unknown[]) => Promise<unknown>;
      return { ok: true, value: await fn.apply(opts.client, valid) };
    } catch (err) {
      return { ok: false, error: toWireError(err) };
    }
  };
}

/** Relays every engine event to the windows on its contract channel; returns the unsubscribe. */
export function forwardEvents(client: TunnelClient, send: (channel: string, payload: unknown) => void): () => void {
  const offs = EVENT_NAMES.map((name) => client.on(name, (payload) => send(eventChannel(name), payload)));
  return () => offs.forEach((off) => off());
}
