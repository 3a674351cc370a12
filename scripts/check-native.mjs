// Run after install (prepare): says plainly whether ssh2's native crypto binding was built. The
// app works without it, only slower, so this warns instead of failing the install.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { bindingAvailable } = require('ssh2/lib/protocol/crypto.js');
if (bindingAvailable) {
  console.log('tunnelvision: ssh2 native crypto binding loaded.');
} else {
  console.warn(
    'tunnelvision: ssh2 native crypto binding is NOT loaded; tunnels work, with slower ciphers.\n' +
      '  It needs python3, make and a C++ compiler at install time; then run: npm rebuild ssh2',
  );
}
