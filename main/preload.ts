// The window's only door: window.tunnelvision, exactly the TunnelClient contract, over IPC. Bundled
// (zod included) into one CommonJS file, because a sandboxed preload cannot load node_modules.
import { contextBridge, ipcRenderer } from 'electron';
import { z } from 'zod';
import { createIpcClient } from '../app/host/ipcClient.js';
import { METHOD_NAMES, type TunnelClient } from '../app/shared/contract.js';
import { toWireError } from '../app/shared/errors.js';

// The page's CSP forbids eval, and whether zod may use it must not depend on which CSP (header or
// tag) is in force when it first looks.
z.config({ jitless: true });

const client = createIpcClient(ipcRenderer);
const api: Record<string, unknown> = { on: client.on };
for (const method of METHOD_NAMES) {
  const call = client[method] as (...args: unknown[]) => Promise<unknown>;
  // contextBridge keeps only the message of an Error; the plain WireError (name, code, message,
  // hop) crosses whole, so the page can still tell AUTH_FAILED from PORT_IN_USE.
  api[method] = (...args: unknown[]) => call(...args).catch((err: unknown) => Promise.reject(toWireError(err)));
}
contextBridge.exposeInMainWorld('tunnelvision', api as TunnelClient);
