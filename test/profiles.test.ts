// The profile model: schema errors a person can act on (a checked-in corpus of bad inputs),
// defaults, the on-disk store (atomic, 0600, never wiped), import/export.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROFILE_FILE_VERSION, type SshProfile } from '../app/profiles/schema.js';
import { ProfileStore, ProfileStoreError, defaultConfigDir } from '../app/profiles/store.js';
import { exportProfiles, importProfiles } from '../app/profiles/transfer.js';
import { formatErrors, parseProfile } from '../app/profiles/validate.js';
import { VERSION } from '../app/shared/version.js';

const corpusDir = new URL('./corpus/profiles/', import.meta.url).pathname;
const corpus = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(join(corpusDir, f), 'utf8')) as { input: unknown; expect: string[] }] as const);

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tv-profiles-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function valid(overrides: Record<string, unknown> = {}): SshProfile {
  const parsed = parseProfile({ id: 'db', name: 'Database', server: { host: 'db.example.com', user: 'app' }, forwards: [{ type: 'local', bindPort: 13306, targetHost: '10.0.4.12', targetPort: 3306 }], ...overrides });
  if (!parsed.ok) throw new Error(formatErrors(parsed.errors));
  if (parsed.value.kind !== 'ssh') throw new Error('expected an SSH profile');
  return parsed.value;
}

describe('schema', () => {
  it('fills OpenSSH-minded defaults: loopback bind, strict host keys, keepalive 15 s × 3, reconnect on', () => {
    const p = valid();
    expect(p.forwards[0]).toMatchObject({ bindHost: '127.0.0.1' });
    expect(p.server).toMatchObject({ port: 22, auth: { method: 'auto', keyFiles: [] } });
    expect(p.hostKey).toEqual({ strict: 'yes', knownHostsFiles: [], allowSha1Rsa: false });
    expect(p.keepalive).toEqual({ intervalSeconds: 15, countMax: 3 });
    expect(p.reconnect).toEqual({ enabled: true, initialDelaySeconds: 1, maxDelaySeconds: 60, resetAfterSeconds: 30 });
    expect(p.kind).toBe('ssh');
    expect(p.autoStart).toBe(false);
  });

  it.each(corpus)('corpus %s: every problem reported with its field, nothing thrown', (_file, c) => {
    const parsed = parseProfile(c.input);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const text = formatErrors(parsed.errors);
    for (const expected of c.expect) expect(text).toContain(expected);
    // A person reads these: no zod internals, no stack frames.
    expect(text).not.toMatch(/ZodError|at .*\.(js|ts):\d+|\[object Object\]/);
  });

  it('keeps every valid field it was given (nothing silently dropped)', () => {
    const input = {
      id: 'full',
      name: 'Full',
      group: 'prod',
      tags: ['db', 'eu'],
      server: { host: 'h', port: 2222, user: 'u', auth: { method: 'key', keyFiles: ['~/.ssh/id_ed25519'], passphraseRef: 'ref' } },
      jumps: [{ host: 'bastion', port: 22, user: 'j', auth: { method: 'agent' } }],
      hostKey: { strict: 'accept-new', knownHostsFiles: ['/tmp/known_hosts_team'], allowSha1Rsa: true },
      keepalive: { intervalSeconds: 5, countMax: 2 },
      reconnect: { enabled: false, initialDelaySeconds: 2, maxDelaySeconds: 10, resetAfterSeconds: 60 },
      connectTimeoutSeconds: 20,
      ciphers: ['aes128-gcm@openssh.com'],
      forwards: [
        { type: 'local', bindHost: '127.0.0.1', bindPort: 1, targetHost: 't', targetPort: 2 },
        { type: 'remote', bindHost: '0.0.0.0', bindPort: 0, targetHost: 'x', targetPort: 3 },
        { type: 'dynamic', bindHost: '::1', bindPort: 1080 },
      ],
      autoStart: true,
      client: { kind: 'mysql', database: 'app', user: 'reader', forwardIndex: 0 },
    };
    const parsed = parseProfile(input);
    expect(parsed.ok && parsed.value).toEqual({ kind: 'ssh', ...input });
  });
});

