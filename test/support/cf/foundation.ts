// A Cloud Foundry foundation on loopback that behaves like the real one on the wire: Cloud
// Controller and UAA over HTTPS (plus a plain-http mirror of both that records everything sent to
// it, for the tests that must prove nothing reaches plain http), and an ssh-proxy (ssh2's Server with the proxy's algorithms,
// RSA host key and banner) that redeems one-time codes at UAA, checks SSH permission per process
// and instance, forwards only direct-tcpip, and dials from the "container" side.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection, type Server as SshServer } from 'ssh2';
import { DialError, type Container } from './container.js';
import type { TestTls } from './tls.js';

export interface FakeApp {
  guid: string;
  name: string;
  spaceGuid: string;
  state: 'STARTED' | 'STOPPED';
  processGuid: string;
  /** The state of each instance of the web process, by index. */
  instances: Array<'RUNNING' | 'STARTING' | 'CRASHED'>;
  ssh: { enabled: boolean; reason?: string };
  /** VCAP_SERVICES as Cloud Controller returns it; undefined for apps on file-based bindings. */
  vcapServices?: Record<string, unknown[]>;
  /** The user may not read this app's environment. */
  envRedacted?: boolean;
  /** Credential bindings (the fallback for apps without VCAP_SERVICES). */
  bindings: Array<{ guid: string; serviceName: string; type: 'managed' | 'user-provided'; credentials: Record<string, unknown> }>;
}

export interface PlainRequest {
  method: string;
  url: string;
  authorization: string;
  body: string;
}

export interface FoundationOptions {
  tls: TestTls;
  container: Container;
  /** Serve only /v2/info, as foundations before the v3 root document. */
  legacyInfo?: boolean;
}

const USER = 'dev@example.com';
const PASSWORD = 'correct horse';
const CODE_TTL_MS = 5 * 60_000;
const USERNAME = /^cf:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(\d+)$/;
const INVALID_TOKEN = { errors: [{ detail: 'Invalid Auth Token', title: 'CF-InvalidAuthToken', code: 1000 }] };

type Json = Record<string, unknown>;

