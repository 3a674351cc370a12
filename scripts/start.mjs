#!/usr/bin/env node
// `npm start`: builds the Electron shell and runs it. Electron (45+) fetches its binary on first
// run; where that download is impossible, say so and point at the headless CLI instead of a stack.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const electronDir = join(root, 'node_modules', 'electron');

function electronBinary() {
  try {
    const rel = readFileSync(join(electronDir, 'path.txt'), 'utf8');
    const full = join(electronDir, 'dist', rel);
    return existsSync(full) ? full : undefined;
  } catch {
    return undefined;
  }
}

let binary = electronBinary();
let reason = '';
if (!binary) {
  console.log('Fetching the Electron binary (first run only)…');
  const fetch = spawnSync(process.execPath, [join(electronDir, 'install.js')], { encoding: 'utf8' });
  binary = electronBinary();
  // The installer prints a stack; the first line says why.
  reason = `${fetch.stderr ?? ''}${fetch.stdout ?? ''}`.split('\n').find((l) => l.trim()) ?? '';
}
if (!binary) {
  console.error(
    [
      `tunnelvision: the desktop app needs Electron's binary, and it could not be downloaded on this machine${reason ? ` (${reason.trim()})` : ''}.`,
      'Everything below the window works headless with the same engine and profiles:',
      '  npx tunnelvision demo                      # a demo tunnel, all on this machine',
      '  npx tunnelvision connect -L 13306:db:3306 user@bastion',
      '  npx tunnelvision --help',
      'To get the desktop app, run npm start on a machine that can reach Electron\'s download host,',
      'or set ELECTRON_MIRROR / ELECTRON_OVERRIDE_DIST_PATH (see https://www.electronjs.org/docs/latest/tutorial/installation).',
    ].join('\n'),
  );
  process.exit(1);
}

// main, preload and engine are bundled each time (a second or two); the renderer, built by vite, when absent.
const steps = [['run', '--silent', 'build:app']];
if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) steps.unshift(['run', '--silent', 'build:renderer']);
for (const args of steps) {
  const build = spawnSync('npm', args, { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// Electron starts from package.json "main" (out/main/index.js).
const app = spawn(binary, [root], { cwd: root, stdio: 'inherit' });
app.on('exit', (code) => process.exit(code ?? 0));
