// electron-log to the platform's log folder (Linux ~/.config/Tunnelvision/logs, macOS
// ~/Library/Logs/Tunnelvision, Windows %APPDATA%\Tunnelvision\logs), rotated by size, one scope
// per profile. Only engine log entries and state changes are written: no call arguments, so no
// prompt answer or secret can reach a log. Files are 0600 in a 0700 folder, and electron-log's own IPC
// channel is closed (app/host/logFiles.ts).
import { ipcMain } from 'electron';
import log from 'electron-log/main';
import { closeLogIpc, keepLogsPrivate } from '../app/host/logFiles.js';
import { describeState } from '../app/host/tunnelBoard.js';
import type { TunnelClient } from '../app/shared/contract.js';

const MAX_LOG_BYTES = 5 * 1024 * 1024;

export type Logger = ReturnType<typeof log.scope>;

export function setupLogging(): Logger {
  // electron-log is never initialised: that would add a preload to every session and more IPC.
  closeLogIpc(ipcMain);
  keepLogsPrivate(log.transports.file);
  log.transports.file.maxSize = MAX_LOG_BYTES;
  log.transports.file.level = 'info';
  log.transports.console.level = 'warn';
  return log.scope('app');
}

export function logTunnels(client: TunnelClient): () => void {
  const scopes = new Map<string, Logger>();
  const scoped = (profileId: string) => {
    let logger = scopes.get(profileId);
    if (!logger) scopes.set(profileId, (logger = log.scope(profileId)));
    return logger;
  };
  const offs = [
    client.on('log', ({ profileId, entry }) => scoped(profileId)[entry.level](entry.message)),
    client.on('state', ({ profileId, state }) => scoped(profileId).info(`state: ${describeState(state)}`)),
  ];
  return () => offs.forEach((off) => off());
}
