// Passwords, key passphrases and (later) refresh tokens, kept apart from profiles in secrets.json,
// each encrypted with Electron's safeStorage (injected, so this runs and is tested in Node). On
// Linux without a keyring safeStorage falls back to a hard-coded key ('basic_text'), which is
// obfuscation, not protection: then nothing is written unless the person agreed to it.
// Each secret is sealed together with its use (where it may be sent, app/profiles/secretUse.ts) and
// served only to a request for that same use.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { asSecretUse, sameSecretUse, type SecretUse } from '../profiles/secretUse.js';
import { writeFileAtomic } from '../profiles/store.js';
import { keepBackup } from '../profiles/backup.js';

/** The part of Electron's `safeStorage` this store uses, with the real API's shape. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only; Electron names more backends than these, all of them real keyrings. */
  getSelectedStorageBackend?(): 'basic_text' | 'gnome_libsecret' | 'kwallet' | 'kwallet5' | 'kwallet6' | 'unknown';
}

export interface SecretStoreOptions {
  file: string;
  safeStorage: SafeStorageLike;
  /** Asks the person whether secrets may be stored with basic_text; true only for an explicit yes. */
  confirmPlainStorage(): Promise<boolean>;
  platform?: NodeJS.Platform;
  /** Told once per distinct damaged content when the file could not be read: it was set aside and the store started empty. */
  onProblem?(problem: { message: string; backup: string }): void;
}

export type SetResult = { stored: true } | { stored: false; reason: string };

/**
 * What a look-up found. `other-use`: stored for another server, port, user or API. `unbound`: kept
 * by a version that recorded no use, so nobody can say where it belongs. Neither is ever served.
 */
export type Lookup = { found: true; value: string } | { found: false; why: 'none' | 'unreadable' | 'other-use' | 'unbound' };

/**
 * A sealed entry: `{ sealed }` holds the encrypted JSON of `{ value, use }`, so the use cannot be
 * changed without the keyring; a bare string is a secret kept before uses were recorded.
 */
type Entry = string | { sealed: string };

interface SecretsFile {
  version: 2;
  /** Set once the person agreed to basic_text storage; asked again if the keyring changes. */
  plainTextConsent?: boolean;
  secrets: Record<string, Entry>;
}

class Damaged extends Error {}

export class SecretStore {
  /** A "no" holds for the rest of this run, so one refusal is not followed by a question per secret. */
  private refusedPlainText = false;
  private writes: Promise<unknown> = Promise.resolve();
  /** Damaged contents already set aside in this run, by digest. */
  private readonly setAsideDone = new Map<string, Promise<void>>();

  constructor(private readonly opts: SecretStoreOptions) {}

  /** The secret kept under `ref` for exactly `use`; undefined otherwise (then the engine asks the person). */
  async get(ref: string, use: SecretUse): Promise<string | undefined> {
    const found = await this.lookup(ref, use);
    return found.found ? found.value : undefined;
  }

  /** Like get, saying why nothing was served, so a refused request can be logged. */
  async lookup(ref: string, use: SecretUse): Promise<Lookup> {
    const entry = (await this.read()).secrets[ref];
    if (entry === undefined) return { found: false, why: 'none' };
    if (typeof entry === 'string') return { found: false, why: 'unbound' };
    if (!this.opts.safeStorage.isEncryptionAvailable()) return { found: false, why: 'unreadable' };
    let opened: { value?: unknown; use?: unknown };
    try {
      opened = JSON.parse(this.opts.safeStorage.decryptString(Buffer.from(entry.sealed, 'base64'))) as typeof opened;
    } catch {
      // Encrypted under another OS account or keyring: unusable, and not worth a crash.
      return { found: false, why: 'unreadable' };
    }
    const stored = asSecretUse(opened?.use);
    if (typeof opened?.value !== 'string' || !stored) return { found: false, why: 'unreadable' };
    return sameSecretUse(stored, use) ? { found: true, value: opened.value } : { found: false, why: 'other-use' };
  }

