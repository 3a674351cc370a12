// The window's security settings as plain data and pure functions, so they are tested in Node
// without Electron (test/rendererIsolation.e2e.test.ts); main/window.ts only wires them in. Only a
// type comes from Electron: the compiler still checks every key against its WebPreferences.
import type { WebPreferences } from 'electron';

/** The CSP header main adds to the app's own files (renderer/index.html carries a meta policy too). */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** Isolated and sandboxed, no Node anywhere in the page (frames and workers included), web security on. */
export function windowWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    spellcheck: false,
  };
}

/**
 * What the window does when the page asks for a new window: never open one; an address the app made
 * itself (`isAllowed`) goes to the person's browser instead.
 */
export function decideWindowOpen(url: string, isAllowed: (url: string) => boolean, openExternal: (url: string) => void): { action: 'deny' } {
  if (isAllowed(url)) openExternal(url);
  return { action: 'deny' };
}

/**
 * For will-navigate, will-redirect and will-attach-webview: the page is a single-page app, so any
 * real navigation (or a webview) means something went wrong or was injected.
 */
export function refuse(event: { preventDefault(): void }): void {
  event.preventDefault();
}
