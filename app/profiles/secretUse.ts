// Where a stored secret may be sent. Each secret is kept with the use it was stored for, and served
// only to a request for the same use: a profile that names another profile's reference but points
// elsewhere gets nothing. Both sides (main, which stores and answers; the engine, which asks)
// compute a use with the functions below, so they cannot disagree.
//
// A name is not an identity: a profile can reach "the same" host, port and user through a jump host
// that routes the last hop elsewhere, trust whatever key answers (accept-new, a fresh known_hosts
// file), or talk to a foundation over unverified TLS. So an SSH use also names the host key the
// server proved when the secret was stored, and a Cloud Foundry use whether TLS was verified.
import type { CloudFoundryProfile, Endpoint } from './schema.js';

export type SecretUse =
  /**
   * An SSH hop: the password or key passphrase goes to this server as this user, and only once the
   * server has proved the host key whose `SHA256:` fingerprint is `hostKey` (the hash of the whole
   * key blob, so the key type is covered too).
   */
  | { kind: 'ssh'; host: string; port: number; user: string; hostKey: string }
  /**
   * A Cloud Foundry login: the refresh token goes to this API's UAA for this user. `verified`: https
   * with the certificate checked throughout; `unverified`: the profile skips TLS validation or
   * allows plain http, so anyone on the path could have been talking.
   */
  | { kind: 'cloudfoundry'; api: string; user: string; transport: CfTransport };

export type CfTransport = 'verified' | 'unverified';

type SshDestination = Pick<Endpoint, 'host' | 'port'> & { user?: string | undefined };

/**
 * `defaultUser` is the user an endpoint without one logs in as (OpenSSH: the local user name);
 * `hostKey` the `SHA256:` fingerprint of the key this server proved in this connection's handshake.
 */
export function sshSecretUse(endpoint: SshDestination, defaultUser: string, hostKey: string): SecretUse {
  // Host names are case-insensitive, as OpenSSH treats them; user names are not.
  return { kind: 'ssh', host: endpoint.host.toLowerCase(), port: endpoint.port, user: endpoint.user ?? defaultUser, hostKey };
}

/** Whether two endpoints, as written in profiles, name the same host, port and user. */
export function sameSshDestination(a: SshDestination, b: SshDestination): boolean {
  return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port && a.user === b.user;
}

/** Undefined for a login that keeps nothing (the cf CLI's). */
export function cloudFoundrySecretUse(profile: Pick<CloudFoundryProfile, 'api' | 'login' | 'skipSslValidation' | 'allowInsecureHttp'>): SecretUse | undefined {
  if (profile.login.method !== 'password') return undefined;
  const transport: CfTransport = profile.skipSslValidation || profile.allowInsecureHttp ? 'unverified' : 'verified';
  return { kind: 'cloudfoundry', api: canonicalApi(profile.api), user: profile.login.username, transport };
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
  if (a.kind === 'ssh' && b.kind === 'ssh') return sameSshDestination(a, b) && a.hostKey === b.hostKey;
  if (a.kind === 'cloudfoundry' && b.kind === 'cloudfoundry') return a.api === b.api && a.user === b.user && a.transport === b.transport;
  return false;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/**
 * A use read from a message or a file, checked field by field; undefined when it is not one. A use
 * recorded before host keys and TLS modes were (no `hostKey`, no `transport`) is not one: nobody can
 * say which server proved itself, so its secret is never served and the person types it once more.
 */
export function asSecretUse(value: unknown): SecretUse | undefined {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || typeof v.user !== 'string') return undefined;
  if (v.kind === 'ssh' && typeof v.host === 'string' && typeof v.port === 'number' && Number.isInteger(v.port) && typeof v.hostKey === 'string' && FINGERPRINT.test(v.hostKey)) {
    return { kind: 'ssh', host: v.host, port: v.port, user: v.user, hostKey: v.hostKey };
  }
  if (v.kind === 'cloudfoundry' && typeof v.api === 'string' && (v.transport === 'verified' || v.transport === 'unverified')) return { kind: 'cloudfoundry', api: v.api, user: v.user, transport: v.transport };
  return undefined;
}
