// A real ssh2 Server in-process, for behaviour OpenSSH cannot be made to show on demand:
// keyboard-interactive prompts, password auth without system accounts, counting auth attempts.
import { createHash } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import ssh2, { type AuthContext, type Connection, type Server } from 'ssh2';
import { answerDirectTcpip } from '../../app/engine/directTcpipServer.js';
import { generateEd25519 } from '../../app/engine/keygen.js';

export interface TestSsh2Server {
  port: number;
  hostKeyBlob: Buffer;
  fingerprint: string;
  /** Every authentication request the server saw, in order. */
  authAttempts: Array<{ method: string; username: string }>;
  knownHostsLine(): string;
  dispose(): Promise<void>;
}

export async function startSsh2Server(authenticate: (ctx: AuthContext) => void): Promise<TestSsh2Server> {
  const { private: hostKey, public: publicKey } = generateEd25519();
  const hostKeyBlob = Buffer.from(publicKey.split(' ')[1]!, 'base64');
  const authAttempts: TestSsh2Server['authAttempts'] = [];
  const clients = new Set<Connection>();
  const sockets = new Set<Socket>();
  const server: Server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    clients.add(client);
    client.on('error', () => {});
    client.on('close', () => clients.delete(client));
    client.on('authentication', (ctx) => {
      authAttempts.push({ method: ctx.method, username: ctx.username });
      authenticate(ctx);
    });
    client.on('ready', () => {
      client.on('tcpip', (accept, reject, info) => {
        answerDirectTcpip(accept, reject, info.destIP, info.destPort, sockets);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    hostKeyBlob,
    fingerprint: `SHA256:${createHash('sha256').update(hostKeyBlob).digest('base64').replace(/=+$/, '')}`,
    authAttempts,
    knownHostsLine: () => `[127.0.0.1]:${port} ${publicKey.split(' ').slice(0, 2).join(' ')}\n`,
    async dispose() {
      for (const s of sockets) s.destroy();
      for (const c of clients) c.end();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
