// Attacks on stored secrets: a profile (saved through the contract, as the page or an import could)
// that names another profile's secret reference while pointing at the attacker's server, an edit
// that moves a server under a kept reference, and the editor moving hops under their references.
// Real pieces throughout: the SecretStore (over a stand-in for safeStorage), EngineHost running the
// real engine process, in-process ssh2 servers as victim and attacker, and an HTTPS "foundation".
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../app/shared/contract.js';
import { checkDraft, profileDraft } from '../renderer/src/editor/draft.js';
import { makeTestTls, type TestTls } from './support/cf/tls.js';
import { desktopHarness, knownHostsFor, passwordProfile, runUntilSettled } from './support/desktop.js';
import { freePort } from './support/net.js';
import { startSsh2Server, type TestSsh2Server } from './support/ssh2Server.js';
import { profile as viewProfile } from './renderer/fixtures.js';

const VICTIM_PASSWORD = 'victim-password-7f3a';
const VICTIM_TOKEN = 'victim-refresh-token-91c2';

let dir: string;
let tls: TestTls;
let victim: TestSsh2Server;
let attacker: TestSsh2Server;
/** Every password the attacker's server was sent. */
const stolen: string[] = [];
let fakeApi: Server;
/** Every request body and header the attacker's "Cloud Foundry API" received. */
const apiHeard: string[] = [];
const harness = desktopHarness(() => dir);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-attack-secrets-'));
  tls = makeTestTls(dir);
  victim = await startSsh2Server((ctx) => (ctx.method === 'password' && ctx.password === VICTIM_PASSWORD ? ctx.accept() : ctx.reject(['password'])));
  attacker = await startSsh2Server((ctx) => {
    if (ctx.method === 'password') stolen.push(ctx.password);
    ctx.reject(['password']);
  });
  // The attacker's API names itself as login and UAA server, so a refresh grant would come here.
  fakeApi = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      apiHeard.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)} ${body}`);
      const self = `https://127.0.0.1:${(fakeApi.address() as AddressInfo).port}`;
      res.writeHead(req.url === '/' ? 200 : 401, { 'content-type': 'application/json' });
      res.end(req.url === '/' ? JSON.stringify({ links: { cloud_controller_v3: { href: `${self}/v3` }, login: { href: self }, uaa: { href: self }, app_ssh: { href: '127.0.0.1:2222', meta: { host_key_fingerprint: 'a6:14:c0:ea:42:07:b2:f7:53:2c:0b:60:e0:00:21:6c', oauth_client: 'ssh-proxy' } } } }) : '{"error":"invalid_token"}');
    });
  });
  await new Promise<void>((resolve) => fakeApi.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await harness.dispose();
  await victim?.dispose();
  await attacker?.dispose();
  await new Promise((resolve) => fakeApi?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});


/** Answers every password prompt for `profileId` with `answer` (null: cancel), and records the hops asked. */
function answerPrompts(client: TunnelClient, profileId: string, answer: string | null, capture?: { answered(id: string, a: string | null): void }): string[] {
  const asked: string[] = [];
  client.on('prompt', (p) => {
    if (p.profileId !== profileId) return;
    asked.push(p.hop);
    capture?.answered(p.id, answer);
    void client.answerPrompt(p.id, answer);
  });
  return asked;
}

describe('a stored secret goes only where it was stored for', () => {
  it("an SSH password typed for the victim's server is never sent to another server that names its reference, and main logs the refusal", async () => {
    const app = harness.start({ NODE_EXTRA_CA_CERTS: tls.caFile });
    // The person connects to their own server once and types the password: it is kept.
    await app.client.saveProfile(await passwordProfile('victim', victim, 'victim-pw', knownHostsFor(dir, 'kh-victim', victim)));
    answerPrompts(app.client, 'victim', VICTIM_PASSWORD, app.capture);
    expect(await runUntilSettled(app.client, 'victim')).toBe('open');
    await expect.poll(() => app.stored).toEqual(['victim']);

    // A second profile arrives (the page, an import) naming the same reference, at the attacker's server.
    await app.client.saveProfile(await passwordProfile('evil', attacker, 'victim-pw', knownHostsFor(dir, 'kh-evil', attacker)));
    const asked = answerPrompts(app.client, 'evil', null);
    expect(await runUntilSettled(app.client, 'evil')).toBe('failed');
    expect(stolen).not.toContain(VICTIM_PASSWORD);
    // Refused like "no secret": the person is asked instead (and here says no).
    expect(asked).toEqual([`alice@127.0.0.1:${attacker.port}`]);
    expect(app.refused).toEqual([expect.objectContaining({ profileId: 'evil', ref: 'victim-pw' })]);

    // The victim's own profile still gets it without asking.
    const askedAgain = answerPrompts(app.client, 'victim', null);
    expect(await runUntilSettled(app.client, 'victim')).toBe('open');
    expect(askedAgain).toEqual([]);
    app.capture.dispose();
  });

  it("a Cloud Foundry refresh token kept for one API and user is never sent to another API that names its reference", async () => {
    const app = harness.start({ NODE_EXTRA_CA_CERTS: tls.caFile });
    const victimApi = 'https://api.sys.victim.example.com';
    await app.secrets.set('victim-login', VICTIM_TOKEN, { kind: 'cloudfoundry', api: victimApi, user: 'dev@example.com', transport: 'verified' });
    const attackerApi = `https://127.0.0.1:${(fakeApi.address() as AddressInfo).port}`;
    await app.client.saveProfile({
      kind: 'cloudfoundry',
      id: 'evil-cf',
      name: 'evil-cf',
      api: attackerApi,
      org: 'o',
      space: 's',
      app: 'a',
      target: { host: '127.0.0.1', port: 5432 },
      local: { bindPort: await freePort() },
      login: { method: 'password', username: 'dev@example.com', refreshTokenRef: 'victim-login' },
    });
    const asked = answerPrompts(app.client, 'evil-cf', null);
    expect(await runUntilSettled(app.client, 'evil-cf')).toBe('failed');
    expect(apiHeard.join('\n')).not.toContain(VICTIM_TOKEN);
    expect(asked.length).toBe(1);
    expect(app.refused).toEqual([expect.objectContaining({ profileId: 'evil-cf', ref: 'victim-login' })]);
  });
});

