// Which host:port a bound service lives at, read as the app itself would read it: VCAP_SERVICES
// from the app's environment, or (apps on file-based service bindings) the credential bindings.
import { TunnelError } from '../shared/errors.js';
import type { CloudController } from './cloudController.js';
import { REDACTED_KEY, isRedacted, parseVcapServices, readCredentials, type ServiceCredentials, type ServiceInstance } from './vcap.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

export async function findService(cc: CloudController, appGuid: string, appName: string, service: string): Promise<ServiceCredentials> {
  const hop = cc.hop;
  const env = await cc.get(`/apps/${appGuid}/env`);
  const system = obj(env.system_env_json);
  if (isRedacted(system)) {
    throw new TunnelError(
      'AUTH_FAILED',
      `The environment of app "${appName}" is hidden from you (${String(system[REDACTED_KEY])}), so the credentials of service "${service}" cannot be read. ` +
        'Reading them needs the Space Developer role in its space; or give the service\'s host and port yourself.',
      { hop },
    );
  }
  const vcap = parseVcapServices(system.VCAP_SERVICES);
  const instances: Bound[] = vcap ? vcap.map((i) => ({ ...i, credentials: () => Promise.resolve(i.credentials) })) : await fromBindings(cc, appGuid);
  const found = instances.find((i) => i.name === service);
  if (!found) {
    const known = instances.map((i) => `"${i.name}" (${i.label})`).sort();
    throw new TunnelError('CONFIG_INVALID', `App "${appName}" has no service "${service}" bound. ${known.length ? `Services bound to it: ${known.join(', ')}.` : 'It has no services bound.'}`, { hop });
  }
  const credentials = await found.credentials();
  const creds = readCredentials({ ...found, credentials });
  if (!creds.ok) throw new TunnelError(isRedacted(credentials) ? 'AUTH_FAILED' : 'CONFIG_INVALID', `Service "${service}" of app "${appName}" cannot be reached: ${creds.reason}.`, { hop });
  return creds.value;
}

/** An instance whose credentials are fetched only if it is the one wanted. */
type Bound = Omit<ServiceInstance, 'credentials'> & { credentials(): Promise<Record<string, unknown>> };

async function fromBindings(cc: CloudController, appGuid: string): Promise<Bound[]> {
  const page = await cc.get('/service_credential_bindings', { app_guids: appGuid, type: 'app', include: 'service_instance', per_page: '5000' });
  const bindings = (Array.isArray(page.resources) ? page.resources : []).map(obj);
  const instances = new Map(
    (Array.isArray(obj(page.included).service_instances) ? (obj(page.included).service_instances as unknown[]) : []).map(obj).map((si) => [String(si.guid), si]),
  );
  const out: Bound[] = [];
  for (const b of bindings) {
    const si = instances.get(String(obj(obj(obj(b.relationships).service_instance).data).guid ?? ''));
    const name = typeof si?.name === 'string' ? si.name : typeof b.name === 'string' ? b.name : undefined;
    if (!name) continue;
    const label = si?.type === 'user-provided' ? 'user-provided' : 'managed';
    out.push({ name, label, tags: [], credentials: async () => obj((await cc.get(`/service_credential_bindings/${String(b.guid)}/details`)).credentials) });
  }
  return out;
}
