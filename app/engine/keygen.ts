import ssh2 from 'ssh2';

/**
 * An ed25519 key pair that ssh2 can read back. ssh2's generator now and then (about 1 in 250)
 * writes a private key its own parser rejects as malformed; such a pair is thrown away.
 */
export function generateEd25519(): { private: string; public: string } {
  for (let attempt = 0; attempt < 10; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error('could not generate a readable ed25519 key');
}
