// The page cannot reach Node, the file system or any IPC channel beyond the contract, checked from
// the page itself in Debian's Chromium (Electron's binary cannot be downloaded everywhere; the
// Electron suite in test/electron/ checks the same from the real window where it can run). The
// renderer is the built one; window.tunnelvision is made by the real main/preload.ts, bundled with a
// stand-in for the `electron` module that carries ipcRenderer.invoke over a WebSocket to main's real
// handlers (app/host/ipcHandlers.ts) and a real EngineService. What Chromium cannot show is
// Electron's context isolation itself (the preload runs here as the page's first script, in the
// page's world), so the checks are on what the page can see and do; the window's settings that
// turn isolation on (main/webPreferences.ts) are checked at the end, without Electron.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { build, stop as stopEsbuild } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ExternalLinks } from '../app/host/externalLinks.js';
import { createIpcHandler, forwardEvents } from '../app/host/ipcHandlers.js';
import { EngineService } from '../app/service/engineService.js';
import { METHOD_NAMES, methodChannel, type MethodName, type TunnelClient } from '../app/shared/contract.js';
import { CSP, decideWindowOpen, refuse, windowWebPreferences } from '../main/webPreferences.js';

const root = new URL('../', import.meta.url).pathname;
const STAND_IN = join(root, 'test/fixtures/electronPreloadStandIn.mjs');
const UI_TIMEOUT = 20_000;
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.map': 'application/json' };

/**
 * Runs as one of the page's own scripts: tries eval, new Function, an inline script and an inline
 * handler, waits for the eight CSP reports (each attempt breaks both policies, the header and the
 * meta), and hands what happened back as a 'csp-probe-done' event.
 */
const CSP_PROBE = `(() => {
  const violations = [];
  const attempt = (f) => { try { f(); return 'ran'; } catch (e) { return e.name; } };
  const done = () => {
    const ran = ['__evalRan', '__functionRan', '__inlineRan', '__handlerRan'].filter((k) => k in globalThis);
    document.dispatchEvent(new CustomEvent('csp-probe-done', { detail: { evaluated, constructed, ran, violations } }));
  };
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push([e.effectiveDirective, e.blockedURI, e.originalPolicy]);
    if (violations.length === 8) { div.remove(); script.remove(); done(); }
  });
  const evaluated = attempt(() => (0, eval)('globalThis.__evalRan = true'));
  const constructed = attempt(() => new Function('globalThis.__functionRan = true')());
  const script = document.createElement('script');
  script.textContent = 'globalThis.__inlineRan = true';
  document.head.append(script);
  const div = document.createElement('div');
  div.setAttribute('onclick', 'globalThis.__handlerRan = true');
  document.body.append(div);
  div.click();
})();`;

/** The page's global scope as a script in it sees it (the test config has no DOM types). */
type PageGlobals = Record<string, unknown> & { tunnelvision: TunnelClient };
/** The few DOM pieces the checks below use. */
type PageElement = { src: string; append(e: PageElement): void };
type PageDocument = {
  head: PageElement;
  createElement(tag: string): PageElement;
  addEventListener(type: string, listener: (e: { detail: unknown }) => void, options?: { once: boolean }): void;
};
type Xhr = { onload: () => void; onerror: () => void; responseText: string; open(method: string, url: string): void; send(): void };

let temp: string;
let engine: EngineService;
let server: Server;
let wss: WebSocketServer;
let browser: Browser;
let page: Page;
/** Every channel the page's preload invoked, in order, as main would have received them. */
const invoked: string[] = [];
const pageProblems: string[] = [];

