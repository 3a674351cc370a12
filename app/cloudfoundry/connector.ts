// A Cloud Foundry profile's sessions. Every connect looks the app up again (a restage gives the
// web process a new guid; an instance may have moved), fetches a fresh one-time code (each is
// single-use and short-lived), and reads the service's address anew; tokens live across connects.
import { createHmac } from 'node:crypto';
import type { CloudFoundryProfile } from '../profiles/schema.js';
import { cloudFoundrySecretUse, type SecretUse } from '../profiles/secretUse.js';
import type { Prompter, SecretKeeper, SecretResolver } from '../engine/prompts.js';
import type { Connection, Connector, ForwardTarget } from '../engine/tunnel.js';
import { forgetSecret, rememberSecret } from '../shared/crash.js';
import { TunnelError } from '../shared/errors.js';
import { findCfCliLogin, updateCfCliTokens } from './cfCliConfig.js';
import { CloudController, discover, resolveInstance, type Discovery } from './cloudController.js';
import { isMysql, mysqlConnection } from './details.js';
import { hopName, type HttpOptions } from './http.js';
import { openProxySession } from './proxy.js';
import { findService } from './services.js';
import { LoginExpired, UaaTokens, type UaaEndpoints } from './uaa.js';
import type { ServiceCredentials } from './vcap.js';

/** The cf CLI's words (command/v7/api_command.go), so a person who knows the one recognises the other. */
export const INSECURE_HTTP_WARNING = 'Warning: Insecure http API endpoint detected: secure https API endpoints are recommended';

export interface CloudFoundryDeps {
  prompter: Prompter;
  secrets?: SecretResolver | undefined;
  /** Where a password login's refresh token is kept for the next run (desktop: safeStorage). */
  keeper?: SecretKeeper | undefined;
  /** The installation's random value (app/profiles/installId.ts), which a derived login reference is made with. */
  installId?: string | undefined;
  /** Lines for the tunnel's log (whether a login was kept, and if not why). */
  log?: ((level: 'info' | 'warn', message: string) => void) | undefined;
  /** Extra trusted CA (PEM); the system's store otherwise. */
  ca?: string | Buffer | undefined;
  /** Put the service's password into its connection details (the CLI's --show-password only). */
  showPassword?: boolean;
}

/** The service's password and the connection strings with it, from the latest session's credentials. */
export interface RevealedService {
  password: string;
  command?: string;
  uri?: string;
  jdbcUrl?: string;
}

export interface CloudFoundryTunnelConnector extends Connector {
  /**
   * For an explicit "copy with password" only: undefined when the target is no service or its
   * credentials carry no password. The caller decides whether the tunnel is open; nothing here logs it.
   */
  revealServicePassword(): RevealedService | undefined;
}

/**
 * Where a password login's refresh token is kept: the profile's own reference, or one made from the
 * profile, the API and the user keyed with the installation's random value. A change of API or user
 * gives another reference (and the old login is forgotten); without the installation's value nobody
 * can work the reference out. Undefined where there is none (no password login, or no `installId`).
 */
export function loginSecretRef(profile: CloudFoundryProfile, installId: string | undefined): string | undefined {
  const login = profile.login;
  if (login.method !== 'password') return undefined;
  if (login.refreshTokenRef) return login.refreshTokenRef;
  if (installId === undefined) return undefined;
  const who = createHmac('sha256', installId).update(`${profile.id}\n${profile.api}\n${login.username}`).digest('hex').slice(0, 32);
  return `cloudfoundry-login:${profile.id}:${who}`;
}

export function cloudFoundryConnector(profile: CloudFoundryProfile, deps: CloudFoundryDeps): CloudFoundryTunnelConnector {
  return new CloudFoundryConnector(profile, deps);
}

