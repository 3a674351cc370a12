// SecretStore against a safeStorage stand-in that keeps the real API's contract, and the whole
// path from a password prompt to a stored secret through a real engine and a real SSH server.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSecrets } from '../../app/host/secretCapture.js';
import { SecretStore, type SetResult } from '../../app/host/secretStore.js';
import { EngineService } from '../../app/service/engineService.js';
import { freePort } from '../support/net.js';
import { hashServer, type TcpTarget } from '../support/servers.js';
import { startSsh2Server, type TestSsh2Server } from '../support/ssh2Server.js';
import { FakeSafeStorage } from './fakeSafeStorage.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-secrets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function store(safeStorage = new FakeSafeStorage(), options: { platform?: NodeJS.Platform; consent?: () => Promise<boolean> } = {}) {
  const file = join(mkdtempSync(join(dir, 's-')), 'secrets.json');
  const asked: number[] = [];
  const secrets = new SecretStore({
    file,
    safeStorage,
    platform: options.platform ?? 'linux',
    confirmPlainStorage: async () => {
      asked.push(1);
      return (await options.consent?.()) ?? false;
    },
  });
  return { secrets, file, asked };
}

describe('SecretStore', () => {
  it('keeps secrets encrypted in their own 0600 file, readable back only with the same key', async () => {
    const safe = new FakeSafeStorage();
    const { secrets, file } = store(safe);
    expect(await secrets.set('db-pw', 'hunter2 ü')).toEqual({ stored: true });
    expect(await secrets.set('key-pp', 'passphrase')).toEqual({ stored: true });
    expect(await secrets.get('db-pw')).toBe('hunter2 ü');
    expect(await secrets.get('missing')).toBeUndefined();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('passphrase');
    expect(Object.keys(JSON.parse(text).secrets)).toEqual(['db-pw', 'key-pp']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Another OS account's (or keyring's) key cannot open it: the secret is absent, not an error.
    const other = new SecretStore({ file, safeStorage: new FakeSafeStorage(), platform: 'linux', confirmPlainStorage: async () => false });
    expect(await other.get('db-pw')).toBeUndefined();
    await secrets.delete('db-pw');
    expect(await secrets.get('db-pw')).toBeUndefined();
    expect(await secrets.get('key-pp')).toBe('passphrase');
  });

  it('stores nothing and decrypts nothing while encryption is unavailable', async () => {
    const safe = new FakeSafeStorage();
    const { secrets, file } = store(safe);
    await secrets.set('a', 'one');
    safe.available = false;
    expect(await secrets.set('b', 'two')).toMatchObject({ stored: false, reason: expect.stringContaining('no encryption') });
    expect(await secrets.get('a')).toBeUndefined();
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).secrets)).toEqual(['a']);
  });

  it("on Linux's basic_text backend, stores only after an explicit yes, asked once", async () => {
    const declined = store(new FakeSafeStorage('basic_text'));
    expect(await declined.secrets.set('a', 'one')).toMatchObject({ stored: false, reason: expect.stringContaining('declined') });
    expect(await declined.secrets.set('b', 'two')).toMatchObject({ stored: false });
    expect(declined.asked).toHaveLength(1);
    expect(() => statSync(declined.file)).toThrow();

    const agreed = store(new FakeSafeStorage('basic_text'), { consent: async () => true });
    expect(await agreed.secrets.set('a', 'one')).toEqual({ stored: true });
    expect(await agreed.secrets.set('b', 'two')).toEqual({ stored: true });
    expect(agreed.asked).toHaveLength(1);
    expect(JSON.parse(readFileSync(agreed.file, 'utf8')).plainTextConsent).toBe(true);

    // A real keyring needs no consent; basic_text elsewhere than Linux does not exist.
    expect((await store(new FakeSafeStorage('kwallet5')).secrets.set('a', 'x')).stored).toBe(true);
    const mac = store(new FakeSafeStorage('basic_text'), { platform: 'darwin' });
    expect((await mac.secrets.set('a', 'x')).stored).toBe(true);
    expect(mac.asked).toHaveLength(0);
  });

  it('keeps both of two secrets saved at the same time', async () => {
    const { secrets } = store();
    await Promise.all(Array.from({ length: 10 }, (_, i) => secrets.set(`r${i}`, `v${i}`)));
    for (let i = 0; i < 10; i++) expect(await secrets.get(`r${i}`)).toBe(`v${i}`);
  });

  it('never puts a secret in an error it raises', async () => {
    const { secrets, file } = store();
    await secrets.set('a', 'top-secret-value');
    writeFileSync(file, '{ not json top-secret-value');
    const err = await secrets.get('a').catch((e: Error) => e);
    expect(String(err)).not.toContain('top-secret-value');
  });
});

describe('remembering a typed password once it worked', () => {
  let server: TestSsh2Server;
  let target: TcpTarget;
  let engine: EngineService;

  beforeAll(async () => {
    server = await startSsh2Server((ctx) => (ctx.method === 'password' && ctx.password === 'right' ? ctx.accept() : ctx.reject(['password'])));
    target = await hashServer();
  });
  afterAll(async () => {
    await engine?.dispose();
    await server?.dispose();
    await target?.close();
  });

  it('stores the answer that opened the tunnel, not the mistyped one before it', async () => {
    const { secrets } = store();
    const configDir = mkdtempSync(join(dir, 'engine-'));
    engine = new EngineService({ configDir, secrets: (ref) => secrets.get(ref) });
    const results: Array<[string, SetResult]> = [];
    const capture = captureSecrets(engine, secrets, (profileId, result) => results.push([profileId, result]));
    const known = join(configDir, 'known_hosts');
    writeFileSync(known, server.knownHostsLine());
    await engine.saveProfile({
      id: 'pw',
      name: 'Password',
      server: { host: '127.0.0.1', port: server.port, user: 'u', auth: { method: 'password', passwordRef: 'pw-ref' } },
      hostKey: { strict: 'yes', knownHostsFiles: [known] },
      forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: target.port }],
    });
    const answers = ['wrong', 'right'];
    engine.on('prompt', (p) => {
      const answer = answers.shift() ?? null;
      // The window's answer goes through main, which shows it to the capture first.
      capture.answered(p.id, answer);
      void engine.answerPrompt(p.id, answer);
    });
    const open = new Promise<void>((resolve) => engine.on('state', (p) => p.state.state === 'open' && resolve()));
    await engine.start('pw');
    await open;
    await expect.poll(() => results).toEqual([['pw', { stored: true }]]);
    expect(await secrets.get('pw-ref')).toBe('right');
    capture.dispose();
    await engine.stop('pw');
  });
});
