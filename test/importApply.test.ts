// An import saves exactly what the person reviewed, or nothing: the engine keeps what reviewImport
// showed under its reviewId, applyImport saves that once, and refuses when the saved profiles changed
// meanwhile so that applying would now replace something the review did not show.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { STALE_REVIEW } from '../app/profiles/transfer.js';
import { EngineService } from '../app/service/engineService.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-import-apply-'));
let engine: EngineService;
let n = 0;

beforeEach(async () => {
  await engine?.dispose();
  engine = new EngineService({ configDir: join(dir, `config-${++n}`) });
});
afterAll(async () => {
  await engine?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const profile = (id: string, host: string) => ({ id, name: id, server: { host }, forwards: [{ type: 'local', bindPort: 15432, targetHost: 'db', targetPort: 5432 }] });
const file = (...profiles: unknown[]) => JSON.stringify({ version: 1, profiles });
const saved = async () => (await engine.listProfiles()).map((v) => [v.profile.id, v.profile.kind === 'ssh' ? v.profile.server.host : '']);

async function review(text: string): Promise<string> {
  const r = await engine.reviewImport({ kind: 'profiles', text });
  if (!r.ok) throw new Error(r.error);
  return r.reviewId;
}

describe('applyImport', () => {
  it('saves what was reviewed, once', async () => {
    const id = await review(file(profile('a', 'a.example.com')));
    expect(await engine.applyImport(id)).toMatchObject({ ok: true, report: { added: ['a'] } });
    expect(await saved()).toEqual([['a', 'a.example.com']]);
    expect(await engine.applyImport(id)).toEqual({ ok: false, error: expect.stringMatching(/^This import review is no longer open/) });
  });

  it('refuses when a profile saved after the review would be replaced: reviewed as "add", it would now be an update', async () => {
    const id = await review(file(profile('prod', 'attacker.example.net')));
    // Another window (or the CLI) saves the person's own "prod" while they read the review.
    expect((await engine.saveProfile(profile('prod', 'db.internal.example.com'))).ok).toBe(true);
    expect(await engine.applyImport(id)).toEqual({ ok: false, error: STALE_REVIEW });
    expect(await saved()).toEqual([['prod', 'db.internal.example.com']]);
  });

  it('refuses when the profile it replaces was edited after the review', async () => {
    expect((await engine.saveProfile(profile('prod', 'db1.example.com'))).ok).toBe(true);
    const id = await review(file(profile('prod', 'db3.example.com')));
    expect((await engine.saveProfile(profile('prod', 'db2.example.com'))).ok).toBe(true);
    expect(await engine.applyImport(id)).toEqual({ ok: false, error: STALE_REVIEW });
    expect(await saved()).toEqual([['prod', 'db2.example.com']]);
  });

  it('is unaffected by changes to profiles the import does not touch', async () => {
    const id = await review(file(profile('a', 'a.example.com')));
    expect((await engine.saveProfile(profile('other', 'other.example.com'))).ok).toBe(true);
    expect(await engine.applyImport(id)).toMatchObject({ ok: true, report: { added: ['a'] } });
    expect((await saved()).sort()).toEqual([['a', 'a.example.com'], ['other', 'other.example.com']]);
  });

  it('refuses a review id it never gave', async () => {
    expect(await engine.applyImport('00000000-0000-4000-8000-000000000000')).toEqual({ ok: false, error: expect.stringMatching(/^This import review is no longer open/) });
    expect(await saved()).toEqual([]);
  });
});
