// The editor's form state and its way back to a profile. Fields hold text as typed; converting
// to a profile input and running the one profile schema gives the same messages the engine and the
// CLI give, keyed by the field path each input is labelled with.
import type { Auth, ClientHint, Endpoint, Forward, Profile, SshProfile } from '../../../app/profiles/schema.js';
import { DEFAULT_BIND_HOST, sshProfileSchema } from '../../../app/profiles/schema.js';
import { parseWith, type FieldError } from '../../../app/profiles/validate.js';

export type AuthMethod = Auth['method'];

export interface EndpointDraft {
  /** Stable React key; not saved. A hop keeps it when moved, so nothing is matched by position. */
  key: string;
  /** The auth of the saved endpoint this draft came from: its secret references travel with the hop. */
  saved?: Auth | undefined;
  host: string;
  port: string;
  user: string;
  authMethod: AuthMethod;
  /** One path per line. */
  keyFiles: string;
}

export interface ForwardDraft {
  /** Stable React key; not saved. */
  key: string;
  type: Forward['type'];
  bindHost: string;
  bindPort: string;
  targetHost: string;
  targetPort: string;
}

export interface ProfileDraft {
  id: string;
  name: string;
  group: string;
  /** Comma-separated. */
  tags: string;
  server: EndpointDraft;
  jumps: EndpointDraft[];
  forwards: ForwardDraft[];
  strict: SshProfile['hostKey']['strict'];
  /** One path per line. */
  knownHostsFiles: string;
  keepaliveInterval: string;
  keepaliveCountMax: string;
  reconnectEnabled: boolean;
  reconnectInitial: string;
  reconnectMax: string;
  connectTimeout: string;
  autoStart: boolean;
  clientKind: ClientHint['kind'] | '';
  clientUser: string;
  clientDatabase: string;
  /** Index as text; empty: the first local forward. */
  clientForward: string;
}

let keys = 0;
export const newKey = (): string => `k${++keys}`;

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const list = (text: string) => text.split(',').map((t) => t.trim()).filter(Boolean);

/** Empty text is "not given" (the schema's default applies); other text becomes a number or NaN. */
function num(text: string): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : Number(t);
}

export function emptyEndpoint(): EndpointDraft {
  return { key: newKey(), host: '', port: '', user: '', authMethod: 'auto', keyFiles: '' };
}

export function emptyForward(type: Forward['type'] = 'local'): ForwardDraft {
  return { key: newKey(), type, bindHost: DEFAULT_BIND_HOST, bindPort: '', targetHost: type === 'remote' ? DEFAULT_BIND_HOST : '', targetPort: '' };
}

export function emptyDraft(): ProfileDraft {
  return {
    id: '',
    name: '',
    group: '',
    tags: '',
    server: emptyEndpoint(),
    jumps: [],
    forwards: [emptyForward()],
    strict: 'ask',
    knownHostsFiles: '',
    keepaliveInterval: '15',
    keepaliveCountMax: '3',
    reconnectEnabled: true,
    reconnectInitial: '1',
    reconnectMax: '60',
    connectTimeout: '15',
    autoStart: false,
    clientKind: '',
    clientUser: '',
    clientDatabase: '',
    clientForward: '',
  };
}

function endpointDraft(e: Endpoint): EndpointDraft {
  const keyFiles = e.auth.method === 'auto' || e.auth.method === 'key' ? e.auth.keyFiles.join('\n') : '';
  return { key: newKey(), saved: e.auth, host: e.host, port: String(e.port), user: e.user ?? '', authMethod: e.auth.method, keyFiles };
}

export function forwardDraft(f: Forward): ForwardDraft {
  return {
    key: newKey(),
    type: f.type,
    bindHost: f.bindHost,
    bindPort: String(f.bindPort),
    targetHost: f.type === 'dynamic' ? '' : f.targetHost,
    targetPort: f.type === 'dynamic' ? '' : String(f.targetPort),
  };
}

export function profileDraft(p: SshProfile): ProfileDraft {
  return {
    id: p.id,
    name: p.name,
    group: p.group ?? '',
    tags: p.tags.join(', '),
    server: endpointDraft(p.server),
    jumps: p.jumps.map(endpointDraft),
    forwards: p.forwards.map(forwardDraft),
    strict: p.hostKey.strict,
    knownHostsFiles: p.hostKey.knownHostsFiles.join('\n'),
    keepaliveInterval: String(p.keepalive.intervalSeconds),
    keepaliveCountMax: String(p.keepalive.countMax),
    reconnectEnabled: p.reconnect.enabled,
    reconnectInitial: String(p.reconnect.initialDelaySeconds),
    reconnectMax: String(p.reconnect.maxDelaySeconds),
    connectTimeout: String(p.connectTimeoutSeconds),
    autoStart: p.autoStart,
    clientKind: p.client?.kind ?? '',
    clientUser: p.client?.user ?? '',
    clientDatabase: p.client?.database ?? '',
    clientForward: p.client?.forwardIndex === undefined ? '' : String(p.client.forwardIndex),
  };
}

