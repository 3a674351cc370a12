import { describe, expect, it } from 'vitest';
import { bindWarning, checkDraft, draftInput, duplicateOf, emptyDraft, emptyEndpoint, emptyForward, fieldKey, idFor, profileDraft, type ProfileDraft } from '../../renderer/src/editor/draft.js';
import { parsePastedForwards } from '../../renderer/src/editor/paste.js';
import { profile } from './fixtures.js';

function filled(): ProfileDraft {
  const d = emptyDraft();
  d.id = 'db';
  d.name = 'Database';
  d.server = { ...emptyEndpoint(), host: 'bastion', user: 'deploy' };
  d.forwards = [{ ...emptyForward(), bindPort: '13306', targetHost: 'db', targetPort: '3306' }];
  return d;
}

describe('editor validation messages', () => {
  it('saves a filled-in form through the profile schema, defaults applied', () => {
    const check = checkDraft(filled());
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.profile.server).toEqual({ host: 'bastion', port: 22, user: 'deploy', auth: { method: 'auto', keyFiles: [] } });
    expect(check.profile.forwards).toEqual([{ type: 'local', bindHost: '127.0.0.1', bindPort: 13306, targetHost: 'db', targetPort: 3306 }]);
    expect(check.profile.hostKey.strict).toBe('ask');
  });

  it('puts each schema message on the field that has to change', () => {
    const d = filled();
    d.name = ' ';
    d.server.host = 'user@host';
    d.forwards[0]!.bindPort = '70000';
    d.forwards[0]!.targetPort = 'abc';
    const check = checkDraft(d);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.errors).toEqual({
      name: ['must not be empty'],
      'server.host': ['must not contain "@": give a host name (letters, digits, "-", "_" and dots), an IPv4 address or an IPv6 address'],
      'forwards[0].bindPort': ['must be 1–65535'],
      'forwards[0].targetPort': ['must be a number'],
    });
  });

  it('refuses host names that are glob patterns or shell text, under the field that holds them', () => {
    const d = filled();
    d.server.host = '*';
    d.forwards[0]!.targetHost = '$(id>pwned)';
    const check = checkDraft(d);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.errors['server.host']).toEqual([expect.stringMatching(/^must not contain "\*"/)]);
    expect(check.errors['forwards[0].targetHost']).toEqual([expect.stringMatching(/^must not contain "\$"/)]);
  });

  it('shows checks across fields once each field is valid on its own', () => {
    const d = filled();
    d.forwards.push({ ...emptyForward('dynamic'), bindPort: '13306' });
    d.reconnectInitial = '10';
    d.reconnectMax = '5';
    expect(checkDraft(d)).toEqual({
      ok: false,
      errors: {
        'reconnect.maxDelaySeconds': ['must not be less than initialDelaySeconds'],
        'forwards[1].bindPort': ['127.0.0.1:13306 is already used by forwards[0]'],
      },
    });
  });

  it('reports a missing field as required and a forward-less profile on the forwards list', () => {
    const d = filled();
    d.forwards = [{ ...emptyForward(), bindPort: '1', targetPort: '2' }];
    expect(checkDraft(d)).toMatchObject({ ok: false, errors: { 'forwards[0].targetHost': ['is required'] } });
    d.forwards = [];
    expect(checkDraft(d)).toMatchObject({ ok: false, errors: { forwards: ['needs at least one forward'] } });
  });

  it('shows errors of list items on the one text box that edits the list', () => {
    expect(fieldKey('tags[3]')).toBe('tags');
    expect(fieldKey('jumps[1].auth.keyFiles[0]')).toBe('jumps[1].auth.keyFiles');
    expect(fieldKey('forwards[0].bindPort')).toBe('forwards[0].bindPort');
    const d = filled();
    d.server.authMethod = 'key';
    expect(checkDraft(d)).toMatchObject({ ok: false, errors: { 'server.auth.keyFiles': ['needs at least one key file'] } });
  });

  it('round-trips a profile, keeping what the form does not show', () => {
    const p = profile({
      tags: ['prod', 'eu'],
      group: 'Shop',
      jumps: [{ host: 'j', user: 'ops', auth: { method: 'password', passwordRef: 'vault:j' } }],
      ciphers: ['aes128-gcm@openssh.com'],
      hostKey: { strict: 'yes', pinnedFingerprint: `SHA256:${'A'.repeat(43)}` },
      client: { kind: 'mysql', user: 'app' },
    });
    const check = checkDraft(profileDraft(p), p);
    expect(check).toEqual({ ok: true, profile: p });
    expect(draftInput(profileDraft(p), p)).toMatchObject({ ciphers: ['aes128-gcm@openssh.com'] });
  });
});

describe('pasting forwards', () => {
  it('reads -L, -R and -D as ssh writes them, joined or apart, inside a whole ssh command', () => {
    expect(parsePastedForwards('-L 13306:db:3306')).toEqual({ ok: true, forwards: [{ type: 'local', bindHost: '127.0.0.1', bindPort: 13306, targetHost: 'db', targetPort: 3306 }] });
    const many = parsePastedForwards('ssh -N -D1080 -R 0:localhost:3000 -L *:8080:web:80 deploy@bastion');
    expect(many.ok && many.forwards.map((f) => [f.type, f.bindHost, f.bindPort])).toEqual([
      ['dynamic', '127.0.0.1', 1080],
      ['remote', '127.0.0.1', 0],
      ['local', '0.0.0.0', 8080],
    ]);
  });

  it('says what is wrong with a bad spec, or that there was none', () => {
    expect(parsePastedForwards('-L 13306:db')).toEqual({ ok: false, message: '-L "13306:db": expected [bind_address:]port:host:hostport' });
    expect(parsePastedForwards('-L')).toEqual({ ok: false, message: '-L needs an argument' });
    expect(parsePastedForwards('hello')).toMatchObject({ ok: false, message: expect.stringContaining('No -L, -R or -D forward found') });
  });
});

describe('editor helpers', () => {
  it('warns about a bind address beyond loopback only', () => {
    expect(bindWarning({ type: 'local', bindHost: '127.0.0.1' })).toBeUndefined();
    expect(bindWarning({ type: 'dynamic', bindHost: 'localhost' })).toBeUndefined();
    expect(bindWarning({ type: 'local', bindHost: '' })).toBeUndefined();
    expect(bindWarning({ type: 'local', bindHost: '0.0.0.0' })).toMatch(/other machines on your network/);
    expect(bindWarning({ type: 'remote', bindHost: '0.0.0.0' })).toMatch(/GatewayPorts/);
  });

  it('makes unique ids from names and copies a profile under a new one', () => {
    expect(idFor('Prod DB (EU)', new Set())).toBe('prod-db-eu');
    expect(idFor('Prod DB', new Set(['prod-db', 'prod-db-2']))).toBe('prod-db-3');
    expect(idFor('!!!', new Set())).toBe('tunnel');
    const copy = duplicateOf(profile({ autoStart: true }), new Set(['db']));
    expect(copy).toMatchObject({ id: 'db-copy', name: 'Database (copy)', autoStart: false });
  });
});
