// Cloud Foundry tunnels end to end against the fake foundation: the real mariadb client reaches a
// MariaDB that only the app container can reach, through the supervisor; and every way a
// foundation says no (SSH disabled, app stopped, bad instance, wrong host key, spent code, hidden
// env, typo'd names) fails with the reason shown. Observed through state events, never sleeps.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloudFoundryConnector, loginSecretRef } from '../app/cloudfoundry/connector.js';
import { installId } from '../app/profiles/installId.js';
import { cloudFoundrySecretUse, type SecretUse } from '../app/profiles/secretUse.js';
import type { Prompter } from '../app/engine/prompts.js';
import { Tunnel, type LogEntry, type TunnelState } from '../app/engine/tunnel.js';
import type { CloudFoundryProfile } from '../app/profiles/schema.js';
import { formatErrors, parseProfile } from '../app/profiles/validate.js';
import { EngineHost } from '../app/host/engineHost.js';
import { crashReport } from '../app/shared/crash.js';
import { SecretStore } from '../app/host/secretStore.js';
import { EngineService } from '../app/service/engineService.js';
import { events } from '../app/shared/contract.js';
import { FakeSafeStorage } from './host/fakeSafeStorage.js';
import { forkSpawner } from './host/forkSpawner.js';
import { FakeFoundation } from './support/cf/foundation.js';
import { APP, ORG, SERVICE, SPACE, startCfWorld, type CfWorld } from './support/cf/world.js';
import { nextEvent as next } from './support/events.js';
import { freePort } from './support/net.js';
import { waitForExit } from './support/proc.js';

let world: CfWorld;
const owned: Array<{ dispose(): Promise<void> }> = [];
const SOON_MS = 30_000;

beforeAll(async () => {
  world = await startCfWorld();
}, 180_000);

afterEach(async () => {
  for (const o of owned.splice(0).reverse()) await o.dispose();
  world.foundation.codeTtlMs = 5 * 60_000;
  world.foundation.rotateRefreshTokens = false;
  world.foundation.accessTokenTtlS = 600;
  world.writeCfConfig();
  world.foundation.advertisedFingerprint = world.foundation.fingerprint('sha256-base64');
});

afterAll(async () => {
  await world?.dispose();
});

async function profile(overrides: Record<string, unknown> = {}, api = world.foundation.apiUrl): Promise<CloudFoundryProfile> {
  const parsed = parseProfile({
    kind: 'cloudfoundry',
    id: 'orders-db',
    name: 'Orders DB',
    api,
    org: ORG,
    space: SPACE,
    app: APP,
    service: SERVICE,
    local: { bindPort: await freePort() },
    login: { method: 'cf-cli', cfHome: world.cfHome },
    keepalive: { intervalSeconds: 5, countMax: 3 },
    reconnect: { enabled: false },
    ...overrides,
  });
  if (!parsed.ok || parsed.value.kind !== 'cloudfoundry') throw new Error(parsed.ok ? 'not a CF profile' : formatErrors(parsed.errors));
  return parsed.value;
}

interface Run {
  tunnel: Tunnel;
  states: TunnelState[];
  logs: LogEntry[];
  next<K extends TunnelState['state']>(state: K, after?: number): Promise<Extract<TunnelState, { state: K }>>;
}

