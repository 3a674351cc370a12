// Concurrent edits of the profile file from several processes (CLI imports) and this process (the
// engine's saves): every edit lands, and a reader never sees half a file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ProfileStore } from '../app/profiles/store.js';
import { parseProfile } from '../app/profiles/validate.js';
import { runCli } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-concurrent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function profile(id: string) {
  return { id, name: id, server: { host: 'db.example.com' }, forwards: [{ type: 'local', bindPort: 10000 + Number(id.slice(1)), targetHost: 'db', targetPort: 3306 }] };
}

it('8 CLI imports and 8 in-process saves at once: all 16 profiles land; the file is always whole', async () => {
  const configDir = join(dir, 'config');
  const store = new ProfileStore(configDir);
  await store.save([]);

  let reads = 0;
  let torn = 0;
  let reading = true;
  const reader = (async () => {
    while (reading) {
      try {
        JSON.parse(readFileSync(store.file, 'utf8'));
        reads++;
      } catch {
        torn++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();

  const cli = Array.from({ length: 8 }, (_, i) => {
    const file = join(dir, `c${i}.json`);
    writeFileSync(file, JSON.stringify(profile(`c${i}`)));
    return runCli(['import', file, '--yes', '--config-dir', configDir]).exit;
  });
  const local = Array.from({ length: 8 }, (_, i) =>
    store.update((all) => {
      const parsed = parseProfile(profile(`e${i}`));
      if (parsed.ok) all.push(parsed.value);
    }),
  );
  const exits = await Promise.all(cli);
  await Promise.all(local);
  reading = false;
  await reader;

  expect(exits.map((e) => e.code)).toEqual(Array(8).fill(0));
  const ids = (await store.load()).profiles.map((p) => p.id).sort();
  expect(ids).toEqual([...Array.from({ length: 8 }, (_, i) => `c${i}`), ...Array.from({ length: 8 }, (_, i) => `e${i}`)].sort());
  expect(torn).toBe(0);
  expect(reads).toBeGreaterThan(0);
});
