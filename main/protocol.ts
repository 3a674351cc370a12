// The page is served from app://tunnelvision/, not file://: every response carries the CSP header
// and only the renderer's own files can be read (the decision is app/host/appProtocol.ts).
import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { APP_SCHEME, resolveAppRequest } from '../app/host/appProtocol.js';
import { RENDERER_DIR } from './paths.js';
import { CSP } from './webPreferences.js';

/** Before the app is ready: a standard, secure scheme (its own origin, like https). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);
}

/** Once ready. */
export function serveApp(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const answer = await resolveAppRequest(RENDERER_DIR, request.url, request.method, CSP);
    const body = answer.file && request.method === 'GET' ? await readFile(answer.file) : answer.status === 200 ? null : 'Not found';
    return new Response(body, { status: answer.status, headers: answer.headers });
  });
}