class CloudFoundryConnector implements CloudFoundryTunnelConnector {
  readonly forwards;
  private tokens: UaaTokens | undefined;
  /** The service credentials of the latest connect; kept in memory only, for revealServicePassword. */
  private service: { creds: ServiceCredentials; local: { host: string; port: number } } | undefined;
  private everOpen = false;
  /** The saved refresh token was refused once: from now on a password is asked for instead. */
  private forgetSavedLogin = false;
  /** Origins already warned about in this connect: each connect warns again, once per origin. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly profile: CloudFoundryProfile,
    private readonly deps: CloudFoundryDeps,
  ) {
    // The real target is looked up on each connect (`targets` of the Connection); this one only labels the listener until then.
    this.forwards = [{ type: 'local' as const, bindHost: profile.local.bindHost, bindPort: profile.local.bindPort, targetHost: profile.target?.host ?? profile.service ?? '', targetPort: profile.target?.port ?? 0 }];
  }

  revealServicePassword(): RevealedService | undefined {
    const found = this.service;
    if (found?.creds.password === undefined) return undefined;
    if (!isMysql(found.creds)) return { password: found.creds.password };
    const { command, uri, jdbcUrl } = mysqlConnection(found.creds, found.local, true);
    return { password: found.creds.password, command, uri, jdbcUrl };
  }

  private http(signal?: AbortSignal): HttpOptions {
    const p = this.profile;
    return { ca: this.deps.ca, skipSslValidation: p.skipSslValidation, allowInsecureHttp: p.allowInsecureHttp, timeoutMs: p.connectTimeoutSeconds * 1000, signal, onInsecure: (url) => this.warnInsecure(url) };
  }

  /** An opt-in is never silent: the cf CLI's own warning for http, ours for unverified TLS. */
  private warnInsecure(url: URL): void {
    if (this.warned.has(url.origin)) return;
    this.warned.add(url.origin);
    this.deps.log?.(
      'warn',
      url.protocol === 'http:'
        ? `${INSECURE_HTTP_WARNING} (${url.origin} is used over plain http because the profile allows insecure http: the login and tokens travel in clear).`
        : `Warning: TLS certificate verification is off for ${url.origin} (skipSslValidation): anyone on the network path could pose as the foundation and receive the login and tokens.`,
    );
  }

  async connect(signal: AbortSignal): Promise<Connection> {
    try {
      return await this.attempt(signal);
    } catch (err) {
      if (!(err instanceof LoginExpired)) throw err;
      if (this.profile.login.method === 'cf-cli') {
        throw new TunnelError('AUTH_FAILED', `The cf CLI's login has expired (UAA says: ${err.message}). Run \`cf login -a ${this.profile.api}\`, then try again.`, { hop: err.hop, cause: err });
      }
      // A refresh token expires in the end; with a password login the person can simply be asked again.
      if (!this.deps.prompter.password) throw new TunnelError('AUTH_FAILED', `The saved login has expired (UAA says: ${err.message}) and nobody can be asked for the password.`, { hop: err.hop, cause: err });
      this.tokens = undefined;
      this.forgetSavedLogin = true;
      return this.attempt(signal);
    }
  }

  private async attempt(signal: AbortSignal): Promise<Connection> {
    const p = this.profile;
    this.warned.clear();
    const http = () => this.http(signal);
    const found = await discover(p.api, http());
    const tokens = await this.login(found, http);
    const cc = new CloudController(found.v3, tokens, http);
    const instance = await resolveInstance(cc, { org: p.org, space: p.space, app: p.app, instance: p.instance, firstConnect: !this.everOpen });
    const target = await this.resolveTarget(cc, instance.appGuid);
    const [host, port] = splitEndpoint(found.sshEndpoint);
    const proxyHop = hopName('ssh-proxy', `ssh://${found.sshEndpoint}`);
    const username = `cf:${instance.processGuid}/${instance.index}`;
    const open = async () => {
      const code = await tokens.sshCode(found.sshOAuthClient);
      try {
        return await openProxySession({ host, port, hop: proxyHop, username, code, fingerprint: found.sshFingerprint, keepalive: p.keepalive, timeoutMs: p.connectTimeoutSeconds * 1000 }, signal);
      } finally {
        // Single-use: once offered it is spent, and the crash report's set need not keep one per connect.
        forgetSecret(code);
      }
    };
    // A code can be spent or expire between asking and using it (a slow link, a clock step); a second fresh one settles that.
    const session = await open().catch((err: unknown) => {
      if (err instanceof TunnelError && err.code === 'AUTH_FAILED' && !signal.aborted) return open();
      throw err;
    });
    this.everOpen = true;
    const container = `container ${p.app}/${p.instance}`;
    return {
      session,
      hops: [...session.hops.map((h) => ({ label: h.label, ...(h.hostKey ? { hostKey: { type: h.hostKey.type, fingerprint: h.hostKey.fingerprint } } : {}) })), { label: container }],
      dialHop: container,
      targets: [target],
    };
  }