function start(p: CloudFoundryProfile, opts: { prompter?: Prompter; ca?: string | null } = {}): Run {
  const connector = cloudFoundryConnector(p, { prompter: opts.prompter ?? {}, ...(opts.ca === null ? {} : { ca: opts.ca ?? world.tls.ca }) });
  const tunnel = new Tunnel({ profile: p, connector });
  const states: TunnelState[] = [];
  const logs: LogEntry[] = [];
  tunnel.on('state', (s) => states.push(s));
  tunnel.on('log', (l) => logs.push(l));
  owned.push({ dispose: () => tunnel.stop() });
  tunnel.start();
  const next = <K extends TunnelState['state']>(state: K, after = 0) =>
    new Promise<Extract<TunnelState, { state: K }>>((resolve, reject) => {
      const check = () => {
        const found = states.slice(after).find((s) => s.state === state || (state !== 'failed' && s.state === 'failed'));
        if (!found) return;
        off();
        clearTimeout(timer);
        if (found.state === state) resolve(found as Extract<TunnelState, { state: K }>);
        else reject(new Error(`wanted "${state}", got ${JSON.stringify(found)}`));
      };
      const off = tunnel.on('state', check);
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no "${state}" within ${SOON_MS} ms: ${JSON.stringify(states)}`));
      }, SOON_MS);
      check();
    });
  return { tunnel, states, logs, next };
}

function directConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('a Cloud Foundry tunnel', () => {
  it('reaches the bound MySQL service through the app container, with connection details', async () => {
    const p = await profile();
    const run = start(p);
    const open = await run.next('open');
    expect(open.hops.map((h) => h.label)).toEqual([`ssh-proxy ${world.foundation.sshEndpoint}`, `container ${APP}/0`]);
    expect(open.hops[0]!.hostKey?.type).toBe('ssh-rsa');
    const port = p.local.bindPort;
    expect(open.forwards[0]).toMatchObject({
      targetHost: world.db.host,
      targetPort: world.db.port,
      service: {
        name: SERVICE,
        command: `mysql -h 127.0.0.1 -P ${port} -u ${world.db.user} -p ${world.db.database}`,
        uri: `mysql://${world.db.user}@127.0.0.1:${port}/${world.db.database}`,
        jdbcUrl: `jdbc:mysql://127.0.0.1:${port}/${world.db.database}?user=${world.db.user}`,
      },
    });
    expect(JSON.stringify(open)).not.toContain(world.db.password);
    expect(await world.db.query('SELECT greeting FROM items WHERE id = 1', { host: '127.0.0.1', port })).toBe(world.db.greeting);
    expect(world.foundation.proxyLogins.at(-1)).toEqual({ username: `cf:${world.app.processGuid}/0`, ok: true });
    if (world.netns) expect(await directConnect(world.db.host, world.db.port)).toBe('EHOSTUNREACH');
  });

  it('names every secret it obtained to the crash report, which prints none of them', async () => {
    world.writeCfConfig();
    const config = JSON.parse(readFileSync(join(world.cfHome, '.cf', 'config.json'), 'utf8')) as { RefreshToken: string };
    await start(await profile()).next('open');
    const err = new Error(`mysql://${world.db.user}:${world.db.password}@db refused; refresh ${config.RefreshToken}`);
    const report = crashReport('tunnelvision', 'exception', err);
    expect(report).not.toContain(world.db.password);
    expect(report).not.toContain(config.RefreshToken);
    expect(report).toContain(`mysql://${world.db.user}:[redacted]@db refused; refresh [redacted]`);
  });

  it('reuses the cf CLI login and refreshes its expired access token, asking no password', async () => {
    const expired = world.foundation.login(-30).access;
    world.writeCfConfig({ AccessToken: `bearer ${expired}` });
    const grantsBefore = world.foundation.grants.length;
    let asked = 0;
    const run = start(await profile(), { prompter: { password: async () => (asked++, null) } });
    await run.next('open');
    expect(world.foundation.grants.slice(grantsBefore)).toEqual(['refresh_token', 'authorization_code']);
    expect(asked).toBe(0);
  });

  it('writes a rotated refresh token back into the cf CLI\'s config, as the cf CLI does', async () => {
    world.foundation.rotateRefreshTokens = true;
    world.writeCfConfig({ AccessToken: `bearer ${world.foundation.login(-30).access}` });
    const file = join(world.cfHome, '.cf', 'config.json');
    const read = () => JSON.parse(readFileSync(file, 'utf8')) as { RefreshToken: string; AccessToken: string; Target: string };
    const before = read();
    await start(await profile()).next('open');
    await expect.poll(() => read().RefreshToken).not.toBe(before.RefreshToken);
    const after = read();
    expect(after).toMatchObject({ Target: before.Target, AccessToken: expect.stringMatching(/^bearer \S+$/) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The cf CLI's own next refresh, with what the file now holds, is accepted: its login survived ours.
    world.writeCfConfig({ AccessToken: `bearer ${world.foundation.login(-30).access}`, RefreshToken: after.RefreshToken });
    const grants = world.foundation.grants.length;
    await start(await profile()).next('open');
    expect(world.foundation.grants.slice(grants)[0]).toBe('refresh_token');
  });

  it('says to run cf login when the cf CLI\'s refresh token has expired too', async () => {
    world.writeCfConfig({ AccessToken: `bearer ${world.foundation.login(-30).access}`, RefreshToken: 'expired-refresh-token' });
    try {
      const failed = await start(await profile()).next('failed');
      expect(failed.error).toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining(`Run \`cf login -a ${world.foundation.apiUrl}\`, then try again.`) });
    } finally {
      world.writeCfConfig();
    }
  });

  it('logs in with a password once, asking again after a wrong one, and keeps nothing but tokens', async () => {
    const answers = ['wrong', world.foundation.password];
    const asked: boolean[] = [];
    const prompter: Prompter = { password: async (q) => (asked.push(q.retry), answers.shift() ?? null) };
    const run = start(await profile({ login: { method: 'password', username: world.foundation.user } }), { prompter });
    await run.next('open');
    expect(asked).toEqual([false, true]);
  });

  it('uses a saved refresh token through its secret reference, and asks for the password once it has expired', async () => {
    const asked: string[] = [];
    const p = await profile({ login: { method: 'password', username: world.foundation.user, refreshTokenRef: 'cf-refresh' } });
    const secretsAsked: string[] = [];
    const connector = cloudFoundryConnector(p, {
      prompter: { password: async (q) => (asked.push(q.user), world.foundation.password) },
      secrets: async (ref) => (secretsAsked.push(ref), 'a-refresh-token-uaa-no-longer-knows'),
      ca: world.tls.ca,
    });
    const tunnel = new Tunnel({ profile: p, connector });
    owned.push({ dispose: () => tunnel.stop() });
    tunnel.start();
    await tunnel.whenOpen();
    expect(secretsAsked).toEqual(['cf-refresh']);
    expect(asked).toEqual([world.foundation.user]);
  });

  it('verifies the proxy against an advertised fingerprint in each of the four formats', async () => {
    for (const format of ['md5', 'sha1', 'sha256-hex', 'sha256-base64'] as const) {
      world.foundation.advertisedFingerprint = world.foundation.fingerprint(format);
      const run = start(await profile());
      await run.next('open');
      await run.tunnel.stop();
    }
  });

  it('refuses a proxy whose key does not match, showing both fingerprints', async () => {
    const wrong = 'a6:14:c0:ea:42:07:b2:f7:53:2c:0b:60:e0:00:21:6c';
    world.foundation.advertisedFingerprint = wrong;
    const logins = world.foundation.proxyLogins.length;
    const failed = await start(await profile()).next('failed');
    expect(failed.error).toMatchObject({ code: 'HOST_KEY_CHANGED', hop: `ssh-proxy ${world.foundation.sshEndpoint}` });
    expect(failed.error.message).toContain(wrong);
    expect(failed.error.message).toContain(world.foundation.fingerprint('md5'));
    expect(world.foundation.proxyLogins.length).toBe(logins);
  });

  it('fails with AUTH_FAILED when every one-time code has expired, after one fresh try', async () => {
    world.foundation.codeTtlMs = -1;
    const logins = world.foundation.proxyLogins.length;
    const failed = await start(await profile()).next('failed');
    expect(failed.error).toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('expired or was already used') });
    expect(world.foundation.proxyLogins.slice(logins).map((l) => l.ok)).toEqual([false, false]);
  });

  it('reconnects after a restage with a fresh code and the new process guid', async () => {
    const run = start(await profile({ reconnect: { enabled: true, initialDelaySeconds: 0.2, maxDelaySeconds: 1 } }));
    await run.next('open');
    const before = run.states.length;
    const oldGuid = world.app.processGuid;
    world.foundation.restage(world.app);
    const reconnecting = await run.next('reconnecting', before);
    expect(reconnecting.error.code).toBe('CONNECTION_LOST');
    await run.next('open', before);
    expect(world.app.processGuid).not.toBe(oldGuid);
    expect(world.foundation.proxyLogins.at(-1)).toEqual({ username: `cf:${world.app.processGuid}/0`, ok: true });
    expect(await world.db.query('SELECT greeting FROM items WHERE id = 1', { host: '127.0.0.1', port: run.tunnel.profile.kind === 'cloudfoundry' ? run.tunnel.profile.local.bindPort : 0 })).toBe(world.db.greeting);
  });

  it('refreshes once when Cloud Controller says the access token is invalid', async () => {
    const run = start(await profile({ reconnect: { enabled: true, initialDelaySeconds: 0.2, maxDelaySeconds: 1 } }));
    await run.next('open');
    const before = run.states.length;
    const grants = world.foundation.grants.length;
    world.foundation.revokeAccessTokens();
    world.foundation.restage(world.app);
    await run.next('open', before);
    expect(world.foundation.grants.slice(grants)).toEqual(['refresh_token', 'authorization_code']);
  });

  it('keeps the tunnel open when the container cannot reach the target, failing only that connection', async () => {
    const closed = await freePort();
    const run = start(await profile({ service: undefined, target: { host: '127.0.0.1', port: closed } }));
    const open = await run.next('open');
    const warned = new Promise<LogEntry>((resolve) => run.tunnel.on('log', (l) => l.level === 'warn' && resolve(l)));
    await directConnect('127.0.0.1', open.forwards[0]!.bindPort);
    expect((await warned).message).toBe(`container ${APP}/0 could not connect to 127.0.0.1:${closed}: dial tcp 127.0.0.1:${closed}: connect: connection refused.`);
    expect(run.tunnel.state.state).toBe('open');
  });
});

