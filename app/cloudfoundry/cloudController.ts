// Cloud Controller: where the foundation's endpoints are (GET /, else /v2/info), and which
// process and instance of which app a connection goes to, checked the way `cf ssh` checks them.
import { TunnelError } from '../shared/errors.js';
import { checkTransport, hopName, json, request, type HttpOptions, type HttpResponse } from './http.js';
import type { UaaTokens } from './uaa.js';

export interface Discovery {
  /** The v3 API root, e.g. https://api.sys.example.com/v3. */
  v3: string;
  login: string;
  uaa: string;
  /** `host:port` of the ssh-proxy. */
  sshEndpoint: string;
  sshFingerprint: string;
  sshOAuthClient: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const href = (links: Json, name: string) => str(obj(links[name]).href);

export async function discover(api: string, http: HttpOptions): Promise<Discovery> {
  const base = api.replace(/\/+$/, '');
  const hop = hopName('api', api);
  checkTransport(api, 'The API endpoint', http, hop);
  const root = await request({ method: 'GET', url: `${base}/` }, http, hop);
  const links = root.status === 200 ? obj(obj(json(root, hop, 'GET /')).links) : {};
  let found: Omit<Discovery, 'v3'> & { v3?: string };
  if (href(links, 'app_ssh') || href(links, 'cloud_controller_v3')) {
    const ssh = obj(links.app_ssh);
    const meta = obj(ssh.meta);
    found = {
      v3: href(links, 'cloud_controller_v3'),
      login: href(links, 'login') || href(links, 'uaa'),
      uaa: href(links, 'uaa') || href(links, 'login'),
      sshEndpoint: str(ssh.href),
      sshFingerprint: str(meta.host_key_fingerprint),
      sshOAuthClient: str(meta.oauth_client),
    };
  } else {
    // Foundations older than the v3 root document say the same in /v2/info.
    const res = await request({ method: 'GET', url: `${base}/v2/info` }, http, hop);
    if (res.status !== 200) throw new TunnelError('CONFIG_INVALID', `${api} does not look like a Cloud Foundry API: GET / and GET /v2/info answered HTTP ${root.status} and ${res.status}.`, { hop });
    const info = obj(json(res, hop, 'GET /v2/info'));
    found = {
      login: str(info.authorization_endpoint),
      uaa: str(info.token_endpoint) || str(info.authorization_endpoint),
      sshEndpoint: str(info.app_ssh_endpoint),
      sshFingerprint: str(info.app_ssh_host_key_fingerprint),
      sshOAuthClient: str(info.app_ssh_oauth_client),
    };
  }
  if (!found.login) throw new TunnelError('CONFIG_INVALID', `${api} names no login (UAA) endpoint, so Tunnelvision cannot log in.`, { hop });
  // Checked here, before anyone is asked for a password: the answer, not the profile, chose these addresses.
  for (const [role, url] of [['login', found.login], ['UAA', found.uaa], ['v3 API', found.v3]] as const) {
    if (url) checkTransport(url, `The ${role} endpoint that ${api} names`, http, hop);
  }
  if (!found.sshEndpoint) throw new TunnelError('CONFIG_INVALID', 'SSH endpoint not set: this foundation does not offer SSH to apps (app_ssh is empty), so no tunnel through an app is possible.', { hop });
  if (!found.sshFingerprint) throw new TunnelError('CONFIG_INVALID', 'SSH host key fingerprint not set: the foundation does not say which key its ssh-proxy has, so the proxy cannot be verified.', { hop });
  return { ...found, v3: found.v3 || `${base}/v3`, sshOAuthClient: found.sshOAuthClient || 'ssh-proxy' };
}

/** GETs against the v3 API with the user's token; a 401 refreshes the token once and retries. */
export class CloudController {
  readonly hop: string;

  constructor(
    private readonly v3: string,
    private readonly tokens: UaaTokens,
    private readonly http: () => HttpOptions,
  ) {
    this.hop = hopName('api', v3);
  }

  async get(path: string, query: Record<string, string> = {}): Promise<Json> {
    const qs = new URLSearchParams(query).toString();
    return this.getUrl(`${this.v3.replace(/\/+$/, '')}${path}${qs ? `?${qs}` : ''}`);
  }

  /** Every resource of a list, following `pagination.next`. */
  async list(path: string, query: Record<string, string> = {}): Promise<Json[]> {
    const out: Json[] = [];
    let page = await this.get(path, { per_page: '5000', ...query });
    for (;;) {
      out.push(...(Array.isArray(page.resources) ? page.resources.map(obj) : []));
      const next = str(obj(obj(page.pagination).next).href);
      if (!next) return out;
      page = await this.getUrl(next);
    }
  }

