// Saved profiles on disk, shared by the CLI and the desktop app: one JSON file, written atomically
// (temp file + rename, mode 0600), never wiped: an unreadable file is kept as a dated backup.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { keepBackup } from './backup.js';
import { PROFILE_FILE_VERSION, profileSchema, type Profile, type ProfileFile } from './schema.js';
import { formatErrors, parseWith, type FieldError } from './validate.js';

export const PROFILES_FILE = 'profiles.json';

/** Where the desktop app keeps its data (Electron's userData for productName "Tunnelvision"). */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.TUNNELVISION_CONFIG_DIR) return env.TUNNELVISION_CONFIG_DIR;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Tunnelvision');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Tunnelvision');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Tunnelvision');
}

export interface LoadReport {
  profiles: Profile[];
  /**
   * Entries this version cannot read (hand-edited, or from a future field), exactly as they are in
   * the file: every save writes them back, so no edit elsewhere loses them.
   */
  unreadable: unknown[];
  /** Set when the file could not be used as it was: what happened and where the original is kept. */
  problem?: { message: string; backup: string };
}

export class ProfileStoreError extends Error {
  override name = 'ProfileStoreError';
}

export class ProfileStore {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, PROFILES_FILE);
  }

  /**
   * Reads the profiles. Invalid entries are left out of the result, but only after the whole file
   * was copied to a dated backup, so the next save loses nothing.
   */
  async load(): Promise<LoadReport> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: [], unreadable: [] };
      throw new ProfileStoreError(`Cannot read ${this.file}: ${(err as Error).message}`);
    }
    const text = bytes.toString('utf8');
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return { profiles: [], unreadable: [], problem: await this.backup(bytes, `${this.file} is not valid JSON (${(err as Error).message})`) };
    }
    if (!isRecord(data) || !Array.isArray(data.profiles)) {
      return { profiles: [], unreadable: [], problem: await this.backup(bytes, `${this.file} is not a Tunnelvision profile file`) };
    }
    if (typeof data.version === 'number' && data.version > PROFILE_FILE_VERSION) {
      throw new ProfileStoreError(`${this.file} was written by a newer Tunnelvision (file version ${data.version}; this one reads ${PROFILE_FILE_VERSION}). Upgrade Tunnelvision; the file was not changed.`);
    }
    const profiles: Profile[] = [];
    const unreadable: unknown[] = [];
    const errors: FieldError[] = [];
    data.profiles.forEach((raw, i) => {
      const parsed = parseWith(profileSchema, raw, ['profiles', i]);
      if (parsed.ok) profiles.push(parsed.value);
      else {
        unreadable.push(raw);
        errors.push(...parsed.errors);
      }
    });
    if (errors.length) {
      const problem = await this.backup(bytes, `${errors.length} problem(s) in ${this.file}, in ${unreadable.length} profile(s) kept in the file as they are but not shown:\n${formatErrors(errors)}`);
      return { profiles, unreadable, problem };
    }
    return { profiles, unreadable };
  }

  /**
   * Read-modify-write under a lock shared by every process (the CLI, the desktop app's engine), so
   * two edits at once both land instead of one overwriting the other.
   */
  async update<T>(change: (profiles: Profile[]) => T | Promise<T>): Promise<{ result: T; problem?: LoadReport['problem'] }> {
    return withFileLock(`${this.file}.lock`, async () => {
      const loaded = await this.load();
      const result = await change(loaded.profiles);
      await this.save(loaded.profiles, loaded.unreadable);
      return { result, ...(loaded.problem ? { problem: loaded.problem } : {}) };
    });
  }

  /** Writes `profiles`, then `unreadable` entries exactly as they were read. */
  async save(profiles: readonly Profile[], unreadable: readonly unknown[] = []): Promise<void> {
    const file = { version: PROFILE_FILE_VERSION, profiles: [...profiles, ...unreadable] } as ProfileFile;
    await writeFileAtomic(this.file, `${JSON.stringify(file, null, 2)}\n`);
  }

  private async backup(bytes: Buffer, reason: string): Promise<{ message: string; backup: string }> {
    const backup = await keepBackup(this.file, bytes, 'invalid');
    return { message: `${reason}\nThe original file is kept at ${backup}.`, backup };
  }
}

const LOCK_WAIT_MS = 10_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` while holding `lockFile` (created exclusively, holding our pid). A lock whose owner
 * died is taken over; a live owner is waited for, up to LOCK_WAIT_MS.
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(lockFile), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(lockFile, 'utf8').catch(() => ''));
      if (owner && !pidAlive(owner)) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new ProfileStoreError(`${lockFile} is held by process ${owner || '?'}; another Tunnelvision is saving profiles. Try again, or remove the file if no Tunnelvision is running.`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/** Writes via a temp file in the same directory and renames it over the target, so readers never see half a file. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, file);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
