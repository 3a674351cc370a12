// SecretStore against a safeStorage stand-in that keeps the real API's contract, and the whole
// path from a password prompt to a stored secret through a real engine and a real SSH server.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSecrets } from '../../app/host/secretCapture.js';
import { SecretStore, type SetResult } from '../../app/host/secretStore.js';
import { cloudFoundrySecretUse, sshSecretUse, type SecretUse } from '../../app/profiles/secretUse.js';
import { EngineService } from '../../app/service/engineService.js';
import { freePort } from '../support/net.js';
import { hashServer, type TcpTarget } from '../support/servers.js';
import { startSsh2Server, type TestSsh2Server } from '../support/ssh2Server.js';
import { FakeSafeStorage } from './fakeSafeStorage.js';

/** A host key's fingerprint as ssh-keygen prints it. */
const fingerprint = (blob: string) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
const USE = { kind: 'ssh', host: 'db.example.com', port: 22, user: 'alice', hostKey: fingerprint('the server key') } satisfies SecretUse;
const cfUse = (api: string, tls: { skipSslValidation?: boolean; allowInsecureHttp?: boolean } = {}) =>
  cloudFoundrySecretUse({ api, login: { method: 'password', username: 'dev' }, skipSslValidation: false, allowInsecureHttp: false, ...tls })!;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-secrets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function store(safeStorage = new FakeSafeStorage(), options: { platform?: NodeJS.Platform; consent?: () => Promise<boolean> } = {}) {
  const file = join(mkdtempSync(join(dir, 's-')), 'secrets.json');
  const asked: number[] = [];
  const problems: string[] = [];
  const secrets = new SecretStore({
    file,
    safeStorage,
    onProblem: ({ message }) => problems.push(message),
    platform: options.platform ?? 'linux',
    confirmPlainStorage: async () => {
      asked.push(1);
      return (await options.consent?.()) ?? false;
    },
  });
  return { secrets, file, asked, problems };
}

