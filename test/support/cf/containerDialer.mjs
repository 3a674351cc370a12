// The "app container" side of the fake foundation: run inside a network namespace, it dials
// whatever the ssh-proxy asks for from there. Protocol on its unix socket: the client sends
// "host port\n"; the answer is "OK\n" followed by the spliced stream, or "ERR <Go-style error>\n".
import { connect, createServer } from 'node:net';

const path = process.argv[2];

function goError(err, host, port) {
  const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ETIMEDOUT':
      return `dial tcp ${addr}: i/o timeout`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${host}: no such host`;
    default:
      return `dial tcp ${addr}: ${err.message}`;
  }
}

const server = createServer((client) => {
  client.on('error', () => {});
  let head = '';
  const onData = (chunk) => {
    head += chunk.toString('latin1');
    const nl = head.indexOf('\n');
    if (nl < 0) return;
    client.off('data', onData);
    client.pause();
    const [host, port] = head.slice(0, nl).split(' ');
    const rest = Buffer.from(head.slice(nl + 1), 'latin1');
    const target = connect({ host, port: Number(port) });
    target.once('error', (err) => client.end(`ERR ${goError(err, host, port)}\n`));
    target.once('connect', () => {
      target.removeAllListeners('error');
      target.on('error', () => client.destroy());
      client.write('OK\n');
      if (rest.length) target.write(rest);
      client.pipe(target).pipe(client);
      client.resume();
      client.once('close', () => target.destroy());
      target.once('close', () => client.destroy());
    });
  };
  client.on('data', onData);
});
server.listen(path, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
