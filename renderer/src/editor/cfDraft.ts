// The Cloud Foundry editor's form state and its way back to a profile, checked by the same
// cloudFoundryProfileSchema the engine and the CLI use, so the messages are theirs.
import { DEFAULT_BIND_HOST, cloudFoundryProfileSchema, type CloudFoundryProfile } from '../../../app/profiles/schema.js';
import { parseWith } from '../../../app/profiles/validate.js';
import { bindWarning, groupErrors, type FieldErrors } from './draft.js';

export interface CfDraft {
  id: string;
  name: string;
  group: string;
  /** Comma-separated. */
  tags: string;
  api: string;
  org: string;
  space: string;
  app: string;
  instance: string;
  /** A bound service by name, or a host:port the container dials. */
  targetMode: 'service' | 'manual';
  service: string;
  targetHost: string;
  targetPort: string;
  bindHost: string;
  bindPort: string;
  skipSslValidation: boolean;
  /** Lab foundations without TLS: an http:// API, login or UAA. */
  allowInsecureHttp: boolean;
  loginMethod: 'cf-cli' | 'password';
  /** Where the cf CLI keeps .cf/config.json; empty: $CF_HOME or the home directory. */
  cfHome: string;
  username: string;
  reconnectEnabled: boolean;
  connectTimeout: string;
  autoStart: boolean;
}

const list = (text: string) => text.split(',').map((t) => t.trim()).filter(Boolean);

function num(text: string): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : Number(t);
}

export function emptyCfDraft(): CfDraft {
  return {
    id: '',
    name: '',
    group: '',
    tags: '',
    api: '',
    org: '',
    space: '',
    app: '',
    instance: '0',
    targetMode: 'service',
    service: '',
    targetHost: '',
    targetPort: '',
    bindHost: DEFAULT_BIND_HOST,
    bindPort: '',
    skipSslValidation: false,
    allowInsecureHttp: false,
    loginMethod: 'cf-cli',
    cfHome: '',
    username: '',
    reconnectEnabled: true,
    connectTimeout: '30',
    autoStart: false,
  };
}

export function cfDraft(p: CloudFoundryProfile): CfDraft {
  return {
    id: p.id,
    name: p.name,
    group: p.group ?? '',
    tags: p.tags.join(', '),
    api: p.api,
    org: p.org,
    space: p.space,
    app: p.app,
    instance: String(p.instance),
    targetMode: p.target ? 'manual' : 'service',
    service: p.service ?? '',
    targetHost: p.target?.host ?? '',
    targetPort: p.target ? String(p.target.port) : '',
    bindHost: p.local.bindHost,
    bindPort: String(p.local.bindPort),
    skipSslValidation: p.skipSslValidation,
    allowInsecureHttp: p.allowInsecureHttp,
    loginMethod: p.login.method,
    cfHome: p.login.method === 'cf-cli' ? (p.login.cfHome ?? '') : '',
    username: p.login.method === 'password' ? p.login.username : '',
    reconnectEnabled: p.reconnect.enabled,
    connectTimeout: String(p.connectTimeoutSeconds),
    autoStart: p.autoStart,
  };
}

/**
 * The draft as a profile input. Settings the form does not show (keepalive, backoff details) come
 * from `base`; a saved refresh token is kept while the login stays the same user's.
 */
export function cfDraftInput(d: CfDraft, base?: CloudFoundryProfile): Record<string, unknown> {
  const keptToken = base?.login.method === 'password' && base.login.username === d.username.trim() ? base.login.refreshTokenRef : undefined;
  const login =
    d.loginMethod === 'cf-cli'
      ? { method: 'cf-cli', cfHome: d.cfHome.trim() || undefined }
      : { method: 'password', username: d.username, ...(keptToken ? { refreshTokenRef: keptToken } : {}) };
  return {
    ...base,
    kind: 'cloudfoundry',
    id: d.id,
    name: d.name,
    group: d.group.trim() || undefined,
    tags: list(d.tags),
    api: d.api.trim(),
    org: d.org,
    space: d.space,
    app: d.app,
    instance: num(d.instance),
    service: d.targetMode === 'service' ? d.service : undefined,
    target: d.targetMode === 'manual' ? { host: d.targetHost.trim() || undefined, port: num(d.targetPort) } : undefined,
    local: { bindHost: d.bindHost.trim() || undefined, bindPort: num(d.bindPort) },
    skipSslValidation: d.skipSslValidation,
    allowInsecureHttp: d.allowInsecureHttp,
    login,
    reconnect: { ...base?.reconnect, enabled: d.reconnectEnabled },
    connectTimeoutSeconds: num(d.connectTimeout),
    autoStart: d.autoStart,
  };
}

export type CfDraftCheck = { ok: true; profile: CloudFoundryProfile } | { ok: false; errors: FieldErrors };

export function checkCfDraft(d: CfDraft, base?: CloudFoundryProfile): CfDraftCheck {
  const parsed = parseWith(cloudFoundryProfileSchema, cfDraftInput(d, base));
  if (parsed.ok) return { ok: true, profile: parsed.value };
  const errors = groupErrors(parsed.errors);
  // The schema names the profile field; here the person needs the checkbox.
  if (errors.api && !d.allowInsecureHttp && /^http:/i.test(d.api.trim())) errors.api = [PLAIN_HTTP_ERROR];
  return { ok: false, errors };
}

/** The local end's warning, as for an SSH forward. */
export const cfBindWarning = (d: Pick<CfDraft, 'bindHost'>): string | undefined => bindWarning({ type: 'local', bindHost: d.bindHost });

export const SKIP_TLS_WARNING =
  'Tunnelvision will not check who answers at this API endpoint: anyone on the network path can pose as the foundation and receive your login. Use it only for a lab foundation with a self-signed certificate.';

export const PLAIN_HTTP_ERROR = 'is plain http, so your password and tokens would travel in clear: use the https:// address, or (lab foundations without TLS only) tick "Allow plain http" below.';

export const PLAIN_HTTP_WARNING =
  'Your password and tokens will travel in clear to this foundation: anyone on the network path can read them and act as you. Every connect logs a warning. Use it only for a lab foundation without TLS.';
