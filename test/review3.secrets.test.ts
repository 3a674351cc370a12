// Hostile review of secrets bound to the host key the server proved: a password typed for one hop
// must never be stored for another. Real pieces: SecretStore over a stand-in safeStorage, EngineHost
// running the real engine process, captureSecrets as main wires it, in-process ssh2 servers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type Connection, type Server } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerDirectTcpip } from '../app/engine/directTcpipServer.js';
import { generateEd25519 } from '../app/engine/keygen.js';
import { desktopHarness } from './support/desktop.js';
import { nextEvent as next } from './support/events.js';
import { freePort } from './support/net.js';
import { startSsh2Server, type TestSsh2Server } from './support/ssh2Server.js';

const JUMP_PASSWORD = 'review3-jump-password';
const INNER_PASSWORD = 'review3-inner-password-71c3';

let dir: string;
/** The server behind the jump host: another machine that the jump host's network calls by the same address. */
let inner: TestSsh2Server;
/** A jump host that connects every channel to `inner`, and records every password it is sent. */
let jump: Server;
let jumpKnownHostsLine: string;
const heardByJump: string[] = [];
const jumpClients = new Set<Connection>();
const jumpSockets = new Set<Socket>();
const harness = desktopHarness(() => dir);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-review3-secrets-'));
  inner = await startSsh2Server((ctx) => (ctx.method === 'password' && ctx.password === INNER_PASSWORD ? ctx.accept() : ctx.reject(['password'])));
  const key = generateEd25519();
  jump = new ssh2.Server({ hostKeys: [key.private] }, (client) => {
    jumpClients.add(client);
    client.on('error', () => {});
    client.on('close', () => jumpClients.delete(client));
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'password') return ctx.reject(['password']);
      heardByJump.push(ctx.password);
      return ctx.password === JUMP_PASSWORD ? ctx.accept() : ctx.reject(['password']);
    });
    client.on('ready', () => client.on('tcpip', (accept, reject) => answerDirectTcpip(accept, reject, '127.0.0.1', inner.port, jumpSockets)));
  });
  await new Promise<void>((resolve) => jump.listen(0, '127.0.0.1', resolve));
  jumpKnownHostsLine = `[127.0.0.1]:${(jump.address() as AddressInfo).port} ${key.public.split(' ').slice(0, 2).join(' ')}\n`;
});

afterAll(async () => {
  await harness.dispose();
  for (const s of jumpSockets) s.destroy();
  for (const c of jumpClients) c.end();
  await new Promise((resolve) => jump?.close(resolve));
  await inner?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('secrets bound to the host key: breaks', () => {
  it("a password typed for the final hop is not stored for a jump host that has the same user@host:port, nor sent to it", async () => {
    const { client, secrets, capture } = harness.start();

    // alice@127.0.0.1:<port> twice: once on this machine, once as the jump host's network names
    // another machine. known_hosts vouches for the jump host; the final hop is pinned to its own key.
    const jumpPort = (jump.address() as AddressInfo).port;
    const knownHosts = join(dir, 'known_hosts_twins');
    writeFileSync(knownHosts, jumpKnownHostsLine);
    await client.saveProfile({
      id: 'twins',
      name: 'twins',
      jumps: [{ host: '127.0.0.1', port: jumpPort, user: 'alice', auth: { method: 'password', passwordRef: 'ref-jump' } }],
      server: { host: '127.0.0.1', port: jumpPort, user: 'alice', auth: { method: 'password', passwordRef: 'ref-inner' } },
      hostKey: { strict: 'yes', knownHostsFiles: [knownHosts], pinnedFingerprint: inner.fingerprint },
      forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: 9 }],
    });

    // The person types the jump host's password, then the inner server's: both prompts carry the same hop label.
    const answers = [JUMP_PASSWORD, INNER_PASSWORD];
    const offTyping = client.on('prompt', (p) => {
      if (p.profileId !== 'twins') return;
      const answer = answers.shift() ?? null;
      if (answer !== null) capture.answered(p.id, answer);
      void client.answerPrompt(p.id, answer);
    });
    const opened = next(client, 'state', (s) => s.profileId === 'twins' && ['open', 'failed'].includes(s.state.state));
    await client.start('twins');
    expect((await opened).state.state).toBe('open');
    // captureSecrets handles 'open' before this test does; its listProfiles answer comes back first,
    // and its store write is queued before this one.
    await client.listProfiles();
    await secrets.set('sync', 'x', { kind: 'ssh', host: 'sync', port: 22, user: 'sync', hostKey: inner.fingerprint });
    await client.stop('twins');
    offTyping();
    expect(answers).toEqual([]);
    const heardBefore = heardByJump.length;

    // The next start: nobody answers a prompt, so only what the store serves reaches the servers.
    const offRefusing = client.on('prompt', (p) => {
      if (p.profileId === 'twins') void client.answerPrompt(p.id, null);
    });
    const settled = next(client, 'state', (s) => s.profileId === 'twins' && ['open', 'failed'].includes(s.state.state));
    await client.start('twins');
    await settled;
    await client.stop('twins');
    offRefusing();
    expect(heardByJump.slice(heardBefore)).not.toContain(INNER_PASSWORD);
    capture.dispose();
  });
});
