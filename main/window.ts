// The one window, with Electron's security checklist applied: isolated, sandboxed preload, no Node
// in the page, served from app:// with a CSP header on every response (main/protocol.ts), no navigation, no new windows, and external
// links only to addresses the app made itself. The settings and decisions themselves are in
// webPreferences.ts, which has no Electron import and is tested in Node.
import { BrowserWindow, session, shell } from 'electron';
import type Conf from 'conf';
import type { ExternalLinks } from '../app/host/externalLinks.js';
import type { Preferences } from '../app/host/preferences.js';
import { APP_URL, PRELOAD } from './paths.js';
import { decideWindowOpen, refuse, windowWebPreferences } from './webPreferences.js';

/** Once per session: no web permission (camera, notifications…) for any page. */
export function hardenSession(): void {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
}

export function createWindow(prefs: Conf<Preferences>, links: ExternalLinks): BrowserWindow {
  const win = new BrowserWindow({
    ...(prefs.get('windowBounds') ?? { width: 1100, height: 720 }),
    minWidth: 640,
    minHeight: 420,
    show: false,
    title: 'Tunnelvision',
    webPreferences: windowWebPreferences(PRELOAD),
  });
  const contents = win.webContents;
  contents.setWindowOpenHandler(({ url }) => decideWindowOpen(url, (u) => links.isAllowed(u), (u) => void shell.openExternal(u)));
  contents.on('will-navigate', refuse);
  contents.on('will-redirect', refuse);
  contents.on('will-attach-webview', refuse);
  win.once('ready-to-show', () => win.show());
  const saveBounds = () => {
    if (!win.isMinimized() && !win.isMaximized()) prefs.set('windowBounds', win.getNormalBounds());
  };
  win.on('resized', saveBounds);
  win.on('moved', saveBounds);
  void win.loadURL(APP_URL);
  return win;
}
