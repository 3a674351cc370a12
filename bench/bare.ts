// The floor to compare Tunnelvision against: a bare ssh2 -L forward, as ssh2's README writes it
// (createServer + forwardOut + pipe both ways), nothing else. Used by bench/ab.ts ("bare" arm).
//   node out/bench/bench/bare.js SSH_PORT KEY USER CIPHER LOCAL_PORT TARGET_PORT
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import ssh2 from 'ssh2';

const [sshPort, key, user, cipher, localPort, targetPort] = process.argv.slice(2);
const client = new ssh2.Client();
client.on('ready', () => {
  createServer({ allowHalfOpen: true, noDelay: true }, (sock) => {
    sock.pause();
    client.forwardOut('127.0.0.1', 0, '127.0.0.1', Number(targetPort), (err, channel) => {
      if (err) return void sock.destroy();
      sock.pipe(channel).pipe(sock);
      sock.resume();
    });
  }).listen(Number(localPort), '127.0.0.1', () => process.stdout.write('{"state":"open"}\n'));
});
client.connect({
  host: '127.0.0.1',
  port: Number(sshPort),
  username: user,
  privateKey: readFileSync(key!),
  algorithms: { cipher: [cipher as 'aes128-gcm@openssh.com'] },
});
process.once('SIGINT', () => process.exit(0));
