// Preferences through conf, for real on disk: defaults, schema, file mode, migrations of older
// files, and an unreadable file kept aside rather than wiped.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFERENCES_FILE, PREFERENCES_VERSION, openPreferences } from '../../app/host/preferences.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tv-prefs-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fresh = () => mkdtempSync(join(root, 'p-'));
const fileIn = (dir: string) => join(dir, PREFERENCES_FILE);

describe('preferences', () => {
  it('start from defaults, persist changes with mode 0600, and record the format version', async () => {
    const dir = fresh();
    const { prefs, problem } = await openPreferences(dir);
    expect(problem).toBeUndefined();
    expect(prefs.store).toMatchObject({ closeToTray: true, startAtLogin: false, notifications: { drop: true, recover: true, fail: true } });
    expect(prefs.get('windowBounds')).toBeUndefined();
    prefs.set('closeToTray', false);
    prefs.set('windowBounds', { x: 10, y: 20, width: 900, height: 600 });
    const again = (await openPreferences(dir)).prefs;
    expect(again.get('closeToTray')).toBe(false);
    expect(again.get('windowBounds')).toEqual({ x: 10, y: 20, width: 900, height: 600 });
    expect(statSync(fileIn(dir)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(fileIn(dir), 'utf8')).__internal__.migrations.version).toBe(PREFERENCES_VERSION);
  });

  it('refuse values outside the schema, leaving the file as it was', async () => {
    const { prefs } = await openPreferences(fresh());
    expect(() => prefs.set('closeToTray', 'yes' as unknown as boolean)).toThrow(/schema/);
    expect(() => prefs.set('windowBounds', { width: 10, height: 10 })).toThrow(/schema/);
    expect(() => prefs.set('notifications', { drop: true } as never)).toThrow(/schema/);
    expect(prefs.get('closeToTray')).toBe(true);
  });

  it('migrate a version 1 file: the single notifications switch becomes one per kind', async () => {
    for (const old of [true, false]) {
      const dir = fresh();
      writeFileSync(fileIn(dir), JSON.stringify({ closeToTray: false, notifications: old, __internal__: { migrations: { version: '1.0.0' } } }));
      const { prefs, problem } = await openPreferences(dir);
      expect(problem).toBeUndefined();
      expect(prefs.get('notifications')).toEqual({ drop: old, recover: old, fail: old });
      expect(prefs.get('closeToTray')).toBe(false);
      expect(prefs.get('startAtLogin')).toBe(false);
      expect(JSON.parse(readFileSync(fileIn(dir), 'utf8')).__internal__.migrations.version).toBe(PREFERENCES_VERSION);
    }
  });

  it('leave a current file alone when reopened (migrations run once)', async () => {
    const dir = fresh();
    const { prefs } = await openPreferences(dir);
    prefs.set('notifications', { drop: false, recover: true, fail: true });
    expect((await openPreferences(dir)).prefs.get('notifications')).toEqual({ drop: false, recover: true, fail: true });
  });

  for (const [what, text] of [
    ['not JSON', '{ "closeToTray": tru'],
    ['outside the schema', JSON.stringify({ closeToTray: 'sometimes', __internal__: { migrations: { version: PREFERENCES_VERSION } } })],
  ] as const) {
    it(`keep a file that is ${what} as a dated backup and start from defaults`, async () => {
      const dir = fresh();
      writeFileSync(fileIn(dir), text);
      const { prefs, problem } = await openPreferences(dir);
      expect(prefs.get('closeToTray')).toBe(true);
      expect(problem?.message).toContain('defaults are used');
      expect(problem && existsSync(problem.backup)).toBe(true);
      expect(readFileSync(problem!.backup, 'utf8')).toBe(text);
      expect(readdirSync(dir).filter((f) => f.includes('.invalid-'))).toHaveLength(1);
    });
  }
});
