// The import review: what a person sees before an import is saved. Every security-relevant field
// of an incoming profile becomes a finding naming the field; nothing is saved by reviewing.
import { describe, expect, it } from 'vitest';
import { formatReview, reviewImport, type Finding, type ImportReview } from '../app/profiles/importReview.js';
import { isLoopback } from '../app/shared/address.js';
import { parseProfile } from '../app/profiles/validate.js';
import type { Profile } from '../app/profiles/schema.js';

const ssh = (overrides: Record<string, unknown> = {}) => ({ id: 'db', name: 'Database', server: { host: 'db.example.com', user: 'app' }, forwards: [{ type: 'local', bindPort: 13306, targetHost: '10.0.4.12', targetPort: 3306 }], ...overrides });
const cf = (overrides: Record<string, unknown> = {}) => ({ kind: 'cloudfoundry', id: 'cf', name: 'CF', api: 'https://api.example.com', org: 'o', space: 's', app: 'a', service: 'db', local: { bindPort: 15432 }, ...overrides });

function review(incoming: unknown, existing: Profile[] = []): ImportReview {
  const r = reviewImport(existing, JSON.stringify(incoming));
  if ('error' in r) throw new Error(r.error);
  return r.review;
}

const findings = (incoming: unknown): Finding[] => review(incoming).entries.flatMap((e) => e.findings);
const kinds = (incoming: unknown) => findings(incoming).map((f) => `${f.level} ${f.kind} ${f.field}`);