/** main/ipc.ts's ipcMain.handle registrations, on the stand-in transport: one handler per contract method, nothing else. */
function startMain(renderer: string, preload: () => string): Promise<string> {
  const handlers = new Map<string, MethodName>(METHOD_NAMES.map((m) => [methodChannel(m), m]));
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const headers = (file: string) => ({ 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP });
    if (path === '/preload.js') return void res.writeHead(200, headers(path)).end(preload());
    // Chromium asks for one; a 404 would show as a console error of the page.
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    if (path === '/csp-probe.js') return void res.writeHead(200, headers(path)).end(CSP_PROBE);
    const file = normalize(join(renderer, decodeURIComponent(path)));
    if (!file.startsWith(renderer + sep)) return void res.writeHead(404).end();
    // Every file gets the header main adds to the app's own files in Electron (hardenSession), on
    // top of the meta policy in the built index.html, so it is in force before the preload runs, as
    // there. The preload goes first in the document, before the page's own scripts.
    readFile(file).then(
      (body) => res.writeHead(200, headers(file)).end(file.endsWith('index.html') ? body.toString('utf8').replace('<head>', '<head><script src="./preload.js"></script>') : body),
      () => res.writeHead(404).end(),
    );
  });
  wss = new WebSocketServer({ server, path: '/ipc' });
  wss.on('connection', (ws) => {
    let appUrl: string | undefined;
    const stopEvents = forwardEvents(engine, (channel, payload) => ws.send(JSON.stringify({ t: 'event', channel, payload })));
    ws.on('close', stopEvents);
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as { id: number; channel: string; args: unknown[]; senderUrl: string };
      invoked.push(msg.channel);
      // The app's own page is the one the window loaded first, as APP_URL is in main/paths.ts.
      appUrl ??= msg.senderUrl;
      const method = handlers.get(msg.channel);
      // What Electron's ipcRenderer.invoke rejects with for a channel main never registered.
      if (!method) return ws.send(JSON.stringify({ t: 'ret', id: msg.id, ok: false, message: `No handler registered for '${msg.channel}'` }));
      const handle = createIpcHandler({ client: engine, appUrl });
      void handle(method, msg.senderUrl, msg.args).then((value) => ws.send(JSON.stringify({ t: 'ret', id: msg.id, ok: true, value })));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

/** main/preload.ts as one script for the page, with the stand-in behind `import ... from 'electron'`. */
async function preloadScript(ipcUrl: string): Promise<string> {
  const out = await build({
    absWorkingDir: root,
    entryPoints: ['main/preload.ts'],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'chrome130',
    logLevel: 'warning',
    alias: { electron: STAND_IN },
    define: { __TV_IPC_URL__: JSON.stringify(ipcUrl) },
  });
  // esbuild's service process would otherwise outlive the file.
  await stopEsbuild();
  return out.outputFiles[0]!.text;
}

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'tv-isolation-'));
  const renderer = join(temp, 'renderer');
  // Its own copy of the built renderer: other suites build and read out/renderer meanwhile.
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'vite.renderer.config.ts', '--outDir', renderer, '--emptyOutDir'], { cwd: root, stdio: 'inherit' });
  engine = new EngineService({ configDir: join(temp, 'config') });
  let preload = '';
  const host = await startMain(renderer, () => preload);
  preload = await preloadScript(`ws://${host}/ipc`);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  page.on('pageerror', (e) => pageProblems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageProblems.push(m.text()));
  await page.goto(`http://${host}/index.html`);
  // The app itself came up on the preload's client: its first screen needs listProfiles to answer.
  await page.getByRole('button', { name: 'Try a demo tunnel' }).waitFor();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const ws of wss?.clients ?? []) ws.terminate();
  if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await engine?.dispose();
  if (temp) rmSync(temp, { recursive: true, force: true });
}, 60_000);