  /** Stores `value` under `ref` for `use`, unless this machine cannot keep it safe and the person did not agree. */
  set(ref: string, value: string, use: SecretUse): Promise<SetResult> {
    return this.serial(async () => {
      const safe = this.opts.safeStorage;
      if (!safe.isEncryptionAvailable()) return { stored: false, reason: 'no encryption is available on this system' };
      const file = await this.read();
      if (this.isPlainText()) {
        if (!file.plainTextConsent) {
          if (this.refusedPlainText || !(await this.opts.confirmPlainStorage())) {
            this.refusedPlainText = true;
            return { stored: false, reason: 'no keyring is available, and storing secrets without one was declined' };
          }
          file.plainTextConsent = true;
        }
      } else {
        delete file.plainTextConsent;
      }
      file.secrets[ref] = { sealed: safe.encryptString(JSON.stringify({ value, use })).toString('base64') };
      await this.write(file);
      return { stored: true };
    });
  }

  delete(ref: string): Promise<void> {
    return this.serial(async () => {
      const file = await this.read();
      if (!(ref in file.secrets)) return;
      delete file.secrets[ref];
      await this.write(file);
    });
  }

  private isPlainText(): boolean {
    return (this.opts.platform ?? process.platform) === 'linux' && this.opts.safeStorage.getSelectedStorageBackend?.() === 'basic_text';
  }

  private async read(): Promise<SecretsFile> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.opts.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 2, secrets: {} };
      throw err;
    }
    try {
      return parseSecretsFile(bytes.toString('utf8'));
    } catch (err) {
      if (!(err instanceof Damaged)) throw err;
      // Never a permanent failure: the damaged content is set aside and the store starts empty; the next write replaces the file.
      await this.setAside(bytes, err.message);
      return { version: 2, secrets: {} };
    }
  }

  /** One dated backup per distinct damaged content, and one word to the person about it. */
  private setAside(bytes: Buffer, why: string): Promise<void> {
    const digest = createHash('sha256').update(bytes).digest('hex');
    let done = this.setAsideDone.get(digest);
    if (!done) {
      done = (async () => {
        const backup = await keepBackup(this.opts.file, bytes, 'corrupt');
        this.opts.onProblem?.({
          message: `The saved passwords and logins could not be read (${why}), so Tunnelvision starts without them and will ask for each again. The unreadable file is kept at ${backup}.`,
          backup,
        });
      })();
      this.setAsideDone.set(digest, done);
    }
    return done;
  }

  private write(file: SecretsFile): Promise<void> {
    return writeFileAtomic(this.opts.file, `${JSON.stringify(file, null, 2)}\n`);
  }

  /** One read-modify-write at a time, so two secrets saved together both survive. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writes.then(task);
    this.writes = run.catch(() => {});
    return run;
  }
}

function parseSecretsFile(text: string): SecretsFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Damaged('it is not valid JSON');
  }
  const d = data as { version?: unknown; plainTextConsent?: unknown; secrets?: unknown } | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d) || (d.version !== 1 && d.version !== 2)) throw new Damaged('it is not a secrets file of a version this app knows');
  if (typeof d.secrets !== 'object' || d.secrets === null || Array.isArray(d.secrets)) throw new Damaged('it holds no list of secrets');
  const secrets: Record<string, Entry> = {};
  for (const [ref, entry] of Object.entries(d.secrets as Record<string, unknown>)) {
    if (typeof entry === 'string') secrets[ref] = entry;
    else if (typeof entry === 'object' && entry !== null && typeof (entry as { sealed?: unknown }).sealed === 'string') secrets[ref] = { sealed: (entry as { sealed: string }).sealed };
    else throw new Damaged('one of its entries has the wrong shape');
  }
  return { version: 2, ...(d.plainTextConsent === true ? { plainTextConsent: true } : {}), secrets };
}