describe('through the engine service the desktop app uses', () => {
  it('saves and starts a CF profile; its open state crosses the contract with the connection details', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'tv-cf-engine-'));
    const service = new EngineService({ configDir });
    owned.push({ dispose: async () => (await service.dispose(), rmSync(configDir, { recursive: true, force: true })) });
    const p = await profile({ skipSslValidation: true });
    expect(await service.saveProfile(p)).toMatchObject({ ok: true });
    const opened = new Promise<TunnelState>((resolve) => service.on('state', ({ state }) => (state.state === 'open' || state.state === 'failed') && resolve(state)));
    await service.start(p.id);
    const state = events.state.parse({ profileId: p.id, state: await opened }).state;
    expect(state).toMatchObject({ state: 'open', forwards: [{ service: { name: SERVICE, database: world.db.database } }] });
    expect(await world.db.query('SELECT greeting FROM items WHERE id = 1', { host: '127.0.0.1', port: p.local.bindPort })).toBe(world.db.greeting);
  });
});

describe('a password login kept as a secret, as the desktop app keeps it', () => {
  const ENTRY = new URL('../dist/app/service/engineProcess.js', import.meta.url).pathname;

  /** The desktop app's arrangement: a real engine process, main's secret store behind the host. */
  function desktop(configDir: string, secrets: SecretStore) {
    const spawn = forkSpawner({ TUNNELVISION_CONFIG_DIR: configDir });
    const host = new EngineHost({ entry: ENTRY, spawn, secrets });
    const asked: string[] = [];
    host.client.on('prompt', (q) => {
      if (q.kind !== 'password') return;
      asked.push(q.user);
      void host.client.answerPrompt(q.id, world.foundation.password);
    });
    owned.push({
      dispose: async () => {
        await host.shutdown();
        for (const child of spawn.children) {
          const exited = waitForExit(child);
          child.kill('SIGKILL');
          await exited;
        }
      },
    });
    return { client: host.client, asked };
  }

  /** A write queued behind the engine's, so a test reads what they left. */
  const BARRIER: SecretUse = { kind: 'ssh', host: 'barrier', port: 1, user: 'none', hostKey: `SHA256:${'A'.repeat(43)}` };

  /**
   * Engine services over one config folder and one secret store, started one after another as the
   * desktop app would be across restarts: each run opens `p` (answering any prompt with `answer`),
   * stops, and says what was asked, what the store refused, and which grants the foundation saw.
   */
  function loginRuns() {
    const configDir = mkdtempSync(join(tmpdir(), 'tv-cf-login-'));
    owned.push({ dispose: async () => rmSync(configDir, { recursive: true, force: true }) });
    const secrets = new SecretStore({ file: join(configDir, 'secrets.json'), safeStorage: new FakeSafeStorage(), confirmPlainStorage: async () => false });
    const run = async (p: CloudFoundryProfile, answer: string | null) => {
      const refusals: string[] = [];
      const service = new EngineService({
        configDir,
        secrets: async (ref, use) => {
          const found = await secrets.lookup(ref, use);
          if (!found.found) refusals.push(found.why);
          return found.found ? found.value : undefined;
        },
        keeper: secrets,
        ca: world.tls.ca,
      });
      const asked: string[] = [];
      service.on('prompt', (q) => (asked.push(q.kind), void service.answerPrompt(q.id, answer)));
      await service.saveProfile(p);
      const grants = world.foundation.grants.length;
      const done = new Promise<TunnelState>((resolve) => service.on('state', ({ state }) => (state.state === 'open' || state.state === 'failed') && resolve(state)));
      await service.start(p.id);
      const state = await done;
      await service.dispose();
      // Queued behind the last keep, so the next run reads what this one left.
      await secrets.set('barrier', 'x', BARRIER);
      return { state: state.state, asked, refusals, grants: world.foundation.grants.slice(grants) };
    };
    return { run, configDir };
  }

  const sealedRefs = (file: string) => Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { secrets: Record<string, string> }).secrets);

  it('keeps only the refresh token, reuses it after an app restart without asking, and forgets it with the profile', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'tv-cf-login-'));
    owned.push({ dispose: async () => rmSync(configDir, { recursive: true, force: true }) });
    const file = join(configDir, 'secrets.json');
    const secrets = new SecretStore({ file, safeStorage: new FakeSafeStorage(), confirmPlainStorage: async () => false });
    const p = await profile({ skipSslValidation: true, login: { method: 'password', username: world.foundation.user } });
    const ref = loginSecretRef(p, await installId(configDir))!;
    const use = cloudFoundrySecretUse(p)!;

    const first = desktop(configDir, secrets);
    expect(await first.client.saveProfile(p)).toMatchObject({ ok: true });
    const grants = world.foundation.grants.length;
    const kept = next(first.client, 'log', (l) => l.profileId === p.id && l.entry.message.includes('kept for next time'));
    const open = next(first.client, 'state', (s) => s.profileId === p.id && (s.state.state === 'open' || s.state.state === 'failed'));
    await first.client.start(p.id);
    expect((await open).state.state).toBe('open');
    expect((await kept).entry).toMatchObject({ level: 'info', message: `Logged in to ${p.api}; the login is kept for next time (the password is not).` });
    expect(first.asked).toEqual([world.foundation.user]);
    expect(world.foundation.grants.slice(grants)).toEqual(['password', 'authorization_code']);
    expect(sealedRefs(file)).toEqual([ref]);
    const token = await secrets.get(ref, use);
    expect(token).toMatch(/\S{16,}/);
    expect(token).not.toBe(world.foundation.password);
    const raw = readFileSync(file, 'utf8');
    expect(raw).not.toContain(token!);
    expect(raw).not.toContain(world.foundation.password);
    await owned.pop()!.dispose();

    // The app starts again: a new engine reads the kept login and asks nobody.
    const second = desktop(configDir, secrets);
    const grantsBefore = world.foundation.grants.length;
    const reopened = next(second.client, 'state', (s) => s.profileId === p.id && (s.state.state === 'open' || s.state.state === 'failed'));
    await second.client.start(p.id);
    expect((await reopened).state.state).toBe('open');
    expect(second.asked).toEqual([]);
    expect(world.foundation.grants.slice(grantsBefore)).toEqual(['refresh_token', 'authorization_code']);
    expect(await world.db.query('SELECT greeting FROM items WHERE id = 1', { host: '127.0.0.1', port: p.local.bindPort })).toBe(world.db.greeting);

    await second.client.deleteProfile(p.id);
    await expect.poll(() => sealedRefs(file)).toEqual([]);
  });

  it('forgets a kept login when the profile changes to another user, and never reads it for that user', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'tv-cf-login-'));
    const file = join(configDir, 'secrets.json');
    const secrets = new SecretStore({ file, safeStorage: new FakeSafeStorage(), confirmPlainStorage: async () => false });
    const service = new EngineService({ configDir, secrets: (ref, use) => secrets.get(ref, use), keeper: secrets });
    owned.push({ dispose: async () => (await service.dispose(), rmSync(configDir, { recursive: true, force: true })) });
    const p = await profile({ login: { method: 'password', username: world.foundation.user } });
    const other = await profile({ login: { method: 'password', username: 'someone-else@example.com' } });
    const install = await installId(configDir);
    expect(loginSecretRef(other, install)).not.toBe(loginSecretRef(p, install));
    // Not derivable from the profile alone: another installation makes another reference.
    expect(loginSecretRef(p, await installId(join(configDir, 'another-install')))).not.toBe(loginSecretRef(p, install));
    const use = cloudFoundrySecretUse(p)!;
    expect(await service.saveProfile(p)).toMatchObject({ ok: true });
    await secrets.set(loginSecretRef(p, install)!, 'a-kept-refresh-token', use);
    await service.saveProfile({ ...p, name: 'Renamed' });
    // Queued behind any forgetting the rename might have started: the login must still be there.
    await secrets.set('unrelated', 'x', BARRIER);
    expect(await secrets.get(loginSecretRef(p, install)!, use)).toBe('a-kept-refresh-token');
    expect(await service.saveProfile(other)).toMatchObject({ ok: true });
    await expect.poll(() => sealedRefs(file)).toEqual(['unrelated']);
  });

  it('keeps the newest refresh token when UAA rotates it on every refresh', async () => {
    world.foundation.rotateRefreshTokens = true;
    // Access tokens that expire inside the refresh margin: every use refreshes, so the kept token must follow.
    world.foundation.accessTokenTtlS = 30;
    const { run } = loginRuns();
    const p = await profile({ login: { method: 'password', username: world.foundation.user } });
    const first = await run(p, world.foundation.password);
    expect(first).toMatchObject({ state: 'open', asked: ['password'] });
    expect(first.grants.filter((g) => g === 'refresh_token').length).toBeGreaterThan(0);
    const second = await run(p, null);
    expect(second).toMatchObject({ state: 'open', asked: [] });
    expect(second.grants[0]).toBe('refresh_token');
  });

  it('never serves a login kept over verified https to the same API and user without verification (skip-TLS, plain http allowed)', async () => {
    const { run, configDir } = loginRuns();
    const verified = await profile({ login: { method: 'password', username: world.foundation.user } });
    expect(await run(verified, world.foundation.password)).toMatchObject({ state: 'open', asked: ['password'] });
    // The same profile (so the same reference), saved again with verification off: the page or an
    // import could, and anyone on the network path could then answer as the foundation.
    for (const insecure of [{ skipSslValidation: true }, { allowInsecureHttp: true }]) {
      const unverified = { ...verified, ...insecure };
      expect(loginSecretRef(unverified, await installId(configDir))).toBe(loginSecretRef(verified, await installId(configDir)));
      const attempt = await run(unverified, null);
      expect(attempt).toMatchObject({ state: 'failed', asked: ['password'], refusals: ['other-use'] });
      expect(attempt.grants).not.toContain('refresh_token');
    }
    // Still kept for verified https: the profile as it was gets it without asking.
    const again = await run(verified, null);
    expect(again).toMatchObject({ state: 'open', asked: [] });
    expect(again.grants[0]).toBe('refresh_token');
  });

  it('says in the log when no keyring can keep the login, and the tunnel still opens', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'tv-cf-login-'));
    const safeStorage = new FakeSafeStorage('basic_text');
    const secrets = new SecretStore({ file: join(configDir, 'secrets.json'), safeStorage, confirmPlainStorage: async () => false });
    const service = new EngineService({ configDir, secrets: (ref, use) => secrets.get(ref, use), keeper: secrets, ca: world.tls.ca });
    owned.push({ dispose: async () => (await service.dispose(), rmSync(configDir, { recursive: true, force: true })) });
    service.on('prompt', (q) => void service.answerPrompt(q.id, world.foundation.password));
    const p = await profile({ login: { method: 'password', username: world.foundation.user } });
    await service.saveProfile(p);
    const warned = new Promise<string>((resolve) => service.on('log', ({ entry }) => entry.level === 'warn' && resolve(entry.message)));
    const open = new Promise<TunnelState>((resolve) => service.on('state', ({ state }) => (state.state === 'open' || state.state === 'failed') && resolve(state)));
    await service.start(p.id);
    expect((await open).state).toBe('open');
    expect(await warned).toBe(`The login to ${p.api} is kept only until Tunnelvision quits: no keyring is available, and storing secrets without one was declined.`);
  });
});

