// The ssh-proxy's host key is checked against the fingerprint the foundation advertises
// (`app_ssh.meta.host_key_fingerprint`). Foundations publish it in one of four formats, told apart
// by length, as the cf CLI does; each hashes the raw public-key blob.
import { createHash } from 'node:crypto';
import { TunnelError } from '../shared/errors.js';

export type FingerprintFormat = 'MD5' | 'SHA-1' | 'SHA-256 (base64)' | 'SHA-256 (hex)';

const BY_LENGTH: ReadonlyMap<number, FingerprintFormat> = new Map([
  [47, 'MD5'],
  [59, 'SHA-1'],
  [43, 'SHA-256 (base64)'],
  [64, 'SHA-256 (hex)'],
]);

export function fingerprintFormat(advertised: string): FingerprintFormat | undefined {
  return BY_LENGTH.get(advertised.length);
}

const hexWithColons = (digest: Buffer) => digest.toString('hex').match(/../g)!.join(':');

export function fingerprintOf(blob: Buffer, format: FingerprintFormat): string {
  switch (format) {
    case 'MD5':
      return hexWithColons(createHash('md5').update(blob).digest());
    case 'SHA-1':
      return hexWithColons(createHash('sha1').update(blob).digest());
    case 'SHA-256 (base64)':
      return createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
    case 'SHA-256 (hex)':
      return createHash('sha256').update(blob).digest('hex');
  }
}

/** Undefined when the key matches; otherwise the error that refuses the connection. */
export function checkProxyHostKey(blob: Buffer, advertised: string, hop: string): TunnelError | undefined {
  const format = fingerprintFormat(advertised);
  if (!format) {
    return new TunnelError(
      'HOST_KEY_REJECTED',
      `The foundation advertises the ssh-proxy's host key fingerprint as "${advertised}", which is in no format Tunnelvision knows ` +
        '(MD5 or SHA-1 as hex with colons, SHA-256 as base64 or hex), so the proxy cannot be verified and Tunnelvision did not connect.',
      { hop },
    );
  }
  const offered = fingerprintOf(blob, format);
  // Hex digests are the same whatever their case; base64 is not.
  const same = format === 'SHA-256 (base64)' ? offered === advertised : offered === advertised.toLowerCase();
  if (same) return undefined;
  return new TunnelError(
    'HOST_KEY_CHANGED',
    `The ssh-proxy's host key does not match the fingerprint the foundation advertises: it offered ${offered}, the foundation says ${advertised} (${format}). ` +
      'Someone may be intercepting the connection, or the platform rotated its key without updating the API. Tunnelvision refused to connect; ask the platform operators which fingerprint is right.',
    { hop },
  );
}