  private async resolveTarget(cc: CloudController, appGuid: string): Promise<ForwardTarget> {
    const p = this.profile;
    this.service = undefined;
    if (p.target) return { host: p.target.host, port: p.target.port };
    const creds = await findService(cc, appGuid, p.app, p.service!);
    rememberSecret(creds.password);
    const local = { host: p.local.bindHost, port: p.local.bindPort };
    this.service = { creds, local };
    return { host: creds.host, port: creds.port, ...(isMysql(creds) ? { service: mysqlConnection(creds, local, this.deps.showPassword) } : {}) };
  }

  /** Tokens kept across connects: from the cf CLI's login, a saved refresh token, or a password asked once. */
  private async login(found: Discovery, http: () => HttpOptions): Promise<UaaTokens> {
    if (this.tokens) return this.tokens;
    const endpoints: UaaEndpoints = { login: found.login, uaa: found.uaa, loginHop: hopName('uaa', found.login), uaaHop: hopName('uaa', found.uaa) };
    const how = this.profile.login;
    if (how.method === 'cf-cli') {
      const cli = await findCfCliLogin(this.profile.api, how.cfHome);
      if (!cli.ok) throw new TunnelError('AUTH_FAILED', `Cannot reuse the cf CLI's login: ${cli.reason}.`, { hop: endpoints.loginHop });
      this.tokens = new UaaTokens(endpoints, cli.login.refreshToken, cli.login.accessToken, http);
      let previous = cli.login.refreshToken;
      this.tokens.onNewRefreshToken = (tokens) => {
        const from = previous;
        previous = tokens.refresh;
        updateCfCliTokens(cli.login.file, from, tokens).catch((err: unknown) =>
          this.deps.log?.('warn', `UAA replaced the cf CLI's login, and writing it back to ${cli.login.file} failed (${err instanceof Error ? err.message : String(err)}): the cf CLI may need \`cf login\` again.`),
        );
      };
    } else {
      const ref = loginSecretRef(this.profile, this.deps.installId);
      // The token goes to this API's UAA for this user, and is read only if it was kept for the same,
      // over the same TLS mode: one kept over verified https never reaches a connection that skips the check.
      const use = cloudFoundrySecretUse(this.profile)!;
      const saved = this.forgetSavedLogin || !ref ? undefined : await this.deps.secrets?.(ref, use);
      this.tokens = saved ? new UaaTokens(endpoints, saved, undefined, http) : await this.passwordLogin(endpoints, how.username, http);
      if (ref) {
        if (!saved) void this.keepLogin(ref, use, this.tokens.refreshToken, true);
        this.tokens.onNewRefreshToken = ({ refresh }) => void this.keepLogin(ref, use, refresh, false);
      }
    }
    return this.tokens;
  }

  /** Only the refresh token is kept; where it cannot be (no keyring, no consent) the login lasts until the engine stops. */
  private async keepLogin(ref: string, use: SecretUse, token: string, fresh: boolean): Promise<void> {
    const keeper = this.deps.keeper;
    if (!keeper) return;
    const result = await keeper.set(ref, token, use).catch((err: unknown) => ({ stored: false as const, reason: err instanceof Error ? err.message : String(err) }));
    if (result.stored) {
      if (fresh) this.deps.log?.('info', `Logged in to ${this.profile.api}; the login is kept for next time (the password is not).`);
    } else {
      this.deps.log?.('warn', `The login to ${this.profile.api} is kept only until Tunnelvision quits: ${result.reason}.`);
    }
  }

  private async passwordLogin(endpoints: UaaEndpoints, username: string, http: () => HttpOptions): Promise<UaaTokens> {
    const ask = this.deps.prompter.password;
    for (let retry = false; ; retry = true) {
      const password = ask ? await ask({ hop: endpoints.loginHop, user: username, retry }) : null;
      if (password === null) {
        throw new TunnelError('PROMPT_CANCELLED', ask ? `No password given for ${username}, so Tunnelvision did not log in.` : `A password for ${username} is needed to log in, and nobody could be asked.`, { hop: endpoints.loginHop });
      }
      try {
        return await UaaTokens.login(endpoints, username, password, http());
      } catch (err) {
        if (!(err instanceof TunnelError && err.code === 'AUTH_FAILED') || retry) throw err;
      }
    }
  }
}

function splitEndpoint(endpoint: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint);
  return m ? [m[1]!, Number(m[2])] : [endpoint, 22];
}