describe('what the foundation refuses, said plainly', () => {
  it('SSH disabled: the platform\'s reason', async () => {
    const app = world.foundation.addApp({ org: ORG, space: SPACE, name: 'locked', ssh: { enabled: false, reason: "ssh is disabled for space 'dev'" } });
    const failed = await start(await profile({ app: app.name, service: undefined, target: { host: '127.0.0.1', port: 3306 } })).next('failed');
    expect(failed.error).toMatchObject({ code: 'AUTH_FAILED', message: `SSH to app "locked" is not allowed: ssh is disabled for space 'dev'.` });
  });

  it('app stopped', async () => {
    const app = world.foundation.addApp({ org: ORG, space: SPACE, name: 'sleepy', state: 'STOPPED' });
    const failed = await start(await profile({ app: app.name, service: undefined, target: { host: '127.0.0.1', port: 3306 } })).next('failed');
    expect(failed.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('App "sleepy" is STOPPED') });
  });

  it('an instance that does not exist', async () => {
    const failed = await start(await profile({ instance: 3 })).next('failed');
    expect(failed.error.message).toBe(`Instance 3 of process web not found: app "${APP}" has 1 instance (0).`);
  });

  it.each([
    ['org', { org: 'acme-prod' }, 'There is no org "acme-prod" that you can see. Orgs you can see: "acme", "globex".'],
    ['space', { space: 'develop' }, 'Org "acme" has no space "develop" that you can see. Its spaces: "dev", "prod".'],
    ['app', { app: 'order' }, 'Space "dev" has no app "order". Its apps: "billing", '],
    ['service', { service: 'orders-dbb' }, `App "${APP}" has no service "orders-dbb" bound. Services bound to it: "audit-log" (user-provided), "orders-db" (p.mysql).`],
  ])('a typo\'d %s lists the names that exist', async (_what, overrides, message) => {
    const failed = await start(await profile(overrides)).next('failed');
    expect(failed.error.code).toBe('CONFIG_INVALID');
    expect(failed.error.message).toContain(message);
  });

  it('an environment hidden from the user', async () => {
    const app = world.foundation.addApp({ org: ORG, space: SPACE, name: 'secretive', envRedacted: true });
    const failed = await start(await profile({ app: app.name })).next('failed');
    expect(failed.error).toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('[PRIVATE DATA HIDDEN]') });
  });

  it('an untrusted certificate, unless verification is explicitly skipped', async () => {
    const failed = await start(await profile(), { ca: null }).next('failed');
    expect(failed.error).toMatchObject({ code: 'CONFIG_INVALID', hop: `api 127.0.0.1:${new URL(world.foundation.apiUrl).port}`, message: expect.stringContaining('--skip-ssl-validation') });
    await start(await profile({ skipSslValidation: true }), { ca: null }).next('open');
  });
});