  private async getUrl(url: string): Promise<Json> {
    const path = new URL(url).pathname;
    for (let attempt = 0; ; attempt++) {
      const res = await request({ method: 'GET', url, headers: { authorization: `bearer ${await this.tokens.accessToken()}` } }, this.http(), this.hop);
      if (res.status === 401 && attempt === 0) {
        this.tokens.invalidate();
        continue;
      }
      if (res.status === 200) return obj(json(res, this.hop, `GET ${path}`));
      throw this.failure(res, path);
    }
  }

  private failure(res: HttpResponse, path: string): TunnelError {
    let detail = '';
    try {
      const errors = (JSON.parse(res.body) as { errors?: Array<{ detail?: string; title?: string }> }).errors;
      detail = errors?.map((e) => e.detail ?? e.title).filter(Boolean).join('; ') ?? '';
    } catch {
      // Not JSON: the status says enough.
    }
    const why = detail ? `: ${detail}` : '';
    if (res.status === 401 || res.status === 403) return new TunnelError('AUTH_FAILED', `Not allowed to read ${path} (HTTP ${res.status}${why}).`, { hop: this.hop });
    if (res.status === 404) return new TunnelError('CONFIG_INVALID', `${path} does not exist (HTTP 404${why}).`, { hop: this.hop });
    return new TunnelError('PROTOCOL', `GET ${path} failed with HTTP ${res.status}${why}.`, { hop: this.hop });
  }
}

export interface AppInstance {
  appGuid: string;
  appName: string;
  processGuid: string;
  index: number;
}

export interface Wanted {
  org: string;
  space: string;
  app: string;
  instance: number;
  /** False once a session was open: a stopped app or a missing instance may be a restart in progress. */
  firstConnect: boolean;
}

function names(resources: Json[]): string {
  const all = resources.map((r) => str(r.name)).filter(Boolean).sort();
  return all.length ? all.map((n) => `"${n}"`).join(', ') : 'none';
}

/** org → space → STARTED app → web process → RUNNING instance → SSH allowed; each miss said plainly. */
export async function resolveInstance(cc: CloudController, w: Wanted): Promise<AppInstance> {
  const hop = cc.hop;
  const [org] = await cc.list('/organizations', { names: w.org });
  if (!org) throw new TunnelError('CONFIG_INVALID', `There is no org "${w.org}" that you can see. Orgs you can see: ${names(await cc.list('/organizations'))}.`, { hop });
  const orgGuid = str(org.guid);
  const [space] = await cc.list('/spaces', { names: w.space, organization_guids: orgGuid });
  if (!space) throw new TunnelError('CONFIG_INVALID', `Org "${w.org}" has no space "${w.space}" that you can see. Its spaces: ${names(await cc.list('/spaces', { organization_guids: orgGuid }))}.`, { hop });
  const spaceGuid = str(space.guid);
  const [app] = await cc.list('/apps', { names: w.app, space_guids: spaceGuid });
  if (!app) throw new TunnelError('CONFIG_INVALID', `Space "${w.space}" has no app "${w.app}". Its apps: ${names(await cc.list('/apps', { space_guids: spaceGuid }))}.`, { hop });
  const appGuid = str(app.guid);
  // Stopped, or between the stop and the start of a restart: fatal only when nothing ever worked.
  const transient = w.firstConnect ? 'CONFIG_INVALID' : 'CONNECTION_LOST';
  if (str(app.state) !== 'STARTED') {
    throw new TunnelError(transient, `App "${w.app}" is ${str(app.state) || 'not started'}, so it has no container to tunnel through. Start it (cf start ${w.app}).`, { hop });
  }
  const processes = await cc.list(`/apps/${appGuid}/processes`);
  const web = processes.find((p) => str(p.type) === 'web');
  if (!web) throw new TunnelError('CONFIG_INVALID', `App "${w.app}" has no web process (it has: ${processes.map((p) => str(p.type)).join(', ') || 'none'}).`, { hop });
  const processGuid = str(web.guid);
  const stats = await cc.get(`/processes/${processGuid}/stats`);
  const instances = (Array.isArray(stats.resources) ? stats.resources : []).map(obj);
  const instance = instances.find((i) => i.index === w.instance);
  if (!instance) {
    const have = instances.map((i) => String(i.index)).join(', ');
    throw new TunnelError(transient, `Instance ${w.instance} of process web not found: app "${w.app}" has ${instances.length} instance${instances.length === 1 ? '' : 's'}${have ? ` (${have})` : ''}.`, { hop });
  }
  if (str(instance.state) !== 'RUNNING') {
    throw new TunnelError('CONNECTION_LOST', `Instance ${w.instance} of process web is not running (it is ${str(instance.state) || 'in no known state'}).`, { hop });
  }
  const ssh = await cc.get(`/apps/${appGuid}/ssh_enabled`);
  if (ssh.enabled !== true) {
    // The proxy itself would only say "authentication failed": this is the one place the reason is known.
    throw new TunnelError('AUTH_FAILED', `SSH to app "${w.app}" is not allowed: ${str(ssh.reason) || 'the platform gives no reason'}.`, { hop });
  }
  return { appGuid, appName: w.app, processGuid, index: w.instance };
}
