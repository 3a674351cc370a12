// `tunnelvision demo`: a self-contained SSH server and web page on loopback, so a newcomer with no
// server at hand sees a real tunnel open. The SSH server allows nothing but forwarding to the page.
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import ssh2, { type Connection, type Server as SshServer } from 'ssh2';
import { answerDirectTcpip } from '../engine/directTcpipServer.js';
import { generateEd25519 } from '../engine/keygen.js';
import type { Profile } from '../profiles/schema.js';
import { parseProfile } from '../profiles/validate.js';

export const DEMO_USER = 'tunnelvision';
export const DEMO_PASSWORD_REF = 'demo-password';
const DEMO_PASSWORD = 'demo';

export interface Demo {
  sshPort: number;
  webPort: number;
  fingerprint: string;
  /** A profile for a tunnel from `localPort` to the page, pinned to the demo server's key. */
  profile(localPort: number): Profile;
  /** Answers the demo profile's password reference. */
  secrets: (ref: string) => Promise<string | undefined>;
  dispose(): Promise<void>;
}

function page(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tunnelvision demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#8882;padding:.1em .3em;border-radius:.2em}</style></head>
<body><h1>It works: this page came through an SSH tunnel.</h1>
<p>Your browser connected to Tunnelvision's local listener. Tunnelvision carried the request over an
SSH connection to the demo SSH server, which opened a <code>direct-tcpip</code> channel to this web
server and relayed the reply back the same way.</p>
<p>That is exactly what <code>ssh -L</code> does. Point the same kind of tunnel at a database and your
local client reaches a server it could not reach directly.</p></body></html>
`;
}

function listen(server: HttpServer | SshServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startDemo(): Promise<Demo> {
  const web = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page());
  });
  const webPort = await listen(web);

  const { private: hostKey, public: publicKey } = generateEd25519();
  const blob = Buffer.from(publicKey.split(' ')[1]!, 'base64');
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const sockets = new Set<Socket>();
  const clients = new Set<Connection>();

  const ssh = new ssh2.Server({ hostKeys: [hostKey], ident: 'Tunnelvision-demo' }, (client) => {
    clients.add(client);
    client.on('error', () => {});
    client.on('close', () => clients.delete(client));
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === DEMO_USER && ctx.password === DEMO_PASSWORD) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (_accept, reject) => reject());
      client.on('request', (_accept, reject) => reject?.());
      client.on('tcpip', (accept, reject, info) => {
        // Only the demo page: this server must never become an open proxy on the user's machine.
        if (info.destPort !== webPort || !['127.0.0.1', 'localhost'].includes(info.destIP)) return reject();
        answerDirectTcpip(accept, reject, '127.0.0.1', webPort, sockets);
      });
    });
  });
  const sshPort = await listen(ssh);

  return {
    sshPort,
    webPort,
    fingerprint,
    profile(localPort) {
      const parsed = parseProfile({
        id: 'demo',
        name: 'Demo tunnel',
        tags: ['demo'],
        server: { host: '127.0.0.1', port: sshPort, user: DEMO_USER, auth: { method: 'password', passwordRef: DEMO_PASSWORD_REF } },
        hostKey: { strict: 'yes', pinnedFingerprint: fingerprint },
        forwards: [{ type: 'local', bindHost: '127.0.0.1', bindPort: localPort, targetHost: '127.0.0.1', targetPort: webPort }],
        client: { kind: 'http' },
      });
      if (!parsed.ok) throw new Error(`demo profile invalid: ${JSON.stringify(parsed.errors)}`);
      return parsed.value;
    },
    secrets: async (ref) => (ref === DEMO_PASSWORD_REF ? DEMO_PASSWORD : undefined),
    async dispose() {
      for (const s of sockets) s.destroy();
      for (const c of clients) c.end();
      web.closeAllConnections();
      await Promise.all([new Promise((r) => ssh.close(r)), new Promise((r) => web.close(r))]);
    },
  };
}