function jwt(claims: Json): string {
  const part = (o: Json) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${randomBytes(16).toString('base64url')}`;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => resolve(body));
  });
}

function list(resources: Json[], included?: Json): Json {
  return { pagination: { total_results: resources.length, total_pages: 1, next: null, previous: null }, resources, ...(included ? { included } : {}) };
}

/** Rejects a channel open with our reason code and description (ssh2's reject() always sends an empty one). */
function refuseChannel(conn: Connection, reject: () => void, reason: number, description: string): void {
  const proto = (conn as unknown as { _protocol: { channelOpenFail: (recipient: number, reason: number, desc: string) => void } })._protocol;
  const original = proto.channelOpenFail;
  proto.channelOpenFail = (recipient) => {
    proto.channelOpenFail = original;
    original.call(proto, recipient, reason, description);
  };
  reject();
}

export class FakeFoundation {
  readonly user = USER;
  readonly password = PASSWORD;
  readonly orgs: Array<{ guid: string; name: string }> = [];
  readonly spaces: Array<{ guid: string; name: string; orgGuid: string }> = [];
  readonly apps: FakeApp[] = [];
  /** Seconds an access token lives; negative to hand out expired ones. */
  accessTokenTtlS = 600;
  codeTtlMs = CODE_TTL_MS;
  /** Each refresh hands out a new refresh token and voids the old one (UAA's refresh token rotation). */
  rotateRefreshTokens = false;
  /** What GET / advertises; the real key's SHA-256 (base64) unless a test changes it. */
  advertisedFingerprint: string;
  readonly grants: string[] = [];
  readonly proxyLogins: Array<{ username: string; ok: boolean }> = [];
  /** Every request the plain-http mirror received, body and authorization included. */
  readonly plainRequests: PlainRequest[] = [];
  /** Overrides what the https API's GET / and /v2/info advertise as login and UAA (e.g. the http mirror). */
  advertise: { login?: string; uaa?: string } = {};
  /** When set, the https API answers GET / and /v2/info with a 301 to this base (e.g. the http mirror). */
  redirectDiscoveryTo: string | undefined;
  private readonly accessTokens = new Map<string, { user: string; exp: number }>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly codes = new Map<string, { user: string; expires: number; used: boolean }>();
  private readonly sessions = new Map<Connection, string>();
  private apiPort = 0;
  private uaaPort = 0;
  private sshPort = 0;
  private plainPort = 0;

  private readonly api: https.Server;
  private readonly uaa: https.Server;
  private readonly plain: http.Server;
  private readonly proxy: SshServer;
  readonly hostKeyBlob: Buffer;

  private constructor(private readonly opts: FoundationOptions) {
    const { private: hostKey, public: publicKey } = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
    this.hostKeyBlob = Buffer.from(publicKey.split(' ')[1]!, 'base64');
    this.advertisedFingerprint = this.fingerprint('sha256-base64');
    const tlsOpts = { cert: opts.tls.cert, key: opts.tls.key };
    this.api = https.createServer(tlsOpts, (req, res) => void this.handleApi(req, res, this.apiUrl));
    this.uaa = https.createServer(tlsOpts, (req, res) => void this.handleUaa(req, res, this.uaaUrl));
    this.plain = http.createServer((req, res) => {
      const seen: PlainRequest = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization ?? '', body: '' };
      this.plainRequests.push(seen);
      // Listening alongside the handler's own reader: both see every chunk.
      req.on('data', (d: Buffer) => (seen.body += d.toString()));
      if (seen.url.startsWith('/oauth/')) void this.handleUaa(req, res, this.plainUrl);
      else void this.handleApi(req, res, this.plainUrl);
    });
    this.proxy = new ssh2.Server(
      {
        hostKeys: [hostKey],
        ident: 'diego-ssh-proxy',
        algorithms: {
          kex: ['curve25519-sha256@libssh.org'],
          cipher: ['aes128-gcm@openssh.com', 'aes256-ctr', 'aes192-ctr', 'aes128-ctr'],
          hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256'],
          serverHostKey: ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
        },
      },
      (conn) => this.handleSsh(conn),
    );
  }

  static async start(opts: FoundationOptions): Promise<FakeFoundation> {
    const self = new FakeFoundation(opts);
    const listen = (s: { listen(port: number, host: string, cb: () => void): unknown; address(): AddressInfo | string | null }) =>
      new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
    self.apiPort = await listen(self.api);
    self.uaaPort = await listen(self.uaa);
    self.sshPort = await listen(self.proxy as unknown as Parameters<typeof listen>[0]);
    self.plainPort = await listen(self.plain);
    return self;
  }

  get apiUrl(): string {
    return `https://127.0.0.1:${this.apiPort}`;
  }

  get uaaUrl(): string {
    return `https://127.0.0.1:${this.uaaPort}`;
  }

  /** API and UAA in one, over plain http: its GET / points login and UAA at itself. */
  get plainUrl(): string {
    return `http://127.0.0.1:${this.plainPort}`;
  }

  get sshEndpoint(): string {
    return `127.0.0.1:${this.sshPort}`;
  }

  fingerprint(format: 'md5' | 'sha1' | 'sha256-base64' | 'sha256-hex'): string {
    const colons = (hex: string) => hex.match(/../g)!.join(':');
    if (format === 'md5') return colons(createHash('md5').update(this.hostKeyBlob).digest('hex'));
    if (format === 'sha1') return colons(createHash('sha1').update(this.hostKeyBlob).digest('hex'));
    if (format === 'sha256-hex') return createHash('sha256').update(this.hostKeyBlob).digest('hex');
    return createHash('sha256').update(this.hostKeyBlob).digest('base64').replace(/=+$/, '');
  }

  /** An app (with its org and space, made if new) whose web process has `instances` running. */
  addApp(o: { org: string; space: string; name: string; instances?: number } & Partial<Pick<FakeApp, 'vcapServices' | 'bindings' | 'envRedacted' | 'ssh' | 'state'>>): FakeApp {
    let org = this.orgs.find((x) => x.name === o.org);
    if (!org) this.orgs.push((org = { guid: randomUUID(), name: o.org }));
    let space = this.spaces.find((x) => x.name === o.space && x.orgGuid === org.guid);
    if (!space) this.spaces.push((space = { guid: randomUUID(), name: o.space, orgGuid: org.guid }));
    const app: FakeApp = {
      guid: randomUUID(),
      name: o.name,
      spaceGuid: space.guid,
      state: o.state ?? 'STARTED',
      processGuid: randomUUID(),
      instances: Array.from({ length: o.instances ?? 1 }, () => 'RUNNING' as const),
      ssh: o.ssh ?? { enabled: true },
      bindings: o.bindings ?? [],
      ...(o.vcapServices ? { vcapServices: o.vcapServices } : {}),
      ...(o.envRedacted ? { envRedacted: true } : {}),
    };
    this.apps.push(app);
    return app;
  }

  /** A restage: new droplet, new web process guid; the old containers and their SSH sessions die. */
  restage(app: FakeApp): void {
    const old = app.processGuid;
    app.processGuid = randomUUID();
    for (const [conn, guid] of this.sessions) if (guid === old) conn.end();
  }

  /** UAA forgot every access token (a restart, a key rotation): the next API call gets 401 invalid token. */
  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** Tokens as `cf login` would leave them in config.json. */
  login(accessTtlS = this.accessTokenTtlS): { access: string; refresh: string } {
    return { access: this.issueAccess(USER, accessTtlS), refresh: this.issueRefresh(USER) };
  }

  async dispose(): Promise<void> {
    for (const conn of this.sessions.keys()) conn.end();
    await Promise.all([
      ...[this.api, this.uaa, this.plain].map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
      new Promise<void>((resolve) => this.proxy.close(() => resolve())),
    ]);
  }

  private issueAccess(user: string, ttlS = this.accessTokenTtlS): string {
    const exp = Math.floor(Date.now() / 1000) + ttlS;
    const token = jwt({ user_name: user, exp, jti: randomUUID() });
    this.accessTokens.set(token, { user, exp });
    return token;
  }

  private issueRefresh(user: string): string {
    const token = `${randomBytes(16).toString('hex')}-r`;
    this.refreshTokens.set(token, user);
    return token;
  }

  private bearerUser(req: IncomingMessage): string | undefined {
    const m = /^bearer (.+)$/i.exec(req.headers.authorization ?? '');
    const t = m ? this.accessTokens.get(m[1]!) : undefined;
    return t && t.exp * 1000 > Date.now() ? t.user : undefined;
  }

  private async handleUaa(req: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      const form = new URLSearchParams(await readBody(req));
      const grant = form.get('grant_type') ?? '';
      this.grants.push(grant);
      const client = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /i, ''), 'base64').toString();
      const wantClient = grant === 'authorization_code' ? 'ssh-proxy:' : 'cf:';
      if (client !== wantClient) return send(res, 401, { error: 'unauthorized', error_description: 'Bad credentials' });
      if (grant === 'password') {
        if (form.get('username') !== USER || form.get('password') !== PASSWORD) return send(res, 401, { error: 'unauthorized', error_description: 'Bad credentials' });
        return send(res, 200, { access_token: this.issueAccess(USER), refresh_token: this.issueRefresh(USER), token_type: 'bearer', expires_in: this.accessTokenTtlS });
      }
      if (grant === 'refresh_token') {
        const user = this.refreshTokens.get(form.get('refresh_token') ?? '');
        if (!user) return send(res, 401, { error: 'invalid_token', error_description: 'Invalid refresh token (expired)' });
        let refresh = form.get('refresh_token')!;
        if (this.rotateRefreshTokens) {
          this.refreshTokens.delete(refresh);
          refresh = this.issueRefresh(user);
        }
        return send(res, 200, { access_token: this.issueAccess(user), refresh_token: refresh, token_type: 'bearer', expires_in: this.accessTokenTtlS });
      }
      if (grant === 'authorization_code') {
        const code = form.get('code') ?? '';
        const entry = this.codes.get(code);
        if (!entry || entry.used || entry.expires < Date.now()) return send(res, 400, { error: 'invalid_grant', error_description: `Invalid authorization code: ${code}` });
        entry.used = true;
        return send(res, 200, { access_token: this.issueAccess(entry.user), token_type: 'bearer', expires_in: this.accessTokenTtlS });
      }
      return send(res, 400, { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grant}` });
    }
    if (req.method === 'GET' && url.pathname === '/oauth/authorize') {
      const user = this.bearerUser(req);
      if (!user) return send(res, 401, { error: 'invalid_token', error_description: 'Invalid access token' });
      if (url.searchParams.get('client_id') !== 'ssh-proxy' || url.searchParams.get('response_type') !== 'code') return send(res, 400, { error: 'invalid_request' });
      const code = randomBytes(12).toString('base64url');
      this.codes.set(code, { user, expires: Date.now() + this.codeTtlMs, used: false });
      return send(res, 302, undefined, { location: `${base}/login?code=${code}` });
    }
    send(res, 404, { error: 'not_found' });
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const q = (name: string) => url.searchParams.get(name)?.split(',');
    const path = url.pathname;
    const mirror = base === this.plainUrl;
    const login = mirror ? base : (this.advertise.login ?? this.uaaUrl);
    const uaa = mirror ? base : (this.advertise.uaa ?? this.uaaUrl);
    if ((path === '/' || path === '/v2/info') && this.redirectDiscoveryTo && !mirror) return send(res, 301, undefined, { location: `${this.redirectDiscoveryTo}${path}` });
    if (path === '/') {
      if (this.opts.legacyInfo) return send(res, 404, { errors: [{ title: 'CF-NotFound' }] });
      return send(res, 200, {
        links: {
          self: { href: base },
          cloud_controller_v3: { href: `${base}/v3` },
          login: { href: login },
          uaa: { href: uaa },
          app_ssh: { href: this.sshEndpoint, meta: { host_key_fingerprint: this.advertisedFingerprint, oauth_client: 'ssh-proxy' } },
        },
      });
    }
    if (path === '/v2/info') {
      return send(res, 200, { authorization_endpoint: login, token_endpoint: uaa, app_ssh_endpoint: this.sshEndpoint, app_ssh_host_key_fingerprint: this.advertisedFingerprint, app_ssh_oauth_client: 'ssh-proxy' });
    }
    if (!this.bearerUser(req)) return send(res, 401, INVALID_TOKEN);
    const names = q('names');
    const byName = <T extends { name: string }>(xs: T[]) => (names ? xs.filter((x) => names.includes(x.name)) : xs);
    let m: RegExpExecArray | null;
    if (path === '/v3/organizations') return send(res, 200, list(byName(this.orgs)));
    if (path === '/v3/spaces') {
      const orgs = q('organization_guids');
      return send(res, 200, list(byName(this.spaces).filter((s) => !orgs || orgs.includes(s.orgGuid)).map((s) => ({ guid: s.guid, name: s.name }))));
    }
    if (path === '/v3/apps') {
      const spaces = q('space_guids');
      return send(res, 200, list(byName(this.apps).filter((a) => !spaces || spaces.includes(a.spaceGuid)).map((a) => ({ guid: a.guid, name: a.name, state: a.state }))));
    }
    if ((m = /^\/v3\/apps\/([^/]+)\/(processes|ssh_enabled|env)$/.exec(path))) {
      const app = this.apps.find((a) => a.guid === m![1]);
      if (!app) return send(res, 404, { errors: [{ title: 'CF-ResourceNotFound', detail: 'App not found' }] });
      if (m[2] === 'processes') return send(res, 200, list([{ guid: app.processGuid, type: 'web', instances: app.instances.length }]));
      if (m[2] === 'ssh_enabled') return send(res, 200, { enabled: app.ssh.enabled, reason: app.ssh.enabled ? '' : (app.ssh.reason ?? '') });
      if (app.envRedacted) return send(res, 200, { environment_variables: { redacted_message: '[PRIVATE DATA HIDDEN]' }, system_env_json: { redacted_message: '[PRIVATE DATA HIDDEN]' } });
      return send(res, 200, { environment_variables: {}, staging_env_json: {}, running_env_json: {}, system_env_json: app.vcapServices ? { VCAP_SERVICES: app.vcapServices } : {}, application_env_json: { VCAP_APPLICATION: { application_name: app.name } } });
    }
    if ((m = /^\/v3\/processes\/([^/]+)\/stats$/.exec(path))) {
      const app = this.apps.find((a) => a.processGuid === m![1]);
      if (!app) return send(res, 404, { errors: [{ title: 'CF-ResourceNotFound', detail: 'Process not found' }] });
      return send(res, 200, { resources: app.instances.map((state, index) => ({ type: 'web', index, state: app.state === 'STARTED' ? state : 'DOWN' })) });
    }
    if (path === '/v3/service_credential_bindings') {
      const appGuids = q('app_guids') ?? [];
      const bindings = this.apps.filter((a) => appGuids.includes(a.guid)).flatMap((a) => a.bindings);
      const instances = bindings.map((b) => ({ guid: `si-${b.guid}`, name: b.serviceName, type: b.type }));
      return send(res, 200, list(bindings.map((b) => ({ guid: b.guid, type: 'app', name: null, relationships: { service_instance: { data: { guid: `si-${b.guid}` } } } })), url.searchParams.get('include') === 'service_instance' ? { service_instances: instances } : undefined));
    }
    if ((m = /^\/v3\/service_credential_bindings\/([^/]+)\/details$/.exec(path))) {
      const binding = this.apps.flatMap((a) => a.bindings).find((b) => b.guid === m![1]);
      if (!binding) return send(res, 404, { errors: [{ title: 'CF-ResourceNotFound' }] });
      return send(res, 200, { credentials: binding.credentials, syslog_drain_url: null, volume_mounts: [] });
    }
    send(res, 404, { errors: [{ title: 'CF-NotFound', detail: `Unknown request ${path}` }] });
  }

  /** The proxy asks UAA to exchange the code, with its own client, exactly once. */
  private redeem(code: string): Promise<boolean> {
    return new Promise((resolve) => {
      const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${this.uaaUrl}/login` }).toString();
      const req = https.request(`${this.uaaUrl}/oauth/token`, { method: 'POST', ca: this.opts.tls.ca, agent: false, headers: { authorization: `Basic ${Buffer.from('ssh-proxy:').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('error', () => resolve(false));
      req.end(body);
    });
  }

  private handleSsh(conn: Connection): void {
    conn.on('error', () => {});
    conn.on('close', () => this.sessions.delete(conn));
    let processGuid: string | undefined;
    conn.on('authentication', (ctx) => {
      if (ctx.method !== 'password') return ctx.reject(['password']);
      const m = USERNAME.exec(ctx.username);
      if (!m) return ctx.reject(['password']);
      void this.redeem(ctx.password).then((redeemed) => {
        const app = this.apps.find((a) => a.processGuid === m[1]);
        const index = Number(m[2]);
        const allowed = redeemed && app !== undefined && app.state === 'STARTED' && app.ssh.enabled && app.instances[index] === 'RUNNING';
        this.proxyLogins.push({ username: ctx.username, ok: allowed });
        if (!allowed) return ctx.reject(['password']);
        processGuid = m[1];
        ctx.accept();
      });
    });
    conn.on('ready', () => {
      this.sessions.set(conn, processGuid!);
      conn.on('session', (_accept, reject) => refuseChannel(conn, reject, 3, 'unknown channel type'));
      conn.on('tcpip', (accept, reject, info) => {
        this.opts.container.dial(info.destIP, info.destPort).then(
          (sock) => {
            const channel = accept();
            sock.on('error', () => channel.destroy());
            sock.pipe(channel).pipe(sock);
            sock.resume();
            channel.once('close', () => sock.destroy());
            sock.once('close', () => channel.destroy());
          },
          (err: Error) => refuseChannel(conn, reject, 2, err instanceof DialError ? err.message : `dial tcp ${info.destIP}:${info.destPort}: ${err.message}`),
        );
      });
    });
  }
}
