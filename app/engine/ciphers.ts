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
