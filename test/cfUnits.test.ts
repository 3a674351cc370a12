// The pure parts of the Cloud Foundry support: fingerprint formats, every VCAP_SERVICES credential
// shape, reuse of the cf CLI's login file, the profile schema, connection strings and `cf` flags.
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { checkProxyHostKey, fingerprintFormat } from '../app/cloudfoundry/fingerprint.js';
import { parseVcapServices, readCredentials, type ServiceInstance } from '../app/cloudfoundry/vcap.js';
import { findCfCliLogin } from '../app/cloudfoundry/cfCliConfig.js';
import { jwtExpiry } from '../app/cloudfoundry/uaa.js';
import { isMysql, mysqlConnection } from '../app/cloudfoundry/details.js';
import { cfPlan, type CfFlags } from '../app/cli/cfCommand.js';
import { exportProfiles } from '../app/profiles/transfer.js';
import { formatErrors, parseProfile } from '../app/profiles/validate.js';
import { CF_PLAIN_HTTP_MESSAGE } from '../app/profiles/schema.js';
import { request, type HttpOptions } from '../app/cloudfoundry/http.js';
import { makeTestTls } from './support/cf/tls.js';

const { public: rsaPublic } = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
const blob = Buffer.from(rsaPublic.split(' ')[1]!, 'base64');
const colons = (hex: string) => hex.match(/../g)!.join(':');
const FORMATS = {
  md5: colons(createHash('md5').update(blob).digest('hex')),
  sha1: colons(createHash('sha1').update(blob).digest('hex')),
  sha256b64: createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''),
  sha256hex: createHash('sha256').update(blob).digest('hex'),
};

describe('ssh-proxy host key fingerprints', () => {
  it('tells the four formats apart by length', () => {
    expect([FORMATS.md5, FORMATS.sha1, FORMATS.sha256b64, FORMATS.sha256hex].map((f) => [f.length, fingerprintFormat(f)])).toEqual([
      [47, 'MD5'],
      [59, 'SHA-1'],
      [43, 'SHA-256 (base64)'],
      [64, 'SHA-256 (hex)'],
    ]);
  });

  it.each(Object.entries(FORMATS))('accepts the right key in %s, hex in either case', (_name, fp) => {
    expect(checkProxyHostKey(blob, fp, 'ssh-proxy p:2222')).toBeUndefined();
    if (!fp.includes('=') && /^[0-9a-f:]+$/.test(fp)) expect(checkProxyHostKey(blob, fp.toUpperCase(), 'ssh-proxy p:2222')).toBeUndefined();
  });

  it('refuses another key, showing both fingerprints', () => {
    const other = createHash('sha256').update('another key').digest('base64').replace(/=+$/, '');
    const err = checkProxyHostKey(blob, other, 'ssh-proxy p:2222');
    expect(err).toMatchObject({ code: 'HOST_KEY_CHANGED', hop: 'ssh-proxy p:2222' });
    expect(err!.message).toContain(FORMATS.sha256b64);
    expect(err!.message).toContain(other);
  });

  it('refuses a fingerprint in an unknown format rather than guessing', () => {
    expect(checkProxyHostKey(blob, `SHA256:${FORMATS.sha256b64}`, 'ssh-proxy p:2222')).toMatchObject({ code: 'HOST_KEY_REJECTED', message: expect.stringContaining('no format') });
  });
});

function instance(credentials: Record<string, unknown>, label = 'p.mysql'): ServiceInstance {
  return { name: 'orders-db', label, tags: ['mysql'], credentials };
}

