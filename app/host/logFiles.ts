// The app's log, kept to its owner: tunnel names, hosts and errors are nobody else's business on a
// shared machine. electron-log creates files 0666 (minus umask) in a folder made with default
// permissions, and answers on its own IPC channel from any page at import. Electron-free, so it is
// tested in Node (test/host/logFiles.test.ts); main/logging.ts applies it.
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const LOG_FILE_MODE = 0o600;
export const LOG_DIR_MODE = 0o700;

/** The channel electron-log/main listens on (ipcMain.on and ipcMain.handle) as soon as it is imported. */
export const ELECTRON_LOG_CHANNEL = '__ELECTRON_LOG__';

interface WriteOptions {
  flag?: string;
  mode?: number;
  encoding?: string;
}

/** The part of electron-log's file transport this touches. */
export interface FileTransportLike<V, M> {
  writeOptions?: WriteOptions;
  resolvePathFn: (variables: V, message?: M) => string;
}

/**
 * New log files (rotation included) are created 0600; the folder is made 0700 and tightened, with
 * the files already in it, the first time each folder is used (files left by an older version).
 */
export function keepLogsPrivate<V, M>(transport: FileTransportLike<V, M>): void {
  transport.writeOptions = { flag: 'a', encoding: 'utf8', ...transport.writeOptions, mode: LOG_FILE_MODE };
  const resolve = transport.resolvePathFn;
  const tightened = new Set<string>();
  transport.resolvePathFn = (variables, message) => {
    const file = resolve(variables, message);
    const dir = dirname(file);
    if (!tightened.has(dir)) {
      tighten(dir);
      tightened.add(dir);
    }
    return file;
  };
}

function tighten(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: LOG_DIR_MODE });
  chmodSync(dir, LOG_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.log')) chmodSync(join(dir, entry.name), LOG_FILE_MODE);
  }
}

/** What of ipcMain is needed to take electron-log's handlers away again. */
export interface IpcMainLike {
  removeAllListeners(channel: string): unknown;
  removeHandler(channel: string): void;
}

/**
 * The page never logs through main: our preload offers no logging, so electron-log's channel could
 * only be used by a page that is not ours, to write what it likes into the person's log.
 */
export function closeLogIpc(ipcMain: IpcMainLike): void {
  ipcMain.removeAllListeners(ELECTRON_LOG_CHANNEL);
  ipcMain.removeHandler(ELECTRON_LOG_CHANNEL);
}
