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

const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'];
/** RSA signed with SHA-1: off unless a profile opts in, as in OpenSSH 8.8 and later. */
export const SHA1_RSA = 'ssh-rsa';

/**
 * Host-key algorithms with the types already in known_hosts first, as OpenSSH orders them, so a
 * server with several keys shows the one we can verify instead of one that looks new. `ssh-rsa`
 * (SHA-1) comes last, and only with `allowSha1Rsa`.
 */
export function hostKeyAlgorithms(knownTypes: readonly string[], allowSha1Rsa = false): string[] {
  const offered = allowSha1Rsa ? [...HOST_KEY_ALGORITHMS, SHA1_RSA] : HOST_KEY_ALGORITHMS;
  const first = knownTypes.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : [type]));
  return [...new Set([...first.filter((a) => offered.includes(a)), ...offered])];
}

/**
 * True when the only host-key algorithm the server offers that we know is SHA-1 RSA: the reason
 * a handshake found nothing in common when `ssh-rsa` is off.
 */
export function offersOnlySha1Rsa(serverOffer: readonly string[]): boolean {
  return serverOffer.includes(SHA1_RSA) && !serverOffer.some((a) => HOST_KEY_ALGORITHMS.includes(a));
}