describe('an edit that moves a hop drops its reference', () => {
  it('keeps no reference on a server whose host, port or user changed, and none moves to another hop', async () => {
    const app = harness.start({ NODE_EXTRA_CA_CERTS: tls.caFile });
    const saved = {
      id: 'db',
      name: 'db',
      server: { host: 'db.internal', port: 22, user: 'alice', auth: { method: 'password', passwordRef: 'pw-db' } },
      jumps: [
        { host: 'a.example.com', user: 'ops', auth: { method: 'password', passwordRef: 'pw-a' } },
        { host: 'b.example.com', user: 'ops', auth: { method: 'password', passwordRef: 'pw-b' } },
      ],
      forwards: [{ type: 'local', bindPort: 15432, targetHost: '127.0.0.1', targetPort: 5432 }],
    };
    expect(await app.client.saveProfile(saved)).toMatchObject({ ok: true });
    const edited = {
      ...saved,
      server: { ...saved.server, host: 'evil.example.com' },
      // Hop b moved first but kept a's reference; a kept its own under another user.
      jumps: [
        { host: 'b.example.com', user: 'ops', auth: { method: 'password', passwordRef: 'pw-a' } },
        { host: 'A.example.com', user: 'ops', auth: { method: 'password', passwordRef: 'pw-a' } },
      ],
    };
    const result = await app.client.saveProfile(edited);
    expect(result).toMatchObject({ ok: true });
    const stored = (await app.client.listProfiles()).find((v) => v.profile.id === 'db')!.profile;
    if (stored.kind !== 'ssh') throw new Error('not ssh');
    expect(stored.server.auth).toEqual({ method: 'password' });
    expect(stored.jumps.map((j) => j.auth)).toEqual([{ method: 'password' }, { method: 'password', passwordRef: 'pw-a' }]);
    // A port change counts as a move too.
    await app.client.saveProfile({ ...saved, jumps: [] });
    await app.client.saveProfile({ ...saved, jumps: [], server: { ...saved.server, port: 2222 } });
    const moved = (await app.client.listProfiles()).find((v) => v.profile.id === 'db')!.profile;
    expect(moved.kind === 'ssh' && moved.server.auth).toEqual({ method: 'password' });
  });
});

describe('the editor keys hops by identity, not position', () => {
  const base = viewProfile({
    jumps: [
      { host: 'a.example.com', auth: { method: 'password', passwordRef: 'pw-a' } },
      { host: 'b.example.com', auth: { method: 'password', passwordRef: 'pw-b' } },
    ],
  });

  it('swapping two hops moves each one\'s reference with it', () => {
    const d = profileDraft(base);
    d.jumps = [d.jumps[1]!, d.jumps[0]!];
    const check = checkDraft(d, base);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.profile.jumps.map((j) => [j.host, j.auth])).toEqual([
      ['b.example.com', { method: 'password', passwordRef: 'pw-b' }],
      ['a.example.com', { method: 'password', passwordRef: 'pw-a' }],
    ]);
  });

  it("removing the first hop leaves the second with its own reference and gives it none of the first's", () => {
    const d = profileDraft(base);
    d.jumps = d.jumps.slice(1);
    const check = checkDraft(d, base);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.profile.jumps).toEqual([expect.objectContaining({ host: 'b.example.com', auth: { method: 'password', passwordRef: 'pw-b' } })]);
  });
});