describe('host names', () => {
  const FIELDS = ['server.host', 'jumps[0].host', 'forwards[0].targetHost'] as const;
  function withHost(field: (typeof FIELDS)[number], host: string): Record<string, unknown> {
    const input: Record<string, unknown> = { id: 'h', name: 'h', server: { host: 'db.example.com' }, forwards: [{ type: 'local', bindPort: 1, targetHost: 'db', targetPort: 2 }] };
    if (field === 'server.host') input.server = { host };
    if (field === 'jumps[0].host') input.jumps = [{ host }];
    if (field === 'forwards[0].targetHost') input.forwards = [{ type: 'local', bindPort: 1, targetHost: host, targetPort: 2 }];
    return input;
  }
  const forbidden: Array<[string, string]> = [
    ...[...'*?!,[]|#$();&<>`{}\'"\\@/'].map((c): [string, string] => [c, `"${c}"`]),
    [' ', 'a space'],
    ['\t', 'whitespace'],
    ['\n', 'whitespace'],
    ['\u0000', 'a control character'],
    ['\u001b', 'a control character'],
    ['\u007f', 'a control character'],
    ['\u009b', 'a control character'],
  ];

  it.each(FIELDS)('%s refuses every forbidden character, naming the field and the character', (field) => {
    for (const [c, described] of forbidden) {
      const parsed = parseProfile(withHost(field, `db${c}x.example.com`));
      expect(parsed.ok, JSON.stringify(c)).toBe(false);
      if (!parsed.ok) expect(formatErrors(parsed.errors)).toContain(`${field}: must not contain ${described}`);
    }
    const dash = parseProfile(withHost(field, '-oProxyCommand=id'));
    expect(!dash.ok && formatErrors(dash.errors)).toContain(`${field}: must not start with "-"`);
  });

  it.each(['db', 'db.example.com', 'db.example.com.', 'my_host-1.internal', '10.0.4.12', '::1', 'fe80::1%eth0', '2001:db8::10.0.0.1', 'localhost'])('accepts %s', (host) => {
    for (const field of FIELDS) expect(parseProfile(withHost(field, host)).ok).toBe(true);
  });

  it.each(['db..example.com', '.db', 'db.-x', '1:2:3', '::1::', '1:2:3:4:5:6:7:8:9', 'fe80::1%', `${'a'.repeat(64)}.example.com`, 'a'.repeat(256)])('refuses %s', (host) => {
    expect(parseProfile(withHost('server.host', host)).ok).toBe(false);
  });

  it.each(['0', '2130706433', '0x7f.1', '0x7f', '010.0.0.1', '1.2.3', 'db.1'])('refuses %s: the resolver would read it as an IPv4 address in a loose form', (host) => {
    const parsed = parseProfile(withHost('server.host', host));
    expect(!parsed.ok && formatErrors(parsed.errors)).toContain('server.host: must be an IPv4 address written as four numbers');
  });

  it('a bind address may be "*" (every address, as in ssh -L *:port:…), stored as 0.0.0.0; nothing else outside the grammar', () => {
    const bind = (bindHost: string) => parseProfile({ id: 'b', name: 'b', server: { host: 'h' }, forwards: [{ type: 'remote', bindHost, bindPort: 8080, targetPort: 80 }] });
    const star = bind('*');
    expect(star.ok && star.value.kind === 'ssh' && star.value.forwards[0]!.bindHost).toBe('0.0.0.0');
    const zero = bind('0');
    expect(!zero.ok && formatErrors(zero.errors)).toContain('forwards[0].bindHost: must be an IPv4 address');
    const glob = bind('*.example.com');
    expect(!glob.ok && formatErrors(glob.errors)).toContain('forwards[0].bindHost: must not contain "*"');
  });

  it('a user name with a control character is refused (it would reach the server and every message)', () => {
    const parsed = parseProfile({ id: 'u', name: 'u', server: { host: 'db', user: 'me\u001b[2Kroot' }, forwards: [{ type: 'dynamic', bindPort: 1080 }] });
    expect(!parsed.ok && formatErrors(parsed.errors)).toContain('server.user: must not contain control characters');
  });

  it('stores a bracketed IPv6 literal bare, as connections and known_hosts need it', () => {
    const parsed = parseProfile(withHost('server.host', '[::1]'));
    expect(parsed.ok && parsed.value.kind === 'ssh' && parsed.value.server.host).toBe('::1');
    expect(parseProfile(withHost('server.host', '[db.example.com]')).ok).toBe(false);
  });
});

