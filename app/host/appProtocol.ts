// What app:// answers, without Electron: the renderer's files and nothing else, each response with
// the page's Content-Security-Policy as a header. main/protocol.ts hands requests here; tested in
// Node (test/host/appProtocol.test.ts), traversal attempts included.
import { realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'tunnelvision';
/** The page main loads, and the only sender IPC accepts (isAppUrl). */
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export interface AppResponse {
  status: 200 | 404 | 405;
  headers: Record<string, string>;
  /** The file to send, for 200: a real path inside the root. */
  file?: string;
}

/**
 * The answer to `method url` from the files under `root`: 200 with the file for a regular file
 * inside root (after decoding, `..` and symbolic links), 404 for anything else, 405 for a method
 * other than GET or HEAD. Every answer carries `csp`.
 */
export async function resolveAppRequest(root: string, url: string, method: string, csp: string): Promise<AppResponse> {
  const headers = { 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };
  const notFound: AppResponse = { status: 404, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } };
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' } };
  let path: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return notFound;
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return notFound;
  }
  // Decoding may bring back what URL parsing already folded: `..`, backslashes, NUL.
  if (path.includes('\0') || path.includes('\\') || path.split('/').some((s) => s === '..' || s === '.')) return notFound;
  if (path === '/' || path === '') path = '/index.html';
  try {
    const base = await realpath(root);
    const file = await realpath(resolve(base, `.${path}`));
    if (!file.startsWith(base + sep)) return notFound;
    if (!(await stat(file)).isFile()) return notFound;
    const type = CONTENT_TYPES[extname(file).toLowerCase()];
    if (!type) return notFound;
    return { status: 200, headers: { ...headers, 'Content-Type': type }, file };
  } catch {
    return notFound;
  }
}
