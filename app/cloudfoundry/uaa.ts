// Tokens from UAA, the way the cf CLI gets them: client `cf` with an empty secret, the password
// grant once, then refresh_token grants; an access token is refreshed when it expires within 60 s
// and once more when an API answers 401. One-time SSH codes come from /oauth/authorize.
import { forgetSecret, rememberSecret } from '../shared/crash.js';
import { TunnelError } from '../shared/errors.js';
import { json, request, type HttpOptions, type HttpResponse } from './http.js';

const CF_CLIENT = `Basic ${Buffer.from('cf:').toString('base64')}`;
const REFRESH_MARGIN_MS = 60_000;

export interface UaaEndpoints {
  /** Where tokens are granted: `links.login.href` (the "authorization endpoint"). */
  login: string;
  /** Where one-time SSH codes come from: `links.uaa.href`. */
  uaa: string;
  loginHop: string;
  uaaHop: string;
}

/** Seconds-since-epoch `exp` of a JWT, undefined when the token is not one. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

interface TokenGrant {
  access_token?: unknown;
  refresh_token?: unknown;
}

function oauthError(res: HttpResponse): { error: string; description: string } {
  try {
    const body = JSON.parse(res.body) as { error?: unknown; error_description?: unknown };
    return { error: String(body.error ?? ''), description: String(body.error_description ?? body.error ?? '') };
  } catch {
    return { error: '', description: `HTTP ${res.status}` };
  }
}

async function grant(endpoints: UaaEndpoints, form: Record<string, string>, http: HttpOptions): Promise<{ access: string; refresh: string | undefined; res: HttpResponse }> {
  const hop = endpoints.loginHop;
  const res = await request(
    {
      method: 'POST',
      url: `${endpoints.login.replace(/\/+$/, '')}/oauth/token`,
      headers: { authorization: CF_CLIENT, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    },
    http,
    hop,
  );
  if (res.status !== 200) return { access: '', refresh: undefined, res };
  const body = json(res, hop, 'a token request') as TokenGrant;
  if (typeof body.access_token !== 'string') throw new TunnelError('PROTOCOL', `${hop} granted a token without an access_token.`, { hop });
  return { access: body.access_token, refresh: typeof body.refresh_token === 'string' ? body.refresh_token : undefined, res };
}

/** The refresh token was refused: only a new login helps. The message is UAA's own reason. */
export class LoginExpired extends TunnelError {}

/** A user's tokens: the refresh token is the only lasting secret; access tokens come and go. */
export class UaaTokens {
  private access: string | undefined;
  /** Told each time UAA hands out a new refresh token, so a kept copy can follow it. */
  onNewRefreshToken: ((tokens: { refresh: string; access: string }) => void) | undefined;

  constructor(
    private readonly endpoints: UaaEndpoints,
    private refresh: string,
    access: string | undefined,
    private readonly http: () => HttpOptions,
  ) {
    this.access = access;
    rememberSecret(refresh);
    rememberSecret(access);
  }

  /** Logs in with the password grant; the password is used once and not kept. */
  static async login(endpoints: UaaEndpoints, username: string, password: string, http: HttpOptions): Promise<UaaTokens> {
    const { access, refresh, res } = await grant(endpoints, { grant_type: 'password', username, password }, http);
    if (res.status !== 200) {
      const { description } = oauthError(res);
      const hop = endpoints.loginHop;
      if (res.status === 401 || res.status === 400) throw new TunnelError('AUTH_FAILED', `Login as ${username} failed: ${description}.`, { hop });
      throw new TunnelError('PROTOCOL', `${hop} answered the login with HTTP ${res.status} (${description}).`, { hop });
    }
    if (!refresh) throw new TunnelError('PROTOCOL', `${endpoints.loginHop} granted no refresh token, so the login could not be kept.`, { hop: endpoints.loginHop });
    return new UaaTokens(endpoints, refresh, access, () => http);
  }

  get refreshToken(): string {
    return this.refresh;
  }

  /** A bearer token good for at least another minute. */
  async accessToken(): Promise<string> {
    const exp = this.access ? jwtExpiry(this.access) : undefined;
    const fresh = this.access && (exp === undefined || exp * 1000 - Date.now() > REFRESH_MARGIN_MS);
    if (!fresh) await this.renew();
    return this.access!;
  }

  /** After a 401 invalid_token: the next accessToken() gets a new one. */
  invalidate(): void {
    this.access = undefined;
  }

  private async renew(): Promise<void> {
    const { access, refresh, res } = await grant(this.endpoints, { grant_type: 'refresh_token', refresh_token: this.refresh }, this.http());
    if (res.status !== 200) {
      const { error, description } = oauthError(res);
      const hop = this.endpoints.loginHop;
      if (res.status === 401 || error === 'invalid_token' || error === 'invalid_grant') {
        throw new LoginExpired('AUTH_FAILED', description, { hop });
      }
      throw new TunnelError('PROTOCOL', `${hop} answered the token refresh with HTTP ${res.status} (${description}).`, { hop });
    }
    forgetSecret(this.access);
    this.access = access;
    rememberSecret(access);
    if (refresh && refresh !== this.refresh) {
      forgetSecret(this.refresh);
      rememberSecret(refresh);
      this.refresh = refresh;
      this.onNewRefreshToken?.({ refresh, access: this.access! });
    }
  }

  /** A fresh one-time code for the ssh-proxy (single use, short-lived: one per connection). */
  async sshCode(clientId: string): Promise<string> {
    const hop = this.endpoints.uaaHop;
    for (let attempt = 0; ; attempt++) {
      const res = await request(
        {
          method: 'GET',
          url: `${this.endpoints.uaa.replace(/\/+$/, '')}/oauth/authorize?${new URLSearchParams({ client_id: clientId, response_type: 'code' })}`,
          headers: { authorization: `bearer ${await this.accessToken()}` },
        },
        this.http(),
        hop,
      );
      if (res.status === 401 && attempt === 0) {
        this.invalidate();
        continue;
      }
      const location = res.headers.location;
      const code = res.status < 400 && location ? codeFrom(location) : undefined;
      if (code) {
        rememberSecret(code);
        return code;
      }
      if (res.status === 401 || res.status === 403) {
        throw new TunnelError('AUTH_FAILED', `${hop} refused a one-time SSH code for client "${clientId}" (HTTP ${res.status}: ${oauthError(res).description}).`, { hop });
      }
      throw new TunnelError('PROTOCOL', `${hop} gave no one-time SSH code (HTTP ${res.status}${location ? `, redirect to ${location.split('?')[0]}` : ''}).`, { hop });
    }
  }
}

function codeFrom(location: string): string | undefined {
  try {
    return new URL(location, 'https://uaa.invalid').searchParams.get('code') ?? undefined;
  } catch {
    return undefined;
  }
}