describe('VCAP_SERVICES credentials', () => {
  it('reads p.mysql (hostname, numeric port, name, tls.cert.ca)', () => {
    const r = readCredentials(instance({ hostname: 'q-n3s3y1.q-g1.bosh', port: 3306, name: 'service_instance_db', username: 'u1', password: 'pw', jdbcUrl: 'jdbc:mysql://…', tls: { cert: { ca: '-----BEGIN CERTIFICATE-----' } } }));
    expect(r).toEqual({ ok: true, value: expect.objectContaining({ host: 'q-n3s3y1.q-g1.bosh', port: 3306, database: 'service_instance_db', username: 'u1', password: 'pw', tlsCa: '-----BEGIN CERTIFICATE-----' }) });
  });

  it('reads ClearDB (string port, name) and the uri-only shape', () => {
    expect(readCredentials(instance({ hostname: 'us-cdbr.cleardb.net', port: '3306', name: 'ad_x', username: 'b1', password: 'p' }, 'cleardb'))).toMatchObject({ ok: true, value: { port: 3306, database: 'ad_x' } });
    expect(readCredentials(instance({ uri: 'mysql://us%40er:p%3Ass@10.231.9.9:13307/orders?reconnect=true' }, 'user-provided'))).toMatchObject({
      ok: true,
      value: { host: '10.231.9.9', port: 13307, database: 'orders', username: 'us@er', password: 'p:ss' },
    });
  });

  it('reads host instead of hostname, defaults the port to 3306, and prefers explicit fields to the uri', () => {
    expect(readCredentials(instance({ host: 'db.internal', username: 'a' }))).toMatchObject({ ok: true, value: { host: 'db.internal', port: 3306 } });
    expect(readCredentials(instance({ hostname: 'a.example', uri: 'mysql://x@b.example:1111/other', name: 'db' }))).toMatchObject({ ok: true, value: { host: 'a.example', port: 1111, database: 'db' } });
  });

  it('says why unusable credentials are unusable', () => {
    expect(readCredentials(instance({ username: 'a' }))).toEqual({ ok: false, reason: expect.stringContaining('no host') });
    expect(readCredentials(instance({ host: 'h', port: 'tls' }))).toEqual({ ok: false, reason: expect.stringContaining('"tls"') });
    expect(readCredentials(instance({ redacted_message: '[PRIVATE DATA HIDDEN]' }))).toEqual({ ok: false, reason: expect.stringContaining('[PRIVATE DATA HIDDEN]') });
  });

  it('flattens VCAP_SERVICES by label, as an object or as the JSON string apps see', () => {
    const vcap = { 'p.mysql': [{ name: 'a', instance_name: 'a', label: 'p.mysql', tags: ['mysql'], credentials: { hostname: 'h' } }], 'user-provided': [{ name: 'b', credentials: { uri: 'mysql://h/db' } }] };
    const fromObject = parseVcapServices(vcap);
    expect(fromObject?.map((s) => [s.name, s.label])).toEqual([
      ['a', 'p.mysql'],
      ['b', 'user-provided'],
    ]);
    expect(parseVcapServices(JSON.stringify(vcap))).toEqual(fromObject);
    expect(parseVcapServices(undefined)).toBeUndefined();
  });
});

describe('reusing the cf CLI login', () => {
  const home = mkdtempSync(join(tmpdir(), 'tv-cfhome-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const write = (config: unknown) => {
    mkdirSync(join(home, '.cf'), { recursive: true });
    writeFileSync(join(home, '.cf', 'config.json'), JSON.stringify(config), { mode: 0o600 });
  };
  const base = { ConfigVersion: 4, Target: 'https://api.sys.example.com', AccessToken: 'bearer aaa.bbb.ccc', RefreshToken: 'refresh-1', SSHOAuthClient: 'ssh-proxy' };

  it('takes the tokens when Target is the profile\'s API (versions 3 and 4, trailing slash and case aside)', async () => {
    write(base);
    expect(await findCfCliLogin('https://API.sys.example.com/', home)).toEqual({ ok: true, login: expect.objectContaining({ refreshToken: 'refresh-1', accessToken: 'aaa.bbb.ccc' }) });
    write({ ...base, ConfigVersion: 3 });
    expect((await findCfCliLogin('https://api.sys.example.com', home)).ok).toBe(true);
  });

  it('explains what to run when it cannot be used', async () => {
    write({ ...base, Target: 'https://api.other.example.com' });
    expect(await findCfCliLogin('https://api.sys.example.com', home)).toEqual({ ok: false, reason: expect.stringContaining('logged in to https://api.other.example.com, not https://api.sys.example.com: run `cf login -a https://api.sys.example.com`') });
    write({ ...base, RefreshToken: '' });
    expect(await findCfCliLogin('https://api.sys.example.com', home)).toEqual({ ok: false, reason: expect.stringContaining('logged out') });
    write({ ...base, ConfigVersion: 2 });
    expect(await findCfCliLogin('https://api.sys.example.com', home)).toEqual({ ok: false, reason: expect.stringContaining('ConfigVersion 2') });
    expect(await findCfCliLogin('https://api.sys.example.com', join(home, 'nowhere'))).toEqual({ ok: false, reason: expect.stringContaining('never logged in') });
  });

  it('reads a JWT\'s expiry and ignores tokens that are not JWTs', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1_900_000_000 })).toString('base64url');
    expect(jwtExpiry(`h.${payload}.s`)).toBe(1_900_000_000);
    expect(jwtExpiry('opaque')).toBeUndefined();
  });
});