describe('from the page', () => {
  it('the app ran on the preload and reached main on contract channels only, with no error', () => {
    expect(invoked.length).toBeGreaterThan(0);
    expect(invoked.filter((c) => !METHOD_NAMES.some((m) => methodChannel(m) === c))).toEqual([]);
    expect(pageProblems.join('\n')).toBe('');
  });

  it('no Node: require, process, module, exports, Buffer, global and friends are not there', async () => {
    const names = ['require', 'process', 'module', 'exports', 'Buffer', 'global', '__dirname', '__filename', 'setImmediate', 'ipcRenderer', 'electron', 'contextBridge'];
    const seen = await page.evaluate((names) => Object.fromEntries(names.map((n) => [n, typeof (globalThis as Record<string, unknown>)[n]])), names);
    expect(seen).toEqual(Object.fromEntries(names.map((n) => [n, 'undefined'])));
    // And the require() a bundler's runtime would leave behind is not reachable through any global either.
    const nodeish = await page.evaluate(() => Object.getOwnPropertyNames(globalThis).filter((n) => /^(require|process|module|exports|Buffer)$|ipc|electron/i.test(n)));
    expect(nodeish).toEqual([]);
  });

  it("window.tunnelvision is exactly the contract's methods plus on: no send, invoke or ipcRenderer", async () => {
    const api = await page.evaluate(() => {
      const tv = (globalThis as unknown as PageGlobals).tunnelvision as unknown as Record<string | symbol, unknown>;
      return {
        keys: Reflect.ownKeys(tv).map(String).sort(),
        kinds: [...new Set(Reflect.ownKeys(tv).map((k) => typeof tv[k]))],
        protoIsObject: Object.getPrototypeOf(tv) === Object.prototype,
        generic: ['send', 'sendSync', 'invoke', 'postMessage', 'ipcRenderer', 'ipc', 'emit', 'call', 'require'].filter((k) => k in tv),
      };
    });
    expect(api.keys).toEqual([...METHOD_NAMES, 'on'].sort());
    expect(api).toMatchObject({ kinds: ['function'], protoIsObject: true, generic: [] });
  });

  it('there is no way to another channel: unknown events throw, off-contract arguments are refused by main', async () => {
    const before = invoked.length;
    const outcome = await page.evaluate(async () => {
      const tv = (globalThis as unknown as PageGlobals).tunnelvision as unknown as Record<string, (...a: unknown[]) => unknown>;
      const settle = (p: unknown) =>
        Promise.resolve(p).then(
          (v) => `answered ${JSON.stringify(v)}`,
          (e: { code?: string; message?: string }) => `${e.code ?? 'no code'}: ${e.message ?? ''}`,
        );
      let unknownEvent: string;
      try {
        tv.on!('tunnelvision:call:start', () => {});
        unknownEvent = 'subscribed';
      } catch (e) {
        unknownEvent = (e as Error).message;
      }
      return {
        unknownEvent,
        // Ill-typed arguments, and an argument shaped like a channel name: main validates and refuses.
        wrongType: await settle(tv.start!(42)),
        channelAsArg: await settle(tv.stop!('tunnelvision:call:deleteProfile', 'extra')),
        badProfile: await settle(tv.saveProfile!({ kind: 'ssh', evil: true })),
      };
    });
    expect(outcome.unknownEvent).toBe('There is no event "tunnelvision:call:start".');
    expect(outcome.wrongType).toMatch(/^CONFIG_INVALID: Invalid arguments for start/);
    expect(outcome.channelAsArg).toMatch(/^CONFIG_INVALID: Invalid arguments for stop/);
    // saveProfile takes anything and answers with field errors; nothing is saved.
    expect(outcome.badProfile).toMatch(/^answered \{"ok":false,"errors":\[/);
    // Each call went out on its own method's channel, never another.
    expect(invoked.slice(before)).toEqual([methodChannel('start'), methodChannel('stop'), methodChannel('saveProfile')]);
  });

  it('the file system is out of reach: fetch and XHR of file:///etc/passwd fail', async () => {
    const result = await page.evaluate(async () => {
      const fetched = await fetch('file:///etc/passwd').then(
        async (r) => `read ${(await r.text()).length} bytes`,
        (e: Error) => e.name,
      );
      const xhr = await new Promise<string>((resolve) => {
        const x = new (globalThis as unknown as { XMLHttpRequest: new () => Xhr }).XMLHttpRequest();
        x.onload = () => resolve(`read ${String(x.responseText).length} bytes`);
        x.onerror = () => resolve('error');
        try {
          x.open('GET', 'file:///etc/passwd');
          x.send();
        } catch (e) {
          resolve((e as Error).name);
        }
      });
      return { fetched, xhr };
    });
    expect(result.fetched).toBe('TypeError');
    expect(result.xhr).not.toMatch(/^read/);
  });

  it("the page's CSP blocks eval, new Function, inline script and inline handlers, and says so", async () => {
    const meta = await page.evaluate(() => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content'));
    expect(scriptSources(meta ?? '')).toEqual(["'self'"]);
    // Code the test evaluates through DevTools is exempt from the page's CSP, so the attempts run
    // in a script of the page's own (./csp-probe.js, from 'self'), which reports back by an event.
    const result = await page.evaluate(
      () =>
        new Promise<{ evaluated: string; constructed: string; ran: string[]; violations: [string, string, string][] }>((resolve) => {
          const doc = (globalThis as unknown as { document: PageDocument }).document;
          doc.addEventListener('csp-probe-done', (e) => resolve(e.detail as Parameters<typeof resolve>[0]), { once: true });
          const probe = doc.createElement('script');
          probe.src = './csp-probe.js';
          doc.head.append(probe);
        }),
    );
    const which = (policy: string) => (policy === CSP ? 'header' : policy === meta ? 'meta' : `another policy: ${policy}`);
    expect({ ...result, violations: result.violations.map(([directive, blocked, policy]) => `${directive} ${blocked} (${which(policy)})`).sort() }).toEqual({
      evaluated: 'EvalError',
      constructed: 'EvalError',
      ran: [],
      violations: ['script-src eval', 'script-src eval', 'script-src-elem inline', 'script-src-attr inline'].flatMap((v) => [`${v} (header)`, `${v} (meta)`]).sort(),
    });
  });
});

describe("the window's settings (main/webPreferences.ts, what main/window.ts passes to Electron)", () => {
  it('isolated, sandboxed, no Node anywhere, web security on, the preload it was given', () => {
    const prefs = windowWebPreferences('/app/out/preload/index.cjs');
    expect(prefs).toMatchObject({ preload: '/app/out/preload/index.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInSubFrames: false, nodeIntegrationInWorker: false, webviewTag: false });
    expect(prefs.webSecurity).not.toBe(false);
    expect(prefs.allowRunningInsecureContent).not.toBe(true);
    expect(prefs.experimentalFeatures).not.toBe(true);
    for (const key of ['enableBlinkFeatures', 'additionalArguments', 'enableRemoteModule', 'disableBlinkFeatures'] as const) expect(prefs).not.toHaveProperty(key);
  });

  it('window.ts builds the window from them and refuses navigation with them', () => {
    const source = readFileSync(join(root, 'main/window.ts'), 'utf8');
    expect(source).toContain('webPreferences: windowWebPreferences(PRELOAD)');
    for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) expect(source).toContain(`contents.on('${event}', refuse)`);
    expect(source).toContain('setWindowOpenHandler(({ url }) => decideWindowOpen(');
  });

  it('navigation and webviews are refused', () => {
    const event = new Event('will-navigate', { cancelable: true });
    refuse(event);
    expect(event.defaultPrevented).toBe(true);
  });

  it('a new window is always denied; only an address the app made goes to the browser', () => {
    const links = new ExternalLinks();
    links.allow('http://127.0.0.1:8080/');
    const opened: string[] = [];
    for (const url of ['http://127.0.0.1:8080/page', 'file:///etc/passwd', 'javascript:alert(1)', 'https://evil.example/', 'http://user:pw@127.0.0.1:8080/', 'about:blank']) {
      expect(decideWindowOpen(url, (u) => links.isAllowed(u), (u) => opened.push(u))).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual(['http://127.0.0.1:8080/page']);
  });

  it("main's CSP header allows scripts from the app's own files only, and no plugin, frame or base change", () => {
    expect(scriptSources(CSP)).toEqual(["'self'"]);
    const directives = parseCsp(CSP);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
  });
});

function parseCsp(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

/** What script-src allows (falling back to default-src): no unsafe-eval, no unsafe-inline, no other host. */
function scriptSources(policy: string): string[] {
  const d = parseCsp(policy);
  return d.get('script-src') ?? d.get('default-src') ?? [];
}
