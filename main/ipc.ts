// The contract on Electron IPC: one ipcMain.handle per method (the checks live in
// app/host/ipcHandlers.ts) and every engine event sent to every window.
import { BrowserWindow, ipcMain } from 'electron';
import { createIpcHandler, forwardEvents } from '../app/host/ipcHandlers.js';
import { METHOD_NAMES, methodChannel, type TunnelClient } from '../app/shared/contract.js';
import { APP_URL } from './paths.js';

export function registerIpc(client: TunnelClient, onAnswer: (promptId: string, answer: unknown) => void): () => void {
  const handle = createIpcHandler({ client, appUrl: APP_URL, onAnswer });
  for (const method of METHOD_NAMES) ipcMain.handle(methodChannel(method), (event, ...args: unknown[]) => handle(method, event.senderFrame?.url, args));
  const stopEvents = forwardEvents(client, (channel, payload) => {
    for (const win of BrowserWindow.getAllWindows()) if (!win.isDestroyed()) win.webContents.send(channel, payload);
  });
  return () => {
    stopEvents();
    for (const method of METHOD_NAMES) ipcMain.removeHandler(methodChannel(method));
  };
}