describe('service credentials in every shape', () => {
  const shapes: Array<[string, (db: CfWorld['db']) => Record<string, unknown>]> = [
    ['ClearDB: string port, name', (db) => ({ hostname: db.host, port: String(db.port), name: db.database, username: db.user, password: db.password })],
    ['host instead of hostname', (db) => ({ host: db.host, port: db.port, name: db.database, username: db.user, password: db.password })],
    ['uri only', (db) => ({ uri: `mysql://${db.user}:${db.password}@${db.host}:${db.port}/${db.database}` })],
  ];

  it.each(shapes)('%s', async (label, creds) => {
    const name = `shape-${shapes.findIndex(([l]) => l === label)}`;
    world.foundation.addApp({ org: ORG, space: SPACE, name, vcapServices: { cleardb: [{ name: 'db', label: 'cleardb', tags: ['mysql'], credentials: creds(world.db) }] } });
    const p = await profile({ app: name, service: 'db' });
    const open = await start(p).next('open');
    expect(open.forwards[0]).toMatchObject({ targetHost: world.db.host, targetPort: world.db.port, service: { database: world.db.database, user: world.db.user } });
    expect(await world.db.query('SELECT greeting FROM items WHERE id = 1', { host: '127.0.0.1', port: p.local.bindPort })).toBe(world.db.greeting);
  });

  it('falls back to service credential bindings for apps without VCAP_SERVICES', async () => {
    const db = world.db;
    world.foundation.addApp({ org: ORG, space: SPACE, name: 'file-bound', bindings: [{ guid: 'b-1', serviceName: 'db', type: 'managed', credentials: { hostname: db.host, port: db.port, name: db.database, username: db.user, password: db.password } }] });
    const p = await profile({ app: 'file-bound', service: 'db' });
    const open = await start(p).next('open');
    expect(open.forwards[0]).toMatchObject({ targetHost: db.host, targetPort: db.port });
  });

  it('discovers a foundation that only has /v2/info', async () => {
    const legacy = await FakeFoundation.start({ tls: world.tls, container: world.container, legacyInfo: true });
    owned.push(legacy);
    legacy.addApp({ org: ORG, space: SPACE, name: APP });
    const open = await start(await profile({ service: undefined, target: { host: world.db.host, port: world.db.port }, login: { method: 'password', username: legacy.user } }, legacy.apiUrl), { prompter: { password: async () => legacy.password } }).next('open');
    expect(open.hops[0]!.label).toBe(`ssh-proxy ${legacy.sshEndpoint}`);
  });
});

