// Where a stored secret may be sent. Each secret is kept with the use it was stored for, and served
// only to a request for the same use: a profile that names another profile's reference but points
// elsewhere gets nothing. Both sides (main, which stores and answers; the engine, which asks)
// compute a use with the functions below, so they cannot disagree.
import type { CloudFoundryProfile, Endpoint } from './schema.js';

export type SecretUse =
  /** An SSH hop: the password or key passphrase goes to this server as this user. */
  | { kind: 'ssh'; host: string; port: number; user: string }
  /** A Cloud Foundry login: the refresh token goes to this API's UAA for this user. */
  | { kind: 'cloudfoundry'; api: string; user: string };

/** `defaultUser` is the user an endpoint without one logs in as (OpenSSH: the local user name). */
export function sshSecretUse(endpoint: Pick<Endpoint, 'host' | 'port'> & { user?: string | undefined }, defaultUser: string): SecretUse {
  // Host names are case-insensitive, as OpenSSH treats them; user names are not.
  return { kind: 'ssh', host: endpoint.host.toLowerCase(), port: endpoint.port, user: endpoint.user ?? defaultUser };
}

/** Undefined for a login that keeps nothing (the cf CLI's). */
export function cloudFoundrySecretUse(profile: Pick<CloudFoundryProfile, 'api' | 'login'>): SecretUse | undefined {
  if (profile.login.method !== 'password') return undefined;
  return { kind: 'cloudfoundry', api: canonicalApi(profile.api), user: profile.login.username };
}

/** The URL's own normal form (scheme and host lower-cased, default port dropped), without a trailing slash. */
function canonicalApi(api: string): string {
  try {
    return new URL(api).href.replace(/\/+$/, '');
  } catch {
    return api;
  }
}

export function sameSecretUse(a: SecretUse, b: SecretUse): boolean {
  if (a.kind === 'ssh' && b.kind === 'ssh') return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port && a.user === b.user;
  if (a.kind === 'cloudfoundry' && b.kind === 'cloudfoundry') return a.api === b.api && a.user === b.user;
  return false;
}

/** A use read from a message or a file, checked field by field; undefined when it is not one. */
export function asSecretUse(value: unknown): SecretUse | undefined {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || typeof v.user !== 'string') return undefined;
  if (v.kind === 'ssh' && typeof v.host === 'string' && typeof v.port === 'number' && Number.isInteger(v.port)) return { kind: 'ssh', host: v.host, port: v.port, user: v.user };
  if (v.kind === 'cloudfoundry' && typeof v.api === 'string') return { kind: 'cloudfoundry', api: v.api, user: v.user };
  return undefined;
}
