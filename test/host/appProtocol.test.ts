// app:// serves the renderer's files and nothing else, every answer with the CSP header.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_URL, resolveAppRequest } from '../../app/host/appProtocol.js';
import { isAppUrl } from '../../app/host/ipcHandlers.js';
import { CSP } from '../../main/webPreferences.js';

let dir: string;
let root: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-proto-'));
  root = join(dir, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'app.js'), 'x');
  writeFileSync(join(root, 'assets', 'app.css'), 'x');
  writeFileSync(join(root, 'assets', 'notes.txt'), 'x');
  writeFileSync(join(dir, 'secret.json'), '{"password":"x"}');
  symlinkSync(join(dir, 'secret.json'), join(root, 'assets', 'link.json'));
  symlinkSync(dir, join(root, 'up'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => resolveAppRequest(root, url, method, CSP);

describe('app:// protocol', () => {
  it.each([
    ['app://tunnelvision/index.html', 'index.html', 'text/html; charset=utf-8'],
    ['app://tunnelvision/', 'index.html', 'text/html; charset=utf-8'],
    ['app://tunnelvision/assets/app.js?v=1#x', 'assets/app.js', 'text/javascript; charset=utf-8'],
    ['app://tunnelvision/assets/app.css', 'assets/app.css', 'text/css; charset=utf-8'],
  ])('serves %s with its type and the CSP', async (url, file, type) => {
    const r = await get(url);
    expect(r).toMatchObject({ status: 200, file: join(root, file) });
    expect(r.headers).toMatchObject({ 'Content-Type': type, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
  });

  it.each([
    'app://tunnelvision/../secret.json',
    'app://tunnelvision/%2e%2e/secret.json',
    'app://tunnelvision/assets/%2E%2E/%2E%2E/secret.json',
    'app://tunnelvision/assets/..%2f..%2fsecret.json',
    'app://tunnelvision/assets/..%5c..%5csecret.json',
    'app://tunnelvision/%252e%252e/secret.json',
    'app://tunnelvision/index.html%00.js',
    'app://tunnelvision/assets/link.json',
    'app://tunnelvision/up/secret.json',
    'app://tunnelvision/assets',
    'app://tunnelvision/assets/notes.txt',
    'app://tunnelvision/missing.js',
    'app://tunnelvision/%E0%A4%A',
    'app://elsewhere/index.html',
    `file://${root}/index.html`,
  ])('refuses %s with 404 (CSP still set)', async (url) => {
    const r = await get(url);
    expect(r.status).toBe(404);
    expect(r.file).toBeUndefined();
    expect(r.headers['Content-Security-Policy']).toBe(CSP);
  });

  it('answers only GET and HEAD', async () => {
    expect((await get(APP_URL, 'HEAD')).status).toBe(200);
    expect(await get(APP_URL, 'POST')).toMatchObject({ status: 405, headers: { Allow: 'GET, HEAD', 'Content-Security-Policy': CSP } });
  });

  it('only the app:// page may call main', () => {
    expect(isAppUrl('app://tunnelvision/index.html#/profiles', APP_URL)).toBe(true);
    expect(isAppUrl(`file://${root}/index.html`, APP_URL)).toBe(false);
    expect(isAppUrl('app://tunnelvision/other.html', APP_URL)).toBe(false);
    expect(isAppUrl('app://evil/index.html', APP_URL)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:8080/index.html', APP_URL)).toBe(false);
  });
});
