import { describe, expect, it } from 'vitest';
import type { CloudFoundryProfile } from '../../app/profiles/schema.js';
import { parseProfile } from '../../app/profiles/validate.js';
import { PLAIN_HTTP_ERROR, cfBindWarning, cfDraft, checkCfDraft, emptyCfDraft, type CfDraft } from '../../renderer/src/editor/cfDraft.js';

const filled = (over: Partial<CfDraft> = {}): CfDraft => ({
  ...emptyCfDraft(),
  id: 'orders-db',
  name: 'Orders DB',
  api: 'https://api.sys.example.com',
  org: 'acme',
  space: 'dev',
  app: 'orders',
  service: 'orders-db',
  bindPort: '13306',
  ...over,
});

describe('the Cloud Foundry editor', () => {
  it('turns a filled form into the profile the schema and the README describe', () => {
    const check = checkCfDraft(filled());
    expect(check).toEqual({
      ok: true,
      profile: {
        kind: 'cloudfoundry',
        id: 'orders-db',
        name: 'Orders DB',
        tags: [],
        api: 'https://api.sys.example.com',
        org: 'acme',
        space: 'dev',
        app: 'orders',
        instance: 0,
        service: 'orders-db',
        local: { bindHost: '127.0.0.1', bindPort: 13306 },
        skipSslValidation: false,
        allowInsecureHttp: false,
        login: { method: 'cf-cli' },
        keepalive: { intervalSeconds: 15, countMax: 3 },
        reconnect: { enabled: true, initialDelaySeconds: 1, maxDelaySeconds: 60, resetAfterSeconds: 30 },
        connectTimeoutSeconds: 30,
        autoStart: false,
      },
    });
  });

  it('shows the schema\'s messages on the fields they are about', () => {
    const check = checkCfDraft(filled({ api: 'api.sys.example.com', org: ' ', instance: '-1', bindPort: '70000', targetMode: 'manual', targetHost: 'db host', targetPort: 'x' }));
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.errors).toMatchObject({
      api: ['must be the API endpoint URL, e.g. https://api.sys.example.com'],
      org: ['must not be empty'],
      instance: ['must be 0 or more'],
      'local.bindPort': ['must be 1–65535'],
      'target.host': [expect.stringContaining('must not contain a space')],
      'target.port': ['must be a number'],
    });
    const neither = checkCfDraft(filled({ service: '' }));
    expect(neither.ok ? {} : neither.errors).toEqual({ service: ['must not be empty'] });
    const password = checkCfDraft(filled({ loginMethod: 'password', username: '' }));
    expect(password.ok ? {} : password.errors).toEqual({ 'login.username': ['must not be empty'] });
  });

  it('a manual target replaces the service; a password login names its user; skipping TLS is kept', () => {
    const check = checkCfDraft(filled({ targetMode: 'manual', targetHost: '10.0.0.7', targetPort: '5432', loginMethod: 'password', username: 'ops@example.com', skipSslValidation: true, cfHome: '/ignored' }));
    expect(check.ok && check.profile).toMatchObject({ target: { host: '10.0.0.7', port: 5432 }, login: { method: 'password', username: 'ops@example.com' }, skipSslValidation: true });
    expect(check.ok && check.profile.service).toBeUndefined();
  });

  it('an http:// API is refused on its field, pointing at the plain-http checkbox, until that is ticked', () => {
    const refused = checkCfDraft(filled({ api: 'http://api.lab.example.com' }));
    expect(refused.ok ? {} : refused.errors).toEqual({ api: [PLAIN_HTTP_ERROR] });
    expect(PLAIN_HTTP_ERROR).toContain('"Allow plain http"');
    const allowed = checkCfDraft(filled({ api: 'http://api.lab.example.com', allowInsecureHttp: true }));
    expect(allowed.ok && allowed.profile).toMatchObject({ api: 'http://api.lab.example.com', allowInsecureHttp: true });
    // The opt-in comes back when a saved profile is edited, so it is never lost or added silently.
    if (allowed.ok) expect(cfDraft(allowed.profile).allowInsecureHttp).toBe(true);
  });

  it('round-trips a saved profile, keeping what the form does not show', () => {
    const parsed = parseProfile({
      kind: 'cloudfoundry', id: 'orders-db', name: 'Orders DB', api: 'https://api.sys.example.com', org: 'acme', space: 'dev', app: 'orders', instance: 2,
      service: 'orders-db', local: { bindHost: '127.0.0.2', bindPort: 13306 }, login: { method: 'password', username: 'ops', refreshTokenRef: 'cf-refresh:orders-db' },
      keepalive: { intervalSeconds: 5, countMax: 2 }, reconnect: { maxDelaySeconds: 10 }, tags: ['cf'], group: 'Shop',
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const base = parsed.value as CloudFoundryProfile;
    expect(checkCfDraft(cfDraft(base), base)).toEqual({ ok: true, profile: base });
    // Another user's login does not inherit the saved refresh token.
    const other = checkCfDraft({ ...cfDraft(base), username: 'someone-else' }, base);
    expect(other.ok && other.profile.login).toEqual({ method: 'password', username: 'someone-else' });
  });

  it('warns about a local end other machines can reach', () => {
    expect(cfBindWarning({ bindHost: '127.0.0.1' })).toBeUndefined();
    expect(cfBindWarning({ bindHost: '' })).toBeUndefined();
    expect(cfBindWarning({ bindHost: '0.0.0.0' })).toMatch(/other machines on your network/);
  });
});
