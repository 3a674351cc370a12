// What a person pastes into a terminal or a database tool to reach a service through the local
// end of the tunnel. The password appears only when asked for explicitly.
import type { ServiceConnection } from '../engine/tunnel.js';
import type { ServiceCredentials } from './vcap.js';

const MYSQL_HINT = /mysql|maria|cleardb/i;

/** True for services that speak the MySQL protocol, judged by label, tags and URI scheme. */
export function isMysql(c: ServiceCredentials): boolean {
  return [c.label, ...c.tags, c.uri?.split(':')[0] ?? ''].some((s) => MYSQL_HINT.test(s));
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function mysqlConnection(c: ServiceCredentials, local: { host: string; port: number }, withPassword = false): ServiceConnection {
  const user = c.username;
  const db = c.database;
  const password = withPassword ? c.password : undefined;
  const hostArg = local.host.includes(':') ? `[${local.host}]` : local.host;
  const command = ['mysql', '-h', local.host, '-P', String(local.port), ...(user ? ['-u', shellQuote(user)] : []), password !== undefined ? shellQuote(`-p${password}`) : '-p', ...(db ? [shellQuote(db)] : [])].join(' ');
  const userInfo = user ? `${encodeURIComponent(user)}${password !== undefined ? `:${encodeURIComponent(password)}` : ''}@` : '';
  const path = db ? `/${encodeURIComponent(db)}` : '/';
  const params = new URLSearchParams({ ...(user ? { user } : {}), ...(password !== undefined ? { password } : {}) }).toString();
  return {
    name: c.name,
    host: c.host,
    ...(user ? { user } : {}),
    ...(db ? { database: db } : {}),
    command,
    uri: `mysql://${userInfo}${hostArg}:${local.port}${path}`,
    jdbcUrl: `jdbc:mysql://${hostArg}:${local.port}${path}${params ? `?${params}` : ''}`,
  };
}
