// The app's log is its owner's alone: files 0600, folder 0700, and electron-log's IPC channel closed.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import log from 'electron-log/node';
import { afterAll, describe, expect, it } from 'vitest';
import { ELECTRON_LOG_CHANNEL, closeLogIpc, keepLogsPrivate } from '../../app/host/logFiles.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o777;

describe('log files', () => {
  it('are created 0600 in a 0700 folder, after rotation too, and old ones are tightened', () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs, { mode: 0o755 });
    chmodSync(logs, 0o755);
    writeFileSync(join(logs, 'earlier.log'), 'from an older version\n', { mode: 0o644 });
    chmodSync(join(logs, 'earlier.log'), 0o644);

    const file = log.transports.file;
    file.resolvePathFn = () => join(logs, 'main.log');
    file.maxSize = 200;
    log.transports.console.level = false;
    keepLogsPrivate(file);

    log.info('x'.repeat(150));
    log.info('y'.repeat(150));
    log.info('z'.repeat(10)); // past maxSize: main.log moves to main.old.log, a new main.log starts

    expect(readdirSync(logs).sort()).toEqual(['earlier.log', 'main.log', 'main.old.log']);
    expect(mode(logs)).toBe(0o700);
    for (const name of readdirSync(logs)) expect(mode(join(logs, name)), name).toBe(0o600);
    expect(readFileSync(join(logs, 'main.log'), 'utf8')).toContain('zzzzzzzzzz');
  });

  it('keep the folder private when it does not exist yet', () => {
    const fresh = { resolvePathFn: () => join(dir, 'new', 'deeper', 'main.log') } as { resolvePathFn: () => string; writeOptions?: { mode?: number } };
    keepLogsPrivate(fresh);
    fresh.resolvePathFn();
    expect(mode(join(dir, 'new', 'deeper'))).toBe(0o700);
    expect(fresh.writeOptions?.mode).toBe(0o600);
  });
});

describe("electron-log's IPC", () => {
  it('is what closeLogIpc takes away: nothing of it stays reachable from a page', () => {
    // electron-log/main registers its handlers when imported; load it against a recording ipcMain.
    const require = createRequire(import.meta.url);
    const listeners = new Map<string, number>();
    const handlers = new Set<string>();
    const ipcMain = {
      on: (channel: string) => listeners.set(channel, (listeners.get(channel) ?? 0) + 1),
      handle: (channel: string) => handlers.add(channel),
      removeAllListeners: (channel: string) => listeners.delete(channel),
      removeHandler: (channel: string) => handlers.delete(channel),
    };
    const electronPath = require.resolve('electron');
    const saved = require.cache[electronPath];
    require.cache[electronPath] = { id: electronPath, filename: electronPath, loaded: true, exports: { ipcMain } } as NodeJS.Module;
    try {
      require('electron-log/main');
    } finally {
      if (saved) require.cache[electronPath] = saved;
      else delete require.cache[electronPath];
    }
    expect([...listeners.keys(), ...handlers]).toEqual([ELECTRON_LOG_CHANNEL, ELECTRON_LOG_CHANNEL]);
    closeLogIpc(ipcMain);
    expect(listeners.size + handlers.size).toBe(0);
  });

  it('main never calls log.initialize (which would add a preload and more IPC to every session)', () => {
    const mainDir = new URL('../../main/', import.meta.url).pathname;
    for (const name of readdirSync(mainDir).filter((n) => n.endsWith('.ts'))) {
      expect(readFileSync(join(mainDir, name), 'utf8'), name).not.toMatch(/\.initialize\s*\(/);
    }
    expect(readFileSync(join(mainDir, 'logging.ts'), 'utf8')).toMatch(/closeLogIpc\(ipcMain\)/);
  });
});
