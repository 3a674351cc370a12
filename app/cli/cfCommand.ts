// `tunnelvision cf …`: what `cf ssh APP -N -L port:DBHOST:3306` does, with DBHOST read from the
// app's bound service instead of dug out of `cf env` by hand.
import { parseForwardSpec } from '../profiles/forwardSpec.js';
import { DEFAULT_BIND_HOST, cloudFoundryProfileSchema, type CloudFoundryProfile } from '../profiles/schema.js';
import { parseWith, type FieldError, type Parsed } from '../profiles/validate.js';

export interface CfFlags {
  api?: string;
  org?: string;
  space?: string;
  app?: string;
  instance?: string;
  service?: string;
  local?: string;
  username?: string;
  skipSslValidation: boolean;
  allowInsecureHttp: boolean;
  reconnect: boolean;
}

/** `-L [bind:]port` forwards to the service; `-L [bind:]port:host:hostport` to a host of your choosing. */
function localSpec(spec: string, errors: FieldError[]): { bindHost: string; bindPort: number; target?: { host: string; port: number } } | undefined {
  const short = /^(?:(\[[^\]]+\]|[^:[\]]*):)?(\d+)$/.exec(spec);
  if (short) {
    const bind = short[1] === undefined ? DEFAULT_BIND_HOST : short[1] === '' || short[1] === '*' ? '0.0.0.0' : short[1].replace(/^\[|\]$/g, '');
    return { bindHost: bind, bindPort: Number(short[2]) };
  }
  const full = parseForwardSpec('local', spec);
  if (!full.ok) {
    errors.push(...full.errors.map((e) => ({ ...e, path: `-L ${e.path}`.trim() })));
    return undefined;
  }
  const f = full.value;
  if (f.type !== 'local') return undefined;
  return { bindHost: f.bindHost, bindPort: f.bindPort, target: { host: f.targetHost, port: f.targetPort } };
}

const FLAG_OF: Record<string, string> = { api: '--api', org: '--org', space: '--space', app: '--app', instance: '--instance', service: '--service', target: '-L', local: '-L', 'login.username': '--username' };

export function cfPlan(f: CfFlags): Parsed<CloudFoundryProfile> {
  const errors: FieldError[] = [];
  for (const [flag, value] of [['--api', f.api], ['--org', f.org], ['--space', f.space], ['--app', f.app]] as const) {
    if (!value) errors.push({ path: flag, message: 'is required' });
  }
  if (!f.local) errors.push({ path: '-L', message: 'is required: the local port, as -L [bind_address:]port' });
  const local = f.local ? localSpec(f.local, errors) : undefined;
  if (local && !local.target && !f.service) errors.push({ path: '--service', message: 'is required: the name of a service bound to the app (or give -L port:host:hostport)' });
  if (local?.target && f.service) errors.push({ path: '--service', message: 'cannot be combined with -L port:host:hostport, which already names the target' });
  if (f.instance !== undefined && !/^\d+$/.test(f.instance)) errors.push({ path: '--instance', message: `must be a whole number, not "${f.instance}"` });
  if (errors.length) return { ok: false, errors };
  const parsed = parseWith(cloudFoundryProfileSchema, {
    kind: 'cloudfoundry',
    id: `cli-cf-${f.app}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64),
    name: `${f.app} (${f.org}/${f.space})`,
    api: f.api,
    org: f.org,
    space: f.space,
    app: f.app,
    ...(f.instance !== undefined ? { instance: Number(f.instance) } : {}),
    ...(local?.target ? { target: local.target } : { service: f.service }),
    local: { bindHost: local!.bindHost, bindPort: local!.bindPort },
    skipSslValidation: f.skipSslValidation,
    allowInsecureHttp: f.allowInsecureHttp,
    login: f.username ? { method: 'password', username: f.username } : { method: 'cf-cli' },
    reconnect: { enabled: f.reconnect },
  });
  if (parsed.ok) return parsed;
  const plainHttp = !f.allowInsecureHttp && /^http:/i.test(f.api ?? '');
  return {
    ok: false,
    errors: parsed.errors.map((e) =>
      e.path === 'api' && plainHttp
        ? { path: '--api', message: 'is plain http, so the password and tokens would travel in clear: use the https:// address, or (lab foundations without TLS only) add --allow-insecure-http' }
        : { path: FLAG_OF[e.path] ?? FLAG_OF[e.path.split('.')[0]!] ?? e.path, message: e.message },
    ),
  };
}
