// The bundles `npm run build:app` makes, checked where Node can: the engine bundle runs as the
// engine process (a demo tunnel opened and closed through EngineHost), and the sandboxed preload
// needs nothing but electron.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../app/host/engineHost.js';
import type { EventPayload } from '../../app/shared/contract.js';
import { forkSpawner } from './forkSpawner.js';

const root = new URL('../../', import.meta.url).pathname;
const out = (p: string) => join(root, 'out', p);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-build-'));
  execFileSync(process.execPath, [join(root, 'scripts/build-app.mjs')], { cwd: root, stdio: 'inherit' });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function requiredModules(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/\brequire\("([^"]+)"\)|\bfrom ?"([^"]+)"|\bimport\("([^"]+)"\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  return [...new Set(found.filter((m) => !builtins.has(m)))].sort();
}

describe('app bundles', () => {
  it('the sandboxed preload needs only electron; the engine only ssh2', () => {
    // main is not checked this way: ajv (under conf) holds require() calls as text for code it generates.
    expect(requiredModules(out('preload/index.cjs'))).toEqual(['electron']);
    expect(requiredModules(out('engine/engineProcess.cjs'))).toEqual(['ssh2']);
  });

  it('the bundled engine runs under EngineHost: a demo tunnel opens and shutdown closes it', async () => {
    const spawn = forkSpawner({ TUNNELVISION_CONFIG_DIR: dir });
    const host = new EngineHost({ entry: out('engine/engineProcess.cjs'), spawn, secrets: { lookup: async () => ({ found: false, why: 'none' }) } });
    try {
      const open = new Promise<EventPayload<'state'>>((resolve) => host.client.on('state', (p) => p.state.state === 'open' && resolve(p)));
      const id = await host.client.startDemo();
      await host.client.start(id);
      const { state } = await open;
      expect(state).toMatchObject({ state: 'open', forwards: [{ type: 'local' }] });
      const port = state.state === 'open' ? state.forwards[0]!.bindPort : 0;
      const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
      expect(page.status).toBe(200);
      await page.text();
    } finally {
      await host.shutdown();
    }
    expect(spawn.children[0]!.exitCode).toBe(0);
  });
});
