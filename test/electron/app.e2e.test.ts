// The real desktop app under Playwright's Electron driver: launched with a temporary config folder,
// it opens a tunnel to a real sshd from the window, and the window and the tray show it. Where
// Electron's binary is not installed (its download host unreachable) the suite is skipped and says
// why in test-results/skipped.json, the only place scripts/test.mjs accepts a skip from.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardItem } from '../../app/host/tunnelBoard.js';
import { METHOD_NAMES, type EventPayload, type TunnelClient } from '../../app/shared/contract.js';
import { ProfileStore } from '../../app/profiles/store.js';
import { freePort } from '../support/net.js';
import { waitForExit } from '../support/proc.js';
import { profileFor } from '../support/profiles.js';
import { hashServer, sendAndHash, type TcpTarget } from '../support/servers.js';
import { Sshd } from '../support/sshd.js';

const SUITE = 'test/electron/app.e2e.test.ts';
const root = new URL('../../', import.meta.url).pathname;

/** Electron's binary as its own package finds it, without triggering the download that would. */
function electronBinary(): string | undefined {
  const dir = join(root, 'node_modules', 'electron');
  try {
    const full = join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim());
    return existsSync(full) ? full : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
if (!binary) {
  const file = join(root, 'test-results', 'skipped.json');
  mkdirSync(join(root, 'test-results'), { recursive: true });
  const others = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Array<{ suite: string }>).filter((s) => s.suite !== SUITE) : [];
  const reason = "Electron's binary is not installed (node_modules/electron/path.txt or its dist/ file is missing: the download host is unreachable from this machine); main/ is type-checked and everything below it is tested in Node instead";
  writeFileSync(file, `${JSON.stringify([...others, { suite: SUITE, reason }], null, 2)}\n`);
}

/** The page's global scope as the preload leaves it (the test config has no DOM types). */
type PageGlobals = { tunnelvision: TunnelClient; location: { href: string }; require?: unknown; process?: unknown };

let sshd: Sshd;
let target: TcpTarget;
let dir: string;
let port: number;
let app: ElectronApplication;
let page: Page;
let xvfb: ChildProcess | undefined;

/** A headless machine has no display: give the app a virtual one (Debian's xvfb). */
async function startXvfb(): Promise<string> {
  const n = 90 + Math.floor(Math.random() * 400);
  xvfb = spawn('Xvfb', [`:${n}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  const socket = `/tmp/.X11-unix/X${n}`;
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!existsSync(socket)) throw new Error('Xvfb did not start: install the xvfb package, or run with DISPLAY set.');
  return `:${n}`;
}

describe.skipIf(!binary)('desktop app (Electron)', () => {
  beforeAll(async () => {
    if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) execFileSync('npm', ['run', '--silent', 'build:renderer'], { cwd: root, stdio: 'inherit' });
    execFileSync(process.execPath, [join(root, 'scripts', 'build-app.mjs')], { cwd: root, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'tv-e2e-'));
    sshd = await Sshd.start();
    target = await hashServer();
    port = await freePort();
    const profile = profileFor(sshd, { id: 'db', name: 'Database', forwards: [{ type: 'local', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port }] });
    await new ProfileStore(dir).save([profile]);
    const display = process.env.DISPLAY ?? (await startXvfb());
    app = await electron.launch({ executablePath: binary!, args: [root], env: { ...process.env, DISPLAY: display, TUNNELVISION_CONFIG_DIR: dir }, timeout: 60_000 });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    if (xvfb && xvfb.exitCode === null) {
      const exited = waitForExit(xvfb);
      xvfb.kill();
      await exited;
    }
    await target?.close();
    await sshd?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens one window whose page has no Node and sees exactly the contract', async () => {
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    const exposed = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return { api: Object.keys(g.tunnelvision).sort(), require: typeof g.require, process: typeof g.process };
    });
    expect(exposed.require).toBe('undefined');
    expect(exposed.process).toBe('undefined');
    // The contract's methods and the subscription, nothing else: no side channel beside the contract.
    expect(exposed.api).toEqual([...METHOD_NAMES, 'on'].sort());
  });

  it('opens a tunnel from the window; the tray lists it open; data flows', async () => {
    const state = await page.evaluate(
      () =>
        new Promise<EventPayload<'state'>['state']>((resolve) => {
          const tv = (globalThis as unknown as PageGlobals).tunnelvision;
          const off = tv.on('state', (p) => {
            if (p.profileId === 'db' && p.state.state === 'open') {
              off();
              resolve(p.state);
            }
          });
          void tv.start('db');
        }),
    );
    expect(state).toMatchObject({ state: 'open', forwards: [{ bindPort: port }] });
    const r = await sendAndHash(port, 100_000);
    expect(r.reply).toBe(r.sent);
    await expect
      .poll(() => app.evaluate(() => (globalThis as unknown as { tunnelvision: { trayItems(): BoardItem[] } }).tunnelvision.trayItems()))
      .toEqual([expect.objectContaining({ profileId: 'db', running: true, label: `Database — open (${port})` })]);
  });

  it('keeps error codes across the bridge and refuses navigation', async () => {
    const err = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).tunnelvision.start('missing').catch((e: { code: string; message: string }) => ({ code: e.code, message: e.message })),
    );
    expect(err).toEqual({ code: 'CONFIG_INVALID', message: 'There is no saved profile "missing".' });
    const before = page.url();
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobals).location.href = 'https://example.com/';
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(page.url()).toBe(before);
  });

  it('closes every tunnel, port freed, when the app quits', async () => {
    await app.close();
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    expect(free).toBe(true);
  });
});
