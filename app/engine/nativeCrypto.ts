// Whether ssh2 runs its ciphers in its native binding (built at install time) or falls back to
// Node's crypto, which works but is slower. Reported by `tunnelvision doctor` and the app's About.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface CryptoReport {
  /** ssh2's sshcrypto.node loaded: AES-GCM and chacha20-poly1305 run natively. */
  nativeBinding: boolean;
  /** The CPU has AES instructions (cpu-features), or undefined when that package is absent. */
  aesNi: boolean | undefined;
}

export function cryptoReport(): CryptoReport {
  const { bindingAvailable } = require('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean };
  let aesNi: boolean | undefined;
  try {
    const info = (require('cpu-features') as () => { flags?: Record<string, boolean> })();
    aesNi = !!info.flags?.aes;
  } catch {
    aesNi = undefined;
  }
  return { nativeBinding: !!bindingAvailable, aesNi };
}