describe('connection details for the local end', () => {
  const creds = { name: 'orders-db', label: 'p.mysql', tags: [], host: 'q-1.bosh', port: 3306, database: 'orders', username: 'app user', password: 'p@ss' };

  it('gives the mysql command, URI and JDBC URL without the password unless asked', () => {
    const plain = mysqlConnection(creds, { host: '127.0.0.1', port: 13306 });
    expect(plain).toMatchObject({ command: "mysql -h 127.0.0.1 -P 13306 -u 'app user' -p orders", uri: 'mysql://app%20user@127.0.0.1:13306/orders', jdbcUrl: 'jdbc:mysql://127.0.0.1:13306/orders?user=app+user' });
    expect(JSON.stringify(plain)).not.toContain('p@ss');
    const withPassword = mysqlConnection(creds, { host: '127.0.0.1', port: 13306 }, true);
    expect(withPassword.command).toContain('-pp@ss');
    expect(withPassword.uri).toBe('mysql://app%20user:p%40ss@127.0.0.1:13306/orders');
  });

  it('knows MySQL offerings by label, tag or URI scheme', () => {
    expect([isMysql({ ...creds, label: 'cleardb' }), isMysql({ ...creds, label: 'user-provided', uri: 'mysql://h/db' }), isMysql({ ...creds, label: 'postgres', tags: ['relational'] })]).toEqual([true, true, false]);
  });
});

describe('the cloudfoundry profile kind', () => {
  const cf = { kind: 'cloudfoundry', id: 'orders', name: 'Orders DB', api: 'https://api.sys.example.com', org: 'acme', space: 'dev', app: 'orders', service: 'orders-db', local: { bindPort: 13306 } };

  it('fills defaults: instance 0, loopback, TLS verified, the cf CLI login', () => {
    const parsed = parseProfile(cf);
    expect(parsed).toMatchObject({ ok: true, value: { instance: 0, local: { bindHost: '127.0.0.1', bindPort: 13306 }, skipSslValidation: false, login: { method: 'cf-cli' }, reconnect: { enabled: true } } });
  });

  it('keeps SSH as the default kind', () => {
    expect(parseProfile({ id: 'a', name: 'a', server: { host: 'h' }, forwards: [{ type: 'local', bindPort: 1, targetHost: 'x', targetPort: 2 }] })).toMatchObject({ ok: true, value: { kind: 'ssh' } });
  });

  it('names the kinds there are when given another', () => {
    const r = parseProfile({ ...cf, kind: 'kubernetes' });
    expect(r.ok ? '' : formatErrors(r.errors)).toBe('kind: must be "ssh" or "cloudfoundry"');
  });

  it('needs exactly one of service and target, and a URL for the API', () => {
    const both = parseProfile({ ...cf, target: { host: '10.0.0.1', port: 3306 } });
    expect(both.ok ? '' : formatErrors(both.errors)).toContain('service: give either service');
    const badApi = parseProfile({ ...cf, api: 'api.sys.example.com' });
    expect(badApi.ok ? '' : formatErrors(badApi.errors)).toContain('api: must be the API endpoint URL');
  });

  it('refuses an http:// API unless allowInsecureHttp says so, naming the field and the opt-in', () => {
    const plain = parseProfile({ ...cf, api: 'http://api.sys.example.com' });
    expect(plain.ok ? '' : formatErrors(plain.errors)).toBe(`api: ${CF_PLAIN_HTTP_MESSAGE}`);
    expect(CF_PLAIN_HTTP_MESSAGE).toContain('allowInsecureHttp');
    expect(parseProfile({ ...cf, api: 'http://api.sys.example.com', allowInsecureHttp: true })).toMatchObject({ ok: true, value: { allowInsecureHttp: true } });
    expect(parseProfile(cf)).toMatchObject({ ok: true, value: { allowInsecureHttp: false } });
  });

  it('exports without the refresh-token reference', () => {
    const parsed = parseProfile({ ...cf, login: { method: 'password', username: 'me@example.com', refreshTokenRef: 'cf-refresh-orders' } });
    if (!parsed.ok) throw new Error(formatErrors(parsed.errors));
    const text = JSON.stringify(exportProfiles([parsed.value]));
    expect(text).not.toContain('cf-refresh-orders');
    expect(text).toContain('me@example.com');
  });
});

