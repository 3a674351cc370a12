// A stand-in for Electron's safeStorage (the OS keyring is the edge these tests cannot reach) that
// keeps the real API's contract: ciphertext that only this instance's key opens, a "v10" prefix
// as Chromium writes, and the same failures — throwing while encryption is unavailable, and on
// ciphertext it cannot open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SafeStorageLike } from '../../app/host/secretStore.js';

type Backend = ReturnType<NonNullable<SafeStorageLike['getSelectedStorageBackend']>>;

export class FakeSafeStorage implements SafeStorageLike {
  available = true;
  private readonly key = randomBytes(32);

  constructor(private readonly backend: Backend = 'gnome_libsecret') {}

  isEncryptionAvailable(): boolean {
    return this.available;
  }

  encryptString(plainText: string): Buffer {
    if (!this.available) throw new Error('Error while encrypting the text provided to safeStorage.encryptString. Encryption is not available.');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from('v10'), iv, cipher.getAuthTag(), body]);
  }

  decryptString(encrypted: Buffer): string {
    if (!this.available) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString. Decryption is not available.');
    try {
      if (encrypted.subarray(0, 3).toString() !== 'v10') throw new Error('no prefix');
      const decipher = createDecipheriv('aes-256-gcm', this.key, encrypted.subarray(3, 15));
      decipher.setAuthTag(encrypted.subarray(15, 31));
      return Buffer.concat([decipher.update(encrypted.subarray(31)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    }
  }

  getSelectedStorageBackend(): Backend {
    return this.backend;
  }
}
