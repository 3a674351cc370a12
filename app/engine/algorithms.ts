// Algorithm preferences handed to ssh2.

// Cipher preference when a profile names none. AES-GCM first: with AES-NI and ssh2's native
// binding it is the fastest authenticated cipher; chacha20 next for machines without AES-NI.
export const PREFERRED_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
];

const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/**
 * Host-key algorithms with the types already in known_hosts first, as OpenSSH orders them, so a
 * server with several keys shows the one we can verify instead of one that looks new.
 */
export function hostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const first = knownTypes.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]));
  return [...new Set([...first.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];
}
