// Electron main: one instance, one window, a tray, the engine in a utility process. Everything with
// logic of its own lives in app/host (Electron-free and tested in Node); this file wires it to Electron.
import { join } from 'node:path';
import { Notification, app, dialog, net, powerMonitor, safeStorage, utilityProcess, type BrowserWindow } from 'electron';
import { EngineHost, type ChildLike } from '../app/host/engineHost.js';
import { ExternalLinks } from '../app/host/externalLinks.js';
import { openPreferences } from '../app/host/preferences.js';
import { captureSecrets } from '../app/host/secretCapture.js';
import { SecretStore } from '../app/host/secretStore.js';
import { TunnelBoard } from '../app/host/tunnelBoard.js';
import { defaultConfigDir } from '../app/profiles/store.js';
import type { PromptAnswer, TunnelClient } from '../app/shared/contract.js';
import { registerIpc } from './ipc.js';
import { logTunnels, setupLogging } from './logging.js';
import { ENGINE_ENTRY } from './paths.js';
import { registerAppScheme, serveApp } from './protocol.js';
import { createTray } from './tray.js';
import { createWindow, hardenSession } from './window.js';

const NETWORK_POLL_MS = 5_000;

// The same folder the CLI and the engine use for profiles (TUNNELVISION_CONFIG_DIR, else the platform's);
// productName in package.json names the log folder the same way.
app.setPath('userData', defaultConfigDir());
registerAppScheme();

if (!app.requestSingleInstanceLock()) app.quit();
else void start();

