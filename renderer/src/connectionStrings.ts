// "Copy connection string" for an open tunnel: the command lines and URLs a person pastes into a
// client, pointed at the tunnel's local end. Pure, so each format is tested exactly.
import type { ClientHint, Profile } from '../../app/profiles/schema.js';
import { hostPort } from '../../app/shared/address.js';

export interface ConnectionString {
  label: string;
  value: string;
}

export interface LocalEndpoint {
  host: string;
  port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '*', '']);

/** A listener on every interface is reached through loopback from this machine. */
function connectHost(bindHost: string): string {
  if (!WILDCARDS.has(bindHost)) return bindHost;
  return bindHost === '::' ? '::1' : '127.0.0.1';
}

/** Quoted for a POSIX shell only when it has to be. */
function sh(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

function urlAuthority(host: string, port: number, user: string | undefined): string {
  return `${user ? `${encodeURIComponent(user)}@` : ''}${urlHost(host)}:${port}`;
}

const pathPart = (db: string | undefined) => (db ? `/${encodeURIComponent(db)}` : '');

function jdbc(scheme: string, host: string, port: number, hint: ClientHint): string {
  const query = hint.user ? `?user=${encodeURIComponent(hint.user)}` : '';
  return `jdbc:${scheme}://${urlHost(host)}:${port}${pathPart(hint.database)}${query}`;
}

function mysql(host: string, port: number, hint: ClientHint): ConnectionString[] {
  const args = ['mysql', '-h', host, '-P', String(port), ...(hint.user ? ['-u', hint.user, '-p'] : []), ...(hint.database ? [hint.database] : [])];
  return [
    { label: 'mysql command', value: args.map(sh).join(' ') },
    { label: 'MySQL URL', value: `mysql://${urlAuthority(host, port, hint.user)}${pathPart(hint.database)}` },
    { label: 'JDBC URL', value: jdbc('mysql', host, port, hint) },
  ];
}

function postgres(host: string, port: number, hint: ClientHint): ConnectionString[] {
  const args = ['psql', '-h', host, '-p', String(port), ...(hint.user ? ['-U', hint.user] : []), ...(hint.database ? ['-d', hint.database] : [])];
  return [
    { label: 'psql command', value: args.map(sh).join(' ') },
    { label: 'PostgreSQL URL', value: `postgresql://${urlAuthority(host, port, hint.user)}${pathPart(hint.database)}` },
    { label: 'JDBC URL', value: jdbc('postgresql', host, port, hint) },
  ];
}

function redis(host: string, port: number, hint: ClientHint): ConnectionString[] {
  const db = hint.database && /^\d+$/.test(hint.database) ? hint.database : undefined;
  const args = ['redis-cli', '-h', host, '-p', String(port), ...(hint.user ? ['--user', hint.user, '--askpass'] : []), ...(db ? ['-n', db] : [])];
  return [
    { label: 'redis-cli command', value: args.map(sh).join(' ') },
    { label: 'Redis URL', value: `redis://${urlAuthority(host, port, hint.user)}${db ? `/${db}` : ''}` },
  ];
}

function http(host: string, port: number, hint: ClientHint): ConnectionString[] {
  const path = hint.database ? `/${hint.database.replace(/^\/+/, '')}` : '/';
  const url = `http://${urlHost(host)}:${port}${path}`;
  return [
    { label: 'URL', value: url },
    { label: 'curl command', value: `curl ${sh(url)}` },
  ];
}

const RENDER = { mysql, postgres, redis, http } as const;

/** The local forward a client hint describes: the one it names, else the first local forward. */
export function hintedForwardIndex(profile: Profile): number {
  if (profile.kind !== 'ssh') return 0;
  if (profile.client?.forwardIndex !== undefined) return profile.client.forwardIndex;
  return profile.forwards.findIndex((f) => f.type === 'local');
}

/**
 * The strings for a profile's client hint. `local` is where the forward really listens (the port
 * the engine bound); empty when there is no hint or the hint points at a forward that is not -L.
 */
export function connectionStrings(profile: Profile, local?: LocalEndpoint): ConnectionString[] {
  const hint = profile.kind === 'ssh' ? profile.client : undefined;
  if (profile.kind !== 'ssh' || !hint) return [];
  const forward = profile.forwards[hintedForwardIndex(profile)];
  if (forward?.type !== 'local') return [];
  const host = connectHost(local?.host ?? forward.bindHost);
  return RENDER[hint.kind](host, local?.port ?? forward.bindPort, hint);
}

/** `127.0.0.1:13306`, as a person types it into a client. */
export const endpointText = (e: LocalEndpoint): string => hostPort(connectHost(e.host), e.port);