describe('tunnelvision cf flags', () => {
  const flags: CfFlags = { api: 'https://api.sys.example.com', org: 'acme', space: 'dev', app: 'orders', instance: '0', service: 'orders-db', local: '13306', skipSslValidation: false, allowInsecureHttp: false, reconnect: true };

  it('-L port forwards to the service; -L port:host:hostport to a fixed target', () => {
    expect(cfPlan(flags)).toMatchObject({ ok: true, value: { service: 'orders-db', local: { bindHost: '127.0.0.1', bindPort: 13306 } } });
    expect(cfPlan({ ...flags, service: undefined, local: '0.0.0.0:13306:10.0.4.12:3306' })).toMatchObject({ ok: true, value: { target: { host: '10.0.4.12', port: 3306 }, local: { bindHost: '0.0.0.0' } } });
  });

  it('an http --api needs --allow-insecure-http, and the error says so', () => {
    const r = cfPlan({ ...flags, api: 'http://api.sys.example.com' });
    expect(r.ok ? '' : formatErrors(r.errors)).toMatch(/^--api: is plain http.*add --allow-insecure-http$/);
    expect(cfPlan({ ...flags, api: 'http://api.sys.example.com', allowInsecureHttp: true })).toMatchObject({ ok: true, value: { api: 'http://api.sys.example.com', allowInsecureHttp: true } });
  });

  it('names every missing or wrong flag', () => {
    const r = cfPlan({ skipSslValidation: false, allowInsecureHttp: false, reconnect: true, instance: 'x', local: '13306' });
    expect(r.ok ? '' : formatErrors(r.errors)).toBe(['--api: is required', '--org: is required', '--space: is required', '--app: is required', '--service: is required: the name of a service bound to the app (or give -L port:host:hostport)', '--instance: must be a whole number, not "x"'].join('\n'));
  });
});

describe('requests to a foundation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-cfhttp-unit-'));
  const tls = makeTestTls(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const opts = (over: Partial<HttpOptions> = {}): HttpOptions => ({ ca: tls.ca, skipSslValidation: false, allowInsecureHttp: false, timeoutMs: 5000, ...over });

  async function serve<S extends http.Server>(server: S): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
    let connections = 0;
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      connections: () => connections,
      close: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
    };
  }

  it('never connects to an http:// URL without the opt-in; with it, says so before sending', async () => {
    const server = await serve(http.createServer((_req, res) => res.end('{}')));
    try {
      const url = `http://127.0.0.1:${server.port}/v3/apps`;
      await expect(request({ method: 'GET', url, headers: { authorization: 'bearer t' } }, opts(), 'api x')).rejects.toMatchObject({ code: 'INSECURE_TRANSPORT', message: expect.stringContaining('allowInsecureHttp') });
      expect(server.connections()).toBe(0);
      const told: string[] = [];
      expect(await request({ method: 'GET', url }, opts({ allowInsecureHttp: true, onInsecure: (u) => told.push(u.origin) }), 'api x')).toMatchObject({ status: 200 });
      expect(told).toEqual([`http://127.0.0.1:${server.port}`]);
    } finally {
      await server.close();
    }
  });

  it('refuses an https answer that redirects to http, without repeating the redirect\'s one-time code', async () => {
    const server = await serve(https.createServer({ cert: tls.cert, key: tls.key }, (_req, res) => (res.writeHead(302, { location: 'http://uaa.example.com/login?code=SECRET-CODE' }), res.end())));
    try {
      const req = { method: 'GET' as const, url: `https://127.0.0.1:${server.port}/oauth/authorize` };
      const refused = request(req, opts(), 'uaa x');
      await expect(refused).rejects.toMatchObject({ code: 'INSECURE_TRANSPORT', message: expect.stringContaining('redirected GET /oauth/authorize to http://uaa.example.com/login') });
      await expect(refused).rejects.not.toMatchObject({ message: expect.stringContaining('SECRET-CODE') });
      expect(await request(req, opts({ allowInsecureHttp: true }), 'uaa x')).toMatchObject({ status: 302 });
    } finally {
      await server.close();
    }
  });
});