/** The auth object for a method; secret references the form does not show are kept from the hop's own saved auth. */
function authInput(d: EndpointDraft, base: Auth | undefined): Record<string, unknown> {
  const kept = base?.method === d.authMethod ? { ...base } : { method: d.authMethod };
  if (d.authMethod === 'auto' || d.authMethod === 'key') return { ...kept, keyFiles: lines(d.keyFiles) };
  return kept;
}

function endpointInput(d: EndpointDraft): Record<string, unknown> {
  return { host: d.host.trim(), port: num(d.port), user: d.user.trim() || undefined, auth: authInput(d, d.saved) };
}

function forwardInput(f: ForwardDraft): Record<string, unknown> {
  const listen = { type: f.type, bindHost: f.bindHost.trim() || undefined, bindPort: num(f.bindPort) };
  return f.type === 'dynamic' ? listen : { ...listen, targetHost: f.targetHost.trim() || undefined, targetPort: num(f.targetPort) };
}

/**
 * The draft as a profile input for the schema. Settings the form does not show (ciphers, a pinned
 * fingerprint, secret references, the backoff reset) are carried over from `base`.
 */
export function draftInput(d: ProfileDraft, base?: SshProfile): Record<string, unknown> {
  const client = d.clientKind
    ? { kind: d.clientKind, user: d.clientUser.trim() || undefined, database: d.clientDatabase.trim() || undefined, forwardIndex: num(d.clientForward) }
    : undefined;
  return {
    ...base,
    kind: 'ssh',
    id: d.id,
    name: d.name,
    group: d.group.trim() || undefined,
    tags: list(d.tags),
    server: endpointInput(d.server),
    jumps: d.jumps.map(endpointInput),
    forwards: d.forwards.map(forwardInput),
    hostKey: { ...base?.hostKey, strict: d.strict, knownHostsFiles: lines(d.knownHostsFiles) },
    keepalive: { intervalSeconds: num(d.keepaliveInterval), countMax: num(d.keepaliveCountMax) },
    reconnect: { ...base?.reconnect, enabled: d.reconnectEnabled, initialDelaySeconds: num(d.reconnectInitial), maxDelaySeconds: num(d.reconnectMax) },
    connectTimeoutSeconds: num(d.connectTimeout),
    autoStart: d.autoStart,
    client,
  };
}

/** Errors keyed by the path of the input that shows them. */
export type FieldErrors = Record<string, string[]>;

/** Lists edited as one text box (tags, key files) show the errors of all their items. */
const LIST_FIELDS = /^(tags|hostKey\.knownHostsFiles|server\.auth\.keyFiles|jumps\[\d+\]\.auth\.keyFiles)\[\d+\]$/;

export function fieldKey(path: string): string {
  const list = LIST_FIELDS.exec(path);
  return list ? list[1]! : path;
}

export function groupErrors(errors: readonly FieldError[]): FieldErrors {
  const out: FieldErrors = {};
  for (const e of errors) (out[fieldKey(e.path)] ??= []).push(e.message);
  return out;
}

export type DraftCheck = { ok: true; profile: SshProfile } | { ok: false; errors: FieldErrors };

export function checkDraft(d: ProfileDraft, base?: SshProfile): DraftCheck {
  const parsed = parseWith(sshProfileSchema, draftInput(d, base));
  return parsed.ok ? { ok: true, profile: parsed.value } : { ok: false, errors: groupErrors(parsed.errors) };
}

/** An id for a new profile from its name, unlike every id in `taken`. */
export function idFor(name: string, taken: ReadonlySet<string>): string {
  const slug =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 56) || 'tunnel';
  if (!taken.has(slug)) return slug;
  for (let n = 2; ; n++) if (!taken.has(`${slug}-${n}`)) return `${slug}-${n}`;
}

export function duplicateOf(p: Profile, taken: ReadonlySet<string>): Profile {
  return { ...p, id: idFor(`${p.id}-copy`, taken), name: `${p.name} (copy)`, autoStart: false };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** A bind address reachable from other machines deserves a word before it is saved. */
export function bindWarning(f: Pick<ForwardDraft, 'type' | 'bindHost'>): string | undefined {
  const host = f.bindHost.trim() || DEFAULT_BIND_HOST;
  if (LOOPBACK.test(host)) return undefined;
  return f.type === 'remote'
    ? `Binding ${host} on the server lets other machines reach this port there (if the server's GatewayPorts allows it).`
    : `Binding ${host} lets other machines on your network connect through this tunnel.`;
}