describe('SecretStore', () => {
  it('keeps secrets encrypted in their own 0600 file, readable back only with the same key', async () => {
    const safe = new FakeSafeStorage();
    const { secrets, file } = store(safe);
    expect(await secrets.set('db-pw', 'hunter2 ü', USE)).toEqual({ stored: true });
    expect(await secrets.set('key-pp', 'passphrase', USE)).toEqual({ stored: true });
    expect(await secrets.get('db-pw', USE)).toBe('hunter2 ü');
    expect(await secrets.get('missing', USE)).toBeUndefined();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('passphrase');
    expect(Object.keys(JSON.parse(text).secrets)).toEqual(['db-pw', 'key-pp']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Another OS account's (or keyring's) key cannot open it: the secret is absent, not an error.
    const other = new SecretStore({ file, safeStorage: new FakeSafeStorage(), platform: 'linux', confirmPlainStorage: async () => false });
    expect(await other.get('db-pw', USE)).toBeUndefined();
    await secrets.delete('db-pw');
    expect(await secrets.get('db-pw', USE)).toBeUndefined();
    expect(await secrets.get('key-pp', USE)).toBe('passphrase');
  });

  it('stores nothing and decrypts nothing while encryption is unavailable', async () => {
    const safe = new FakeSafeStorage();
    const { secrets, file } = store(safe);
    await secrets.set('a', 'one', USE);
    safe.available = false;
    expect(await secrets.set('b', 'two', USE)).toMatchObject({ stored: false, reason: expect.stringContaining('no encryption') });
    expect(await secrets.get('a', USE)).toBeUndefined();
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).secrets)).toEqual(['a']);
  });

  it("on Linux's basic_text backend, stores only after an explicit yes, asked once", async () => {
    const declined = store(new FakeSafeStorage('basic_text'));
    expect(await declined.secrets.set('a', 'one', USE)).toMatchObject({ stored: false, reason: expect.stringContaining('declined') });
    expect(await declined.secrets.set('b', 'two', USE)).toMatchObject({ stored: false });
    expect(declined.asked).toHaveLength(1);
    expect(() => statSync(declined.file)).toThrow();

    const agreed = store(new FakeSafeStorage('basic_text'), { consent: async () => true });
    expect(await agreed.secrets.set('a', 'one', USE)).toEqual({ stored: true });
    expect(await agreed.secrets.set('b', 'two', USE)).toEqual({ stored: true });
    expect(agreed.asked).toHaveLength(1);
    expect(JSON.parse(readFileSync(agreed.file, 'utf8')).plainTextConsent).toBe(true);

    // A real keyring needs no consent; basic_text elsewhere than Linux does not exist.
    expect((await store(new FakeSafeStorage('kwallet5')).secrets.set('a', 'x', USE)).stored).toBe(true);
    const mac = store(new FakeSafeStorage('basic_text'), { platform: 'darwin' });
    expect((await mac.secrets.set('a', 'x', USE)).stored).toBe(true);
    expect(mac.asked).toHaveLength(0);
  });

  it('keeps both of two secrets saved at the same time', async () => {
    const { secrets } = store();
    await Promise.all(Array.from({ length: 10 }, (_, i) => secrets.set(`r${i}`, `v${i}`, USE)));
    for (let i = 0; i < 10; i++) expect(await secrets.get(`r${i}`, USE)).toBe(`v${i}`);
  });

  it('serves a secret only for the use it was stored for; the host in any case, as OpenSSH compares it', async () => {
    const { secrets } = store();
    await secrets.set('pw', 'hunter2', sshSecretUse({ host: 'DB.example.com', port: 22 }, 'alice', USE.hostKey));
    expect(await secrets.get('pw', USE)).toBe('hunter2');
    const others: SecretUse[] = [{ ...USE, host: 'evil.example.com' }, { ...USE, port: 2222 }, { ...USE, user: 'bob' }, { kind: 'cloudfoundry', api: 'https://db.example.com', user: 'alice', transport: 'verified' }];
    for (const other of others) expect(await secrets.lookup('pw', other)).toEqual({ found: false, why: 'other-use' });
    await secrets.set('cf', 'token', cfUse('HTTPS://API.sys.example.com/'));
    expect(await secrets.get('cf', cfUse('https://api.sys.example.com'))).toBe('token');
    expect(await secrets.get('cf', cfUse('https://api.sys.example.com.evil.net'))).toBeUndefined();
  });

  it('serves an SSH secret only to a server that proves the host key it was stored for', async () => {
    const { secrets } = store();
    await secrets.set('pw', 'hunter2', USE);
    // Same name, port and user, another key: another server (a lying jump host, a fresh known_hosts file, accept-new).
    expect(await secrets.lookup('pw', { ...USE, hostKey: fingerprint('the attacker key') })).toEqual({ found: false, why: 'other-use' });
    expect(await secrets.lookup('pw', { ...USE, hostKey: USE.hostKey.toLowerCase() })).toEqual({ found: false, why: 'other-use' });
    expect(await secrets.get('pw', USE)).toBe('hunter2');
  });

  it('serves a Cloud Foundry login kept over verified https only to verified https', async () => {
    const { secrets } = store();
    await secrets.set('cf', 'token', cfUse('https://api.sys.example.com'));
    expect(cfUse('https://api.sys.example.com', { skipSslValidation: true })).toMatchObject({ transport: 'unverified' });
    expect(await secrets.lookup('cf', cfUse('https://api.sys.example.com', { skipSslValidation: true }))).toEqual({ found: false, why: 'other-use' });
    expect(await secrets.lookup('cf', cfUse('https://api.sys.example.com', { allowInsecureHttp: true }))).toEqual({ found: false, why: 'other-use' });
    expect(await secrets.get('cf', cfUse('https://api.sys.example.com'))).toBe('token');
  });

  it('never serves a secret sealed with a use that names no host key or TLS mode', async () => {
    const safe = new FakeSafeStorage();
    const { secrets, file } = store(safe);
    const { hostKey: _none, ...nameOnly } = USE;
    const sealed = (use: unknown) => ({ sealed: safe.encryptString(JSON.stringify({ value: 'old', use })).toString('base64') });
    writeFileSync(file, JSON.stringify({ version: 2, secrets: { ssh: sealed(nameOnly), cf: sealed({ kind: 'cloudfoundry', api: 'https://api.sys.example.com', user: 'dev' }) } }));
    expect(await secrets.get('ssh', USE)).toBeUndefined();
    expect(await secrets.get('cf', cfUse('https://api.sys.example.com'))).toBeUndefined();
  });

  it('never serves a secret kept before uses were recorded, and keeps it bound once stored again', async () => {
    const safe = new FakeSafeStorage();
    const { secrets, file } = store(safe);
    writeFileSync(file, JSON.stringify({ version: 1, secrets: { old: safe.encryptString('legacy').toString('base64') } }));
    expect(await secrets.lookup('old', USE)).toEqual({ found: false, why: 'unbound' });
    await secrets.set('old', 'typed-again', USE);
    expect(await secrets.get('old', USE)).toBe('typed-again');
  });

  it('keeps the use sealed with the secret: editing it in the file serves nothing', async () => {
    const safe = new FakeSafeStorage();
    const { secrets, file } = store(safe);
    await secrets.set('pw', 'hunter2', USE);
    const data = JSON.parse(readFileSync(file, 'utf8'));
    expect(JSON.stringify(data)).not.toContain('db.example.com');
    // Whatever the file says beside the sealed value, the use comes from inside it.
    data.secrets.pw.use = { ...USE, host: 'evil.example.com' };
    writeFileSync(file, JSON.stringify(data));
    expect(await secrets.get('pw', { ...USE, host: 'evil.example.com' })).toBeUndefined();
  });

  it('sets a damaged file aside as a dated backup, once per content, starts empty and says so', async () => {
    const { secrets, file, problems } = store();
    await secrets.set('a', 'top-secret-value', USE);
    const backups = () => readdirSync(join(file, '..')).filter((n) => n.startsWith('secrets.json.corrupt-'));
    writeFileSync(file, '{ not json top-secret-value');
    expect(await secrets.get('a', USE)).toBeUndefined();
    expect(await secrets.get('a', USE)).toBeUndefined();
    expect(backups()).toHaveLength(1);
    expect(backups()[0]).toMatch(/^secrets\.json\.corrupt-\d{4}-\d\d-\d\dT/);
    expect(readFileSync(join(file, '..', backups()[0]!), 'utf8')).toBe('{ not json top-secret-value');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('not valid JSON');
    expect(problems[0]).toContain(backups()[0]);
    expect(problems[0]).not.toContain('top-secret-value');
    // The next store replaces the damaged file; the backup stays.
    expect(await secrets.set('b', 'fresh', USE)).toEqual({ stored: true });
    expect(await secrets.get('b', USE)).toBe('fresh');
    expect(backups()).toHaveLength(1);

    // Another run meeting the same damage makes no second copy; other damage (a wrong shape) gets its own.
    writeFileSync(file, '{ not json top-secret-value');
    const again = new SecretStore({ file, safeStorage: new FakeSafeStorage(), confirmPlainStorage: async () => false, onProblem: ({ message }) => problems.push(message) });
    expect(await again.get('a', USE)).toBeUndefined();
    expect(backups()).toHaveLength(1);
    writeFileSync(file, JSON.stringify({ version: 2, secrets: { a: 42 } }));
    expect(await again.get('a', USE)).toBeUndefined();
    expect(backups()).toHaveLength(2);
    expect(problems.at(-1)).toContain('wrong shape');
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
    engine = new EngineService({ configDir, secrets: (ref, use) => secrets.get(ref, use) });
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
    // Stored with the key the server proved in that connection, and for that server only.
    expect(await secrets.get('pw-ref', sshSecretUse({ host: '127.0.0.1', port: server.port, user: 'u' }, 'nobody', server.fingerprint))).toBe('right');
    expect(await secrets.lookup('pw-ref', sshSecretUse({ host: '127.0.0.1', port: server.port + 1, user: 'u' }, 'nobody', server.fingerprint))).toMatchObject({ why: 'other-use' });
    capture.dispose();
    await engine.stop('pw');
  });
});
