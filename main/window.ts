// The one window, with Electron's security checklist applied: isolated, sandboxed preload, no Node
// in the page, a CSP header on the app's own files, no navigation, no new windows, and external
// links only to addresses the app made itself.
import { BrowserWindow, session, shell } from 'electron';
import type Conf from 'conf';
import type { ExternalLinks } from '../app/host/externalLinks.js';
import type { Preferences } from '../app/host/preferences.js';
import { PRELOAD, RENDERER_DIR_URL, RENDERER_HTML } from './paths.js';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** Once per session: the CSP header, and no web permission (camera, notifications…) for any page. */
export function hardenSession(): void {
  session.defaultSession.webRequest.onHeadersReceived({ urls: ['file://*/*'] }, (details, callback) => {
    const own = details.url.startsWith(`${RENDERER_DIR_URL}/`);
    callback({ responseHeaders: own ? { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } : details.responseHeaders });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
}

export function createWindow(prefs: Conf<Preferences>, links: ExternalLinks): BrowserWindow {
  const win = new BrowserWindow({
    ...(prefs.get('windowBounds') ?? { width: 1100, height: 720 }),
    minWidth: 640,
    minHeight: 420,
    show: false,
    title: 'Tunnelvision',
    webPreferences: { preload: PRELOAD, contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, spellcheck: false },
  });
  const contents = win.webContents;
  contents.setWindowOpenHandler(({ url }) => {
    if (links.isAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  // The page is a single-page app: any real navigation means something went wrong or was injected.
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  win.once('ready-to-show', () => win.show());
  const saveBounds = () => {
    if (!win.isMinimized() && !win.isMaximized()) prefs.set('windowBounds', win.getNormalBounds());
  };
  win.on('resized', saveBounds);
  win.on('moved', saveBounds);
  void win.loadFile(RENDERER_HTML);
  return win;
}
