// The server's side of a direct-tcpip channel, for Tunnelvision's own SSH servers (the demo, and
// test servers): dial the target first, then accept the channel and join the two, or reject it so
// the client hears "connect failed" instead of an open channel that goes nowhere.
import { connect as tcpConnect, type Socket } from 'node:net';
import type { AcceptConnection, RejectConnection, ServerChannel } from 'ssh2';
import { splice } from './forwards.js';

export function answerDirectTcpip(accept: AcceptConnection<ServerChannel>, reject: RejectConnection, host: string, port: number, live: Set<Socket>): void {
  const sock = tcpConnect({ host, port });
  live.add(sock);
  sock.once('close', () => live.delete(sock));
  const refused = () => reject();
  sock.once('error', refused);
  sock.once('connect', () => {
    sock.off('error', refused);
    splice(sock, accept());
  });
}
