// Passwords, key passphrases and (later) refresh tokens, kept apart from profiles in secrets.json,
// each encrypted with Electron's safeStorage (injected, so this runs and is tested in Node). On
// Linux without a keyring safeStorage falls back to a hard-coded key ('basic_text'), which is
// obfuscation, not protection: then nothing is written unless the person agreed to it.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../profiles/store.js';

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
}

export type SetResult = { stored: true } | { stored: false; reason: string };

interface SecretsFile {
  version: 1;
  /** Set once the person agreed to basic_text storage; asked again if the keyring changes. */
  plainTextConsent?: boolean;
  secrets: Record<string, string>;
}

export class SecretStore {
  /** A "no" holds for the rest of this run, so one refusal is not followed by a question per secret. */
  private refusedPlainText = false;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: SecretStoreOptions) {}

  /** The secret, or undefined when there is none or it cannot be decrypted here (then the engine asks). */
  async get(ref: string): Promise<string | undefined> {
    const sealed = (await this.read()).secrets[ref];
    if (sealed === undefined || !this.opts.safeStorage.isEncryptionAvailable()) return undefined;
    try {
      return this.opts.safeStorage.decryptString(Buffer.from(sealed, 'base64'));
    } catch {
      // Encrypted under another OS account or keyring: unusable, and not worth a crash.
      return undefined;
    }
  }

  /** Stores `value` under `ref`, unless this machine cannot keep it safe and the person did not agree. */
  set(ref: string, value: string): Promise<SetResult> {
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
      file.secrets[ref] = safe.encryptString(value).toString('base64');
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
    let text: string;
    try {
      text = await readFile(this.opts.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, secrets: {} };
      throw err;
    }
    const data = JSON.parse(text) as Partial<SecretsFile> | null;
    const secrets = data && typeof data.secrets === 'object' && data.secrets !== null ? data.secrets : {};
    return { version: 1, ...(data?.plainTextConsent === true ? { plainTextConsent: true } : {}), secrets: Object.fromEntries(Object.entries(secrets).filter(([, v]) => typeof v === 'string')) };
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
