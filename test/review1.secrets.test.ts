// Hostile review of secrets bound to their use: ways a stored password still reaches a server it was
// not typed for. Real pieces: SecretStore over a stand-in safeStorage, EngineHost running the real
// engine process, captureSecrets as main wires it, in-process ssh2 servers as victim and attacker.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type Connection, type Server } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerDirectTcpip } from '../app/engine/directTcpipServer.js';
import { generateEd25519 } from '../app/engine/keygen.js';
import type { TunnelClient } from '../app/shared/contract.js';
import { nextEvent as next } from './support/events.js';
import { desktopHarness, knownHostsFor, passwordProfile, runUntilSettled } from './support/desktop.js';
import { freePort } from './support/net.js';
import { startSsh2Server, type TestSsh2Server } from './support/ssh2Server.js';

const VICTIM_PASSWORD = 'review1-victim-password-4b1d';

let dir: string;
let victim: TestSsh2Server;
let attacker: TestSsh2Server;
const stolen: string[] = [];
/** A jump host that lies: whatever destination it is asked for, it connects to the attacker's server. */
let lyingJump: Server;
const jumpClients = new Set<Connection>();
const jumpSockets = new Set<Socket>();
const harness = desktopHarness(() => dir);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-review1-secrets-'));
  victim = await startSsh2Server((ctx) => (ctx.method === 'password' && ctx.password === VICTIM_PASSWORD ? ctx.accept() : ctx.reject(['password'])));
  attacker = await startSsh2Server((ctx) => {
    if (ctx.method === 'password') stolen.push(ctx.password);
    ctx.reject(['password']);
  });
  lyingJump = new ssh2.Server({ hostKeys: [generateEd25519().private] }, (client) => {
    jumpClients.add(client);
    client.on('error', () => {});
    client.on('close', () => jumpClients.delete(client));
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () => client.on('tcpip', (accept, reject) => answerDirectTcpip(accept, reject, '127.0.0.1', attacker.port, jumpSockets)));
  });
  await new Promise<void>((resolve) => lyingJump.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await harness.dispose();
  for (const s of jumpSockets) s.destroy();
  for (const c of jumpClients) c.end();
  await new Promise((resolve) => lyingJump?.close(resolve));
  await victim?.dispose();
  await attacker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});


/** Refuses every password prompt for `profileId`, except a jump host's (user `anyone`), which gets any answer. */
function refusePrompts(client: TunnelClient, profileId: string): void {
  client.on('prompt', (p) => {
    if (p.profileId === profileId) void client.answerPrompt(p.id, p.hop.startsWith('anyone@') ? 'anything' : null);
  });
}

describe('secrets bound to their use: breaks', () => {
  it('a password typed for one server is not stored for the server the profile was re-pointed to while it connected', async () => {
    const app = harness.start();
    const heardBefore = stolen.length;
    await app.client.saveProfile(await passwordProfile('p', victim, 'ref-p', knownHostsFor(dir, `known_hosts_p_${victim.port}`, victim)));
    const evil = await passwordProfile('p', attacker, 'ref-fresh', knownHostsFor(dir, `known_hosts_p_${attacker.port}`, attacker));
    // The page (or any edit) saves a new version of the profile while the person types the victim's password.
    // Once: the prompts of the run below are refusePrompts' to answer.
    const offTyping = app.client.on('prompt', (p) => {
      if (p.profileId !== 'p') return;
      offTyping();
      void app.client.saveProfile(evil).then(() => {
        app.capture.answered(p.id, VICTIM_PASSWORD);
        return app.client.answerPrompt(p.id, VICTIM_PASSWORD);
      });
    });
    // The running tunnel keeps the version it started with: it opens at the victim's server.
    const opened = next(app.client, 'state', (s) => s.profileId === 'p' && s.state.state === 'open');
    await app.client.start('p');
    await opened;
    // captureSecrets handles 'open' before this test does; its listProfiles answer comes back first,
    // and its store write is queued before this one.
    await app.client.listProfiles();
    await app.secrets.set('sync', 'x', { kind: 'ssh', host: 'sync', port: 22, user: 'sync', hostKey: victim.fingerprint });
    await app.client.stop('p');

    // Under either server's key: the one that proved itself while the password was typed, or the attacker's.
    for (const hostKey of [victim.fingerprint, attacker.fingerprint]) {
      const attackerUse = { kind: 'ssh' as const, host: '127.0.0.1', port: attacker.port, user: 'alice', hostKey };
      expect(await app.secrets.get('ref-fresh', attackerUse)).not.toBe(VICTIM_PASSWORD);
    }
    refusePrompts(app.client, 'p');
    await runUntilSettled(app.client, 'p');
    expect(stolen.slice(heardBefore)).not.toContain(VICTIM_PASSWORD);
    app.capture.dispose();
  });

  it("a profile with the victim's server, port and user but a lying jump host and accept-new is not served the victim's password", async () => {
    const app = harness.start();
    const heardBefore = stolen.length;
    await app.client.saveProfile(await passwordProfile('victim', victim, 'victim-pw', knownHostsFor(dir, `known_hosts_victim_${victim.port}`, victim)));
    app.client.on('prompt', (p) => {
      if (p.profileId !== 'victim') return;
      app.capture.answered(p.id, VICTIM_PASSWORD);
      void app.client.answerPrompt(p.id, VICTIM_PASSWORD);
    });
    expect(await runUntilSettled(app.client, 'victim')).toBe('open');
    await expect.poll(() => app.stored).toEqual(['victim']);

    // Same use (127.0.0.1, the victim's port, alice), reached through the attacker's jump host, with
    // host-key checking that trusts whatever answers: the page can save this, naming the reference it listed.
    // Its known_hosts file exists, so the jump host's key is recorded and the hops go on to ask for the password.
    writeFileSync(join(dir, 'known_hosts_evil_route'), '');
    await app.client.saveProfile({
      id: 'evil-route',
      name: 'evil-route',
      server: { host: '127.0.0.1', port: victim.port, user: 'alice', auth: { method: 'password', passwordRef: 'victim-pw' } },
      jumps: [{ host: '127.0.0.1', port: (lyingJump.address() as AddressInfo).port, user: 'anyone', auth: { method: 'password' } }],
      hostKey: { strict: 'accept-new', knownHostsFiles: [join(dir, 'known_hosts_evil_route')] },
      forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: 9 }],
    });
    refusePrompts(app.client, 'evil-route');
    await runUntilSettled(app.client, 'evil-route');
    expect(stolen.slice(heardBefore)).not.toContain(VICTIM_PASSWORD);
    app.capture.dispose();
  });
});