describe('store', () => {
  it('reads nothing from a missing file, and writes atomically with mode 0600', async () => {
    const dir = join(tempDir(), 'nested', 'config');
    const store = new ProfileStore(dir);
    expect(await store.load()).toEqual({ profiles: [], unreadable: [] });
    await store.save([valid()]);
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['profiles.json']);
    expect(JSON.parse(readFileSync(store.file, 'utf8'))).toMatchObject({ version: PROFILE_FILE_VERSION, profiles: [{ id: 'db' }] });
    expect((await store.load()).profiles).toEqual([valid()]);
  });

  it('a truncated file is kept as a dated backup and the person is told; nothing is lost', async () => {
    const store = new ProfileStore(tempDir());
    await store.save([valid()]);
    const original = readFileSync(store.file, 'utf8');
    writeFileSync(store.file, original.slice(0, original.length / 2));
    const report = await store.load();
    expect(report.profiles).toEqual([]);
    expect(report.problem?.message).toMatch(/is not valid JSON/);
    expect(report.problem?.message).toContain(report.problem!.backup);
    expect(readFileSync(report.problem!.backup, 'utf8')).toBe(original.slice(0, original.length / 2));
  });

  it('an invalid entry is reported by field; the valid ones load; the whole file is backed up first', async () => {
    const store = new ProfileStore(tempDir());
    const bad = { ...valid({ id: 'bad' }), forwards: [{ type: 'local', bindHost: '127.0.0.1', bindPort: 0, targetHost: 'x', targetPort: 1 }] };
    writeFileSync(store.file, JSON.stringify({ version: 1, profiles: [valid(), bad] }));
    const before = readFileSync(store.file, 'utf8');
    const report = await store.load();
    expect(report.profiles.map((p) => p.id)).toEqual(['db']);
    expect(report.problem?.message).toContain('profiles[1].forwards[0].bindPort: must be 1–65535');
    expect(readFileSync(report.problem!.backup, 'utf8')).toBe(before);
  });

  it('an entry it cannot read is kept in the file, verbatim, through every later save', async () => {
    const store = new ProfileStore(tempDir());
    const bad = { ...valid({ id: 'bad' }), forwards: [{ type: 'local', bindHost: '127.0.0.1', bindPort: 0, targetHost: 'x', targetPort: 1 }], futureField: { kept: true } };
    writeFileSync(store.file, JSON.stringify({ version: 1, profiles: [valid(), bad] }));
    const report = await store.load();
    expect(report.unreadable).toEqual([bad]);
    expect(report.problem?.message).toContain('1 profile(s) kept in the file as they are but not shown');
    // Another profile saved (by the app, the CLI or an import): the unreadable one is still there, as it was.
    await store.update((profiles) => void profiles.push(valid({ id: 'new' })));
    await store.update((profiles) => void profiles.splice(0, 1));
    const saved = JSON.parse(readFileSync(store.file, 'utf8')) as { profiles: Array<{ id: string }> };
    expect(saved.profiles.map((p) => p.id)).toEqual(['new', 'bad']);
    expect(saved.profiles[1]).toEqual(bad);
  });

  it('makes one backup per distinct damaged content, however often the file is read', async () => {
    const dir = tempDir();
    const store = new ProfileStore(dir);
    writeFileSync(store.file, '{"version":1,"profiles":[');
    const first = await store.load();
    const second = await store.load();
    expect(second.problem?.backup).toBe(first.problem?.backup);
    writeFileSync(store.file, '{"version":1,"profiles":[}');
    const third = await store.load();
    expect(third.problem?.backup).not.toBe(first.problem?.backup);
    expect(readdirSync(dir).filter((n) => n.startsWith('profiles.json.invalid-'))).toHaveLength(2);
    expect(statSync(third.problem!.backup).mode & 0o777).toBe(0o600);
  });

  it('refuses to touch a file written by a newer version', async () => {
    const store = new ProfileStore(tempDir());
    const text = JSON.stringify({ version: PROFILE_FILE_VERSION + 1, profiles: [{ whatever: true }] });
    writeFileSync(store.file, text);
    await expect(store.load()).rejects.toThrow(ProfileStoreError);
    await expect(store.load()).rejects.toThrow(/newer Tunnelvision/);
    expect(readFileSync(store.file, 'utf8')).toBe(text);
  });

  it('an unreadable file is an error, not an empty list that the next save would overwrite', async () => {
    if (process.getuid?.() === 0) {
      // root reads any file; make it a directory instead, which nobody can read as a file.
      const store = new ProfileStore(tempDir());
      rmSync(store.file, { force: true });
      mkdirSync(store.file);
      await expect(store.load()).rejects.toThrow(/Cannot read/);
    } else {
      const store = new ProfileStore(tempDir());
      writeFileSync(store.file, '{}');
      chmodSync(store.file, 0o000);
      await expect(store.load()).rejects.toThrow(/Cannot read/);
    }
  });

  it('the default folder is the desktop app\'s (Electron userData for "Tunnelvision")', () => {
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/Tunnelvision');
    expect(defaultConfigDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toMatch(/Roaming.Tunnelvision$/);
    expect(defaultConfigDir({}, 'darwin')).toMatch(/Library\/Application Support\/Tunnelvision$/);
    expect(defaultConfigDir({ TUNNELVISION_CONFIG_DIR: '/custom' }, 'linux')).toBe('/custom');
  });
});

