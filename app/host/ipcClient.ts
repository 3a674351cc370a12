// The window's side of the contract over Electron IPC, used by the preload: one invoke per call,
// the envelope unwrapped into a result or a coded error, every event payload validated on arrival.
// No Node built-ins: it is bundled into a sandboxed preload.
import { EVENT_NAMES, METHOD_NAMES, eventChannel, events, methodChannel, methods, wireErrorSchema, type EventName, type TunnelClient } from '../shared/contract.js';
import { ERROR_CODES, TunnelError, type ErrorCode } from '../shared/errors.js';
import { z } from 'zod';

/** The part of Electron's ipcRenderer used here. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

const envelopeSchema = z.union([z.object({ ok: z.literal(true), value: z.unknown() }), z.object({ ok: z.literal(false), error: wireErrorSchema })]);

export function createIpcClient(ipc: IpcRendererLike): TunnelClient {
  const client: Record<string, unknown> = {
    on(event: EventName, listener: (payload: unknown) => void) {
      if (!EVENT_NAMES.includes(event)) throw new TunnelError('CONFIG_INVALID', `There is no event "${String(event)}".`);
      const receive = (_event: unknown, payload: unknown) => {
        const parsed = events[event].safeParse(payload);
        // A payload that does not fit the contract is dropped, never half-rendered.
        if (parsed.success) listener(parsed.data);
      };
      ipc.on(eventChannel(event), receive);
      return () => void ipc.removeListener(eventChannel(event), receive);
    },
  };
  for (const method of METHOD_NAMES) {
    client[method] = async (...args: unknown[]) => {
      const envelope = envelopeSchema.safeParse(await ipc.invoke(methodChannel(method), ...args));
      if (!envelope.success) throw new TunnelError('PROTOCOL', `Main answered ${method} with something that is not an envelope.`);
      if (!envelope.data.ok) {
        const e = envelope.data.error;
        const code: ErrorCode = Object.hasOwn(ERROR_CODES, e.code) ? (e.code as ErrorCode) : 'INTERNAL';
        throw new TunnelError(code, e.message, e.hop ? { hop: e.hop } : {});
      }
      const result = methods[method].result.safeParse(envelope.data.value);
      if (!result.success) throw new TunnelError('PROTOCOL', `Main answered ${method} with data that does not fit the contract.`);
      return result.data;
    };
  }
  return client as unknown as TunnelClient;
}
