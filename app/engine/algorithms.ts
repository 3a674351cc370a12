// Algorithm preferences handed to ssh2.

import { cryptoReport, type CryptoReport } from './nativeCrypto.js';

const GCM = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'];
const CHACHA = 'chacha20-poly1305@openssh.com';
const CTR = ['aes128-ctr', 'aes192-ctr', 'aes256-ctr'];

/**
 * Cipher preference when a profile names none, for this machine. With AES instructions (or when
 * that is unknown), AES-GCM first: through ssh2's native binding it is the fastest authenticated
 * cipher there (BENCHMARKS.md), chacha20 next. Without them, chacha20-poly1305 first, which needs no
 * AES hardware; but only with the native binding, whose chacha20 is OpenSSL's. ssh2's JavaScript
 * fallback for it is slower than AES in Node's crypto, so then it goes last.
 */
export function preferredCiphers(crypto: CryptoReport): string[] {
  if (!crypto.nativeBinding) return [...GCM, ...CTR, CHACHA];
  if (crypto.aesNi === false) return [CHACHA, ...GCM, ...CTR];
  return [...GCM, CHACHA, ...CTR];
}

let forThisMachine: string[] | undefined;
/** preferredCiphers for the machine we run on, worked out once. */
export function defaultCiphers(): string[] {
  return (forThisMachine ??= preferredCiphers(cryptoReport()));
}

const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/**
 * Host-key algorithms with the types already in known_hosts first, as OpenSSH orders them, so a
 * server with several keys shows the one we can verify instead of one that looks new.
 */
export function hostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const first = knownTypes.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]));
  return [...new Set([...first.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];
}