async function start(): Promise<void> {
  let win: BrowserWindow | undefined;
  let quitting = false;
  const showWindow = () => {
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  };
  app.on('second-instance', showWindow);
  app.on('activate', showWindow);

  await app.whenReady();
  const log = setupLogging();
  const userData = app.getPath('userData');
  const { prefs, problem } = await openPreferences(userData);
  if (problem) log.warn(problem.message);

  let secretsProblem: string | undefined;
  const secrets = new SecretStore({
    file: join(userData, 'secrets.json'),
    safeStorage,
    confirmPlainStorage,
    onProblem: ({ message }) => {
      log.warn(message);
      if (win && !win.isDestroyed()) void dialog.showMessageBox(win, { type: 'warning', message: 'Your saved passwords could not be read.', detail: message });
      else secretsProblem = message;
    },
  });
  const host = new EngineHost({
    entry: ENGINE_ENTRY,
    spawn: (entry): ChildLike => {
      const child = utilityProcess.fork(entry, [], { serviceName: 'Tunnelvision engine', env: { ...process.env, TUNNELVISION_CONFIG_DIR: userData }, stdio: 'pipe' });
      // The engine prints only its crash report (already redacted); it belongs in the log, not a lost stderr.
      child.stdout?.on('data', (d: Buffer) => log.info(`engine: ${d.toString().trimEnd()}`));
      child.stderr?.on('data', (d: Buffer) => log.error(`engine: ${d.toString().trimEnd()}`));
      return {
        postMessage: (m) => child.postMessage(m),
        on: (event: 'message' | 'exit', listener: (arg: never) => void) => void child.on(event as 'message', listener as (m: unknown) => void),
        kill: () => void child.kill(),
      } as ChildLike;
    },
    secrets,
    // Never the secret: which profile asked for which reference, and where it would have gone.
    onRefusedSecret: ({ profileId, ref, use, why }) =>
      log.warn(
        why === 'unbound'
          ? `${profileId}: the secret "${ref}" was saved by an older version that did not record where it may be sent; it is not used, and the person is asked again.`
          : `${profileId}: refused the secret "${ref}": it was saved for another ${use.kind === 'ssh' ? 'server, port or user' : 'API or user'} than ${use.kind === 'ssh' ? `${use.user}@${use.host}:${use.port}` : `${use.user} at ${use.api}`}. The person is asked instead.`,
      ),
  });
  host.on('crash', ({ code, restartInMs }) => log.error(`The engine exited (code ${code}); restarting it in ${restartInMs} ms.`));
  host.on('restarted', ({ reopening }) => log.info(`Engine restarted; reopening ${reopening.join(', ') || 'nothing'}.`));
  const client = host.client;

  const links = new ExternalLinks();
  const capture = captureSecrets(client, secrets, (profileId, result) => {
    if (!result.stored) log.info(`${profileId}: the secret was used for this connection only (${result.reason})`);
  });
  registerIpc(client, (promptId, answer) => {
    capture.answered(promptId, answer as PromptAnswer);
  });
  logTunnels(client);
  allowOpenedLinks(client, links);

  const board = new TunnelBoard(client);
  board.on('notice', (notice) => {
    if (!prefs.get('notifications')[notice.kind] || !Notification.isSupported()) return;
    const note = new Notification({ title: notice.title, body: notice.body });
    note.on('click', showWindow);
    note.show();
  });
  const report = (err: unknown) => log.error(err instanceof Error ? err.message : String(err));
  const quit = () => app.quit();
  const tray = createTray(board, client, prefs, { showWindow, quit, report });

  // Lets a test (Playwright's electronApp.evaluate, main process only) read the tray's menu; no page can reach it.
  Object.assign(globalThis, { tunnelvision: { trayItems: () => board.items(), tray } });

  const applyLoginItem = () => app.setLoginItemSettings({ openAtLogin: prefs.get('startAtLogin') });
  applyLoginItem();
  prefs.onDidChange('startAtLogin', applyLoginItem);

  // After sleep or a network change every backoff wait is stale: try now.
  powerMonitor.on('resume', () => void client.retryNow().catch(report));
  let online = net.isOnline();
  setInterval(() => {
    const now = net.isOnline();
    if (now && !online) void client.retryNow().catch(report);
    online = now;
  }, NETWORK_POLL_MS).unref();

  hardenSession();
  serveApp();
  win = createWindow(prefs, links);
  win.on('close', (e) => {
    if (quitting || !prefs.get('closeToTray')) return;
    e.preventDefault();
    win?.hide();
  });
  win.on('closed', () => {
    win = undefined;
    if (!quitting) app.quit();
  });
  if (problem) void dialog.showMessageBox(win, { type: 'warning', message: 'Your preferences could not be read.', detail: problem.message });
  if (secretsProblem) void dialog.showMessageBox(win, { type: 'warning', message: 'Your saved passwords could not be read.', detail: secretsProblem });

  // Every tunnel closes, its port freed, before the process ends.
  let closed = false;
  app.on('before-quit', (e) => {
    quitting = true;
    if (closed) return;
    e.preventDefault();
    void host.shutdown().finally(() => {
      closed = true;
      board.dispose();
      capture.dispose();
      app.quit();
    });
  });

  try {
    await board.refresh();
    await startAutoStartProfiles(client);
  } catch (err) {
    report(err);
  }

  function confirmPlainStorage(): Promise<boolean> {
    const options = {
      type: 'warning' as const,
      buttons: ['Use for this connection only', 'Store without a keyring'],
      defaultId: 0,
      cancelId: 0,
      message: 'No keyring is available to protect saved passwords and logins.',
      detail:
        'This system offers no secret service (such as GNOME Keyring or KWallet), so a saved password or login would be protected only by a key built into the app: anyone who can read your files could recover it. Store it anyway, or type the password again at each connection?',
    };
    const box = win && !win.isDestroyed() ? dialog.showMessageBox(win, options) : dialog.showMessageBox(options);
    return box.then((r) => r.response === 1);
  }
}

async function startAutoStartProfiles(client: TunnelClient): Promise<void> {
  for (const { profile } of await client.listProfiles()) if (profile.autoStart) await client.start(profile.id);
}

/** The demo page and open HTTP tunnels may be opened in the browser: the app made those addresses. */
function allowOpenedLinks(client: TunnelClient, links: ExternalLinks): void {
  client.on('state', ({ profileId, state }) => {
    if (state.state !== 'open') return;
    void client.listProfiles().then((views) => {
      const profile = views.find((v) => v.profile.id === profileId)?.profile;
      const http = profile && 'client' in profile && profile.client?.kind === 'http';
      if (profileId !== 'demo' && !http) return;
      for (const f of state.forwards) if (f.type === 'local') links.allow(`http://${f.bindHost.includes(':') ? `[${f.bindHost}]` : f.bindHost}:${f.bindPort}/`);
      // An engine restarting now reports the tunnel open again afterwards, and this runs again then.
    }).catch(() => {});
  });
}