describe('import and export', () => {
  it('export carries no secret references, from the server or any jump host', () => {
    const p = valid({
      server: { host: 'h', auth: { method: 'password', passwordRef: 'secret-a' } },
      jumps: [{ host: 'j', auth: { method: 'key', keyFiles: ['k'], passphraseRef: 'secret-b' } }],
    });
    const text = JSON.stringify(exportProfiles([p]));
    expect(text).not.toContain('secret-a');
    expect(text).not.toContain('secret-b');
    expect(JSON.parse(text).profiles[0].server.auth).toEqual({ method: 'password' });
  });

  it('import merges by id and reports added, updated, unchanged and skipped (with the field)', () => {
    const existing = [valid({ id: 'a', name: 'A' }), valid({ id: 'b', name: 'B' })];
    const incoming = [
      valid({ id: 'a', name: 'A' }),
      valid({ id: 'b', name: 'B renamed' }),
      valid({ id: 'c', name: 'C' }),
      { id: 'd', name: 'D', server: { host: 'h' }, forwards: [{ type: 'local', bindPort: 99999, targetHost: 'x', targetPort: 1 }] },
    ];
    const result = importProfiles(existing, JSON.stringify({ version: 1, profiles: incoming }));
    expect('error' in result).toBe(false);
    if ('error' in result) return;
    expect(result.report).toEqual({
      added: ['c'],
      updated: ['b'],
      unchanged: ['a'],
      skipped: [{ entry: '#4 (d)', reason: 'forwards[0].bindPort: must be 1–65535' }],
      cleared: [],
    });
    expect(result.profiles.map((p) => `${p.id}:${p.name}`)).toEqual(['a:A', 'b:B renamed', 'c:C']);
  });

  it('accepts a bare array or a single profile; rejects what is not an export, clearly', () => {
    const one = importProfiles([], JSON.stringify(valid()));
    expect('profiles' in one && one.profiles).toHaveLength(1);
    const arr = importProfiles([], JSON.stringify([valid({ id: 'x' }), valid({ id: 'y' })]));
    expect('profiles' in arr && arr.profiles).toHaveLength(2);
    expect(importProfiles([], '{"version":1,"profiles":[')).toEqual({ error: expect.stringMatching(/^Not valid JSON/) });
    expect(importProfiles([], '{"hello":"world"}')).toEqual({ error: expect.stringMatching(/^Not a Tunnelvision export/) });
  });
});

