// The desktop app's own settings (not profiles: those live in profiles.json, shared with the CLI).
// Kept with `conf`, electron-store's Electron-free core: the same JSON-schema validation,
// migrations and atomic writes, so it runs and is tested in plain Node; main passes userData as cwd.
import { rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import Conf, { type Schema } from 'conf';

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
}

export interface Preferences {
  /** Closing the window leaves the tunnels running with the tray icon; otherwise it quits. */
  closeToTray: boolean;
  startAtLogin: boolean;
  /** Desktop notifications, per kind of event: a tunnel dropped, came back, or failed for good. */
  notifications: { drop: boolean; recover: boolean; fail: boolean };
  windowBounds?: WindowBounds;
}

/** Version of the preferences file's shape; a migration keyed by it brings older files up to it. */
export const PREFERENCES_VERSION = '2.0.0';
export const PREFERENCES_FILE = 'preferences.json';

const bool = (value: boolean) => ({ type: 'boolean', default: value }) as const;

const schema: Schema<Preferences> = {
  closeToTray: bool(true),
  startAtLogin: bool(false),
  notifications: {
    type: 'object',
    properties: { drop: { type: 'boolean' }, recover: { type: 'boolean' }, fail: { type: 'boolean' } },
    required: ['drop', 'recover', 'fail'],
    additionalProperties: false,
    default: { drop: true, recover: true, fail: true },
  },
  windowBounds: {
    type: 'object',
    properties: {
      x: { type: 'integer' },
      y: { type: 'integer' },
      width: { type: 'integer', minimum: 320, maximum: 16384 },
      height: { type: 'integer', minimum: 240, maximum: 16384 },
    },
    required: ['width', 'height'],
    additionalProperties: false,
  },
};

type Store = Conf<Preferences>;

export const PREFERENCE_MIGRATIONS: Record<string, (store: Store) => void> = {
  // Version 1 had one switch for every notification; each kind now has its own, starting as that switch was.
  '2.0.0': (store) => {
    const old: unknown = store.get('notifications');
    if (typeof old === 'boolean') store.set('notifications', { drop: old, recover: old, fail: old });
  },
};

export interface OpenedPreferences {
  prefs: Store;
  /** Set when the file could not be used: what happened and where the original was kept. */
  problem?: { message: string; backup: string };
}

/**
 * Opens (creating or migrating) the preferences in `dir`. A file that is not valid JSON or breaks the
 * schema is not wiped: it is moved aside as a dated backup, the app starts from defaults, and the
 * caller is told so it can tell the person.
 */
export async function openPreferences(dir: string): Promise<OpenedPreferences> {
  const open = () =>
    new Conf<Preferences>({
      cwd: dir,
      configName: PREFERENCES_FILE.replace(/\.json$/, ''),
      schema,
      migrations: PREFERENCE_MIGRATIONS,
      projectVersion: PREFERENCES_VERSION,
      configFileMode: 0o600,
    });
  try {
    return { prefs: open() };
  } catch (err) {
    const file = `${dir}/${PREFERENCES_FILE}`;
    if (!existsSync(file)) throw err;
    const backup = `${file}.invalid-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(file, backup);
    const reason = (err as Error).message.split('\n')[0];
    return { prefs: open(), problem: { message: `The preferences could not be read (${reason}); defaults are used. The original file is kept at ${backup}.`, backup } };
  }
}