describe('import review findings', () => {
  it('a plain profile (strict host keys, loopback, default files) has no findings', () => {
    expect(review(ssh()).entries).toEqual([{ id: 'db', name: 'Database', action: 'add', destination: 'app@db.example.com:22', findings: [] }]);
  });

  it.each([
    ['accept-new', 'warning'],
    ['no', 'warning'],
    ['ask', 'info'],
  ])('host-key policy %s is a finding (%s)', (strict, level) => {
    expect(kinds(ssh({ hostKey: { strict } }))).toEqual([`${level} hostKeyPolicy hostKey.strict`]);
  });

  it('known_hosts files, SHA-1 RSA and a pinned fingerprint', () => {
    const pin = `SHA256:${'A'.repeat(43)}`;
    const f = findings(ssh({ hostKey: { knownHostsFiles: ['/home/me/.ssh/authorized_keys'], allowSha1Rsa: true, pinnedFingerprint: pin } }));
    expect(f.map((x) => `${x.level} ${x.kind}`)).toEqual(['warning knownHostsFiles', 'warning allowSha1Rsa', 'warning pinnedFingerprint']);
    expect(f[0]!.message).toContain('/home/me/.ssh/authorized_keys');
    expect(f[2]!.message).toContain(pin);
  });

  it('key files and agent sockets, on the server and on every jump host', () => {
    const f = kinds(
      ssh({
        server: { host: 'db', auth: { method: 'key', keyFiles: ['/home/me/.ssh/prod'] } },
        jumps: [{ host: 'j1', auth: { method: 'agent', agentSocket: '/tmp/evil.sock' } }, { host: 'j2', auth: { method: 'auto', keyFiles: ['/k2'], agentSocket: '/tmp/a' } }],
      }),
    );
    expect(f).toEqual(['info keyFiles server.auth.keyFiles', 'info keyFiles jumps[1].auth.keyFiles', 'warning agentSocket jumps[0].auth.agentSocket', 'warning agentSocket jumps[1].auth.agentSocket']);
  });

  it('binds beyond loopback: -L and -D on another address, -R on anything but the server\'s loopback', () => {
    const f = kinds(
      ssh({
        forwards: [
          { type: 'local', bindHost: '0.0.0.0', bindPort: 1, targetHost: 't', targetPort: 2 },
          { type: 'local', bindHost: '127.0.0.2', bindPort: 3, targetHost: 't', targetPort: 2 },
          { type: 'dynamic', bindHost: '192.168.1.10', bindPort: 1080 },
          { type: 'dynamic', bindHost: 'localhost', bindPort: 1081 },
          { type: 'dynamic', bindHost: '::1', bindPort: 1082 },
          { type: 'remote', bindHost: '*', bindPort: 8080, targetHost: 'localhost', targetPort: 80 },
          { type: 'remote', bindPort: 8081, targetHost: 'localhost', targetPort: 80 },
        ],
      }),
    );
    expect(f).toEqual([
      'warning exposedBind forwards[0].bindHost',
      'warning exposedBind forwards[2].bindHost',
      'warning exposedBind forwards[5].bindHost',
      // Every -R, loopback or not: the server connects through this machine to its target.
      'warning remoteTarget forwards[5].targetHost',
      'warning remoteTarget forwards[6].targetHost',
    ]);
    expect(findings(ssh({ forwards: [{ type: 'remote', bindHost: '*', bindPort: 8080, targetPort: 80 }] }))[0]!.message).toMatch(/every address of the server/);
  });

  it('loopback is 127.0.0.0/8, ::1 and localhost, nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '*', '', '10.0.0.1', 'localhost.example.com', '128.0.0.1', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });

  it('ciphers', () => {
    expect(kinds(ssh({ ciphers: ['aes128-cbc'] }))).toEqual(['info ciphers ciphers']);
  });

  it('Cloud Foundry: cf home, skip-TLS, http allowed, a local end beyond loopback', () => {
    expect(kinds(cf({ login: { method: 'cf-cli', cfHome: '/home/attacker' }, skipSslValidation: true, allowInsecureHttp: true, local: { bindHost: '0.0.0.0', bindPort: 15432 } }))).toEqual([
      'warning cfHome login.cfHome',
      'warning skipSslValidation skipSslValidation',
      'warning allowInsecureHttp allowInsecureHttp',
      'warning exposedBind local.bindHost',
    ]);
    expect(kinds(cf())).toEqual([]);
  });

  it('says that autoStart was cleared and references were dropped', () => {
    const f = findings(ssh({ autoStart: true, server: { host: 'db', auth: { method: 'password', passwordRef: 'tunnelvision:other:server' } } }));
    expect(f.map((x) => `${x.kind} ${x.field}`)).toEqual(['autoStartCleared autoStart', 'referencesDropped server.auth.passwordRef']);
    expect(kinds(cf({ login: { method: 'password', username: 'me', refreshTokenRef: 'r' } }))).toEqual(['info referencesDropped login.refreshTokenRef']);
  });
});

describe('import review', () => {
  it('says per profile whether it is added, updates a saved one, or changes nothing', () => {
    const saved = (p: unknown) => {
      const r = parseProfile(p);
      if (!r.ok) throw new Error('bad fixture');
      return r.value;
    };
    const existing = [saved(ssh({ id: 'same' })), saved(ssh({ id: 'changed' }))];
    const r = review([ssh({ id: 'same' }), ssh({ id: 'changed', server: { host: 'elsewhere.example.com' } }), ssh({ id: 'new' }), { id: 'bad' }], existing);
    expect(r.entries.map((e) => `${e.action} ${e.id}`)).toEqual(['unchanged same', 'update changed', 'add new']);
    expect(r.skipped).toEqual([{ entry: '#4 (bad)', reason: expect.stringContaining('server: is required') }]);
  });

  it('is refused, without quoting it, when the text is not an export', () => {
    expect(reviewImport([], '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n')).toEqual({ error: 'Not valid JSON: line 1, column 1.' });
  });

  it('reads on a terminal: one line per profile, ! marks a warning', () => {
    const text = formatReview(review([ssh({ hostKey: { strict: 'no' }, ciphers: ['aes128-ctr'] })]));
    expect(text).toBe(
      [
        'add       db (Database): app@db.example.com:22',
        '  ! hostKey.strict: host-key checking is "no": an unknown host key is trusted and written to known_hosts without asking',
        '  - ciphers: offers only the ciphers aes128-ctr',
        '',
      ].join('\n'),
    );
  });
});