describe('import trusts nothing a file brings', () => {
  const refs = {
    server: { host: 'db.example.com', user: 'app', auth: { method: 'password', passwordRef: 'tunnelvision:db:server' } },
    jumps: [{ host: 'jump.example.com', auth: { method: 'key', keyFiles: ['/k'], passphraseRef: 'tunnelvision:db:jump0' } }],
  };

  it('strips every secret reference and autoStart from a new profile, and says so per entry', () => {
    const result = importProfiles([], JSON.stringify([valid({ ...refs, autoStart: true })]));
    if ('error' in result) throw new Error(result.error);
    const [saved] = result.profiles as SshProfile[];
    expect(saved!.server.auth).toEqual({ method: 'password' });
    expect(saved!.jumps[0]!.auth).toEqual({ method: 'key', keyFiles: ['/k'] });
    expect(saved!.autoStart).toBe(false);
    expect(result.report.cleared).toEqual([{ id: 'db', fields: ['server.auth.passwordRef', 'jumps[0].auth.passphraseRef', 'autoStart'] }]);
  });

  it('an update of an existing id that changes its host loses the old references: it gets none', () => {
    const mine = valid({ ...refs, autoStart: true });
    const hostile = valid({ server: { host: 'attacker.example.net', user: 'app', auth: { method: 'password' } }, jumps: refs.jumps.map((j) => ({ ...j, host: 'attacker.example.net' })) });
    const result = importProfiles([mine], JSON.stringify(hostile));
    if ('error' in result) throw new Error(result.error);
    expect(result.report.updated).toEqual(['db']);
    const saved = result.profiles[0] as SshProfile;
    expect(saved.server).toMatchObject({ host: 'attacker.example.net', auth: { method: 'password' } });
    expect(JSON.stringify(saved)).not.toContain('tunnelvision:db:');
    expect(saved.autoStart).toBe(false);
  });

  it('a Cloud Foundry refresh token reference is stripped too', () => {
    const cfProfile = { kind: 'cloudfoundry', id: 'cf', name: 'CF', api: 'https://api.example.com', org: 'o', space: 's', app: 'a', service: 'db', local: { bindPort: 15432 }, login: { method: 'password', username: 'me', refreshTokenRef: 'tunnelvision:cf:login:x' } };
    const result = importProfiles([], JSON.stringify(cfProfile));
    if ('error' in result) throw new Error(result.error);
    expect(result.profiles[0]).toMatchObject({ login: { method: 'password', username: 'me' } });
    expect(JSON.stringify(result.profiles)).not.toContain('refreshTokenRef');
    expect(result.report.cleared).toEqual([{ id: 'cf', fields: ['login.refreshTokenRef'] }]);
  });

  it('re-importing one\'s own export (no references) leaves the saved profile, references and all, unchanged', () => {
    const mine = valid({ ...refs, autoStart: true });
    const result = importProfiles([mine], JSON.stringify(exportProfiles([mine])));
    if ('error' in result) throw new Error(result.error);
    expect(result.report.unchanged).toEqual(['db']);
    expect(result.profiles[0]).toEqual(mine);
  });

  it('a file that is not JSON is refused by line and column, never quoting it', () => {
    const secret = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ';
    const result = importProfiles([], `{\n  "profiles": [\n    ${secret}\n  ]\n}`);
    expect(result).toEqual({ error: 'Not valid JSON: line 3, column 5.' });
    expect(importProfiles([], '{"a":1,}')).toEqual({ error: 'Not valid JSON: line 1, column 8.' });
    expect(importProfiles([], '')).toEqual({ error: 'Not valid JSON: line 1, column 1.' });
  });

  it('a skipped entry is named by its id only when the id is one, never by arbitrary text', () => {
    const result = importProfiles([], JSON.stringify([{ id: 'hunter2 is my password', name: 'secret name', server: 'x' }]));
    if ('error' in result) throw new Error(result.error);
    expect(result.report.skipped[0]!.entry).toBe('#1');
    expect(JSON.stringify(result)).not.toContain('hunter2');
    expect(JSON.stringify(result)).not.toContain('secret name');
  });
});

it('the CLI reports the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(VERSION).toBe(pkg.version);
});
