// Service credentials as Cloud Foundry hands them to an app (VCAP_SERVICES, or a service
// credential binding's details). Offerings disagree on the shape, so everything is read
// defensively: host from hostname, host or the URI; port from port (a string for ClearDB) or the
// URI, else 3306; database from name or the URI's path.

export interface ServiceInstance {
  /** The service instance's name, as `cf bind-service` used it. */
  name: string;
  label: string;
  tags: string[];
  credentials: Record<string, unknown>;
}

export interface ServiceCredentials {
  name: string;
  label: string;
  tags: string[];
  host: string;
  port: number;
  database?: string;
  username?: string;
  password?: string;
  uri?: string;
  /** PEM of the CA that signed the server's certificate, when the offering uses TLS. */
  tlsCa?: string;
}

const DEFAULT_PORT = 3306;
/** What Cloud Controller puts in place of data the user may not read. */
export const REDACTED_KEY = 'redacted_message';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function isRedacted(v: unknown): boolean {
  return isObject(v) && typeof v[REDACTED_KEY] === 'string';
}

/**
 * Every service instance in a VCAP_SERVICES value (an object keyed by label, or that object as a
 * JSON string, as apps see it). Undefined when there is no VCAP_SERVICES at all.
 */
export function parseVcapServices(raw: unknown): ServiceInstance[] | undefined {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (!isObject(value)) return undefined;
  const out: ServiceInstance[] = [];
  for (const [label, entries] of Object.entries(value)) {
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      if (!isObject(entry)) continue;
      const name = text(entry.instance_name) ?? text(entry.name);
      if (!name) continue;
      out.push({
        name,
        label: text(entry.label) ?? label,
        tags: Array.isArray(entry.tags) ? entry.tags.filter((t): t is string => typeof t === 'string') : [],
        credentials: isObject(entry.credentials) ? entry.credentials : {},
      });
    }
  }
  return out;
}

function parseUri(uri: string | undefined): URL | undefined {
  if (!uri) return undefined;
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** The credentials of one instance, or why they cannot be used. */
export function readCredentials(instance: ServiceInstance): { ok: true; value: ServiceCredentials } | { ok: false; reason: string } {
  const c = instance.credentials;
  if (isRedacted(c)) return { ok: false, reason: `the credentials of service "${instance.name}" are hidden from you (${String(c[REDACTED_KEY])})` };
  const uri = text(c.uri);
  const parsed = parseUri(uri);
  const host = text(c.hostname) ?? text(c.host) ?? (parsed?.hostname ? parsed.hostname.replace(/^\[|\]$/g, '') : undefined);
  if (!host) return { ok: false, reason: `the credentials of service "${instance.name}" name no host (no hostname, host or uri field)` };
  const rawPort = c.port ?? (parsed?.port ? parsed.port : undefined) ?? DEFAULT_PORT;
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: `the credentials of service "${instance.name}" give port "${String(rawPort)}", which is not a port number` };
  const pathDb = parsed ? decodeURIComponent(parsed.pathname.replace(/^\//, '')) : '';
  const database = text(c.name) ?? (pathDb || undefined);
  const username = text(c.username) ?? text(c.user) ?? (parsed?.username ? decodeURIComponent(parsed.username) : undefined);
  const password = text(c.password) ?? (parsed?.password ? decodeURIComponent(parsed.password) : undefined);
  const tls = isObject(c.tls) && isObject(c.tls.cert) ? text(c.tls.cert.ca) : undefined;
  return {
    ok: true,
    value: {
      name: instance.name,
      label: instance.label,
      tags: instance.tags,
      host,
      port,
      ...(database ? { database } : {}),
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(uri ? { uri } : {}),
      ...(tls ? { tlsCa: tls } : {}),
    },
  };
}
