// OpenSSH's -L/-R/-D/-J argument syntax, so the CLI and ssh_config import read forwards exactly as
// `ssh` would, and a profile's forwards can be shown back in that same syntax.
import { DEFAULT_BIND_HOST, endpointSchema, forwardSchema, type Forward } from './schema.js';
import { parseWith, type FieldError, type Parsed } from './validate.js';

type ForwardKind = Forward['type'];

export interface JumpTarget {
  host: string;
  port?: number;
  user?: string;
}

const FLAG: Record<ForwardKind, string> = { local: '-L', remote: '-R', dynamic: '-D' };

const SYNTAX: Record<ForwardKind, string> = {
  local: '[bind_address:]port:host:hostport',
  remote: '[bind_address:]port:host:hostport',
  dynamic: '[bind_address:]port',
};

/** How many fields a spec has without and with its optional bind address. */
const ARITY: Record<ForwardKind, readonly [number, number]> = { local: [3, 4], remote: [3, 4], dynamic: [1, 2] };

/** bind_address `*` or empty asks for every interface (ssh -L :8080:… / -L *:8080:…). */
const ALL_INTERFACES = '0.0.0.0';

const jumpHopSchema = endpointSchema.pick({ host: true, port: true, user: true });

function failure(message: string, path = ''): { ok: false; errors: FieldError[] } {
  return { ok: false, errors: [{ path, message }] };
}

/** Schema messages name the field; the spec in brackets says which of several flags it came from. */
function withContext<T>(parsed: Parsed<T>, label: string): Parsed<T> {
  if (parsed.ok) return parsed;
  return { ok: false, errors: parsed.errors.map((e) => ({ path: e.path, message: `${e.message} (${label})` })) };
}

/** Digits become a number; anything else stays a string for notNumbers to report. */
function toPort(field: string | undefined): unknown {
  return field !== undefined && /^\d+$/.test(field) ? Number(field) : field;
}

/**
 * Checked before the schema: parseWith reports every wrong-type value as "is required", because
 * zod 4 leaves the input out of its issues.
 */
function notNumbers(raw: Record<string, unknown>, fields: readonly string[], label: string, prefix = ''): FieldError[] {
  return fields
    .filter((field) => typeof raw[field] === 'string')
    .map((field) => ({ path: `${prefix}${field}`, message: `must be a number (${label})` }));
}

function unbracket(field: string): string {
  return field.startsWith('[') && field.endsWith(']') ? field.slice(1, -1) : field;
}

/** Colon-separated fields as OpenSSH's parse_fwd_field reads them: `[…]` is taken literally. */
function colonFields(spec: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let end: number;
    if (spec[i] === '[') {
      const close = spec.indexOf(']', i);
      if (close < 0) return undefined;
      fields.push(spec.slice(i + 1, close));
      end = close + 1;
      if (end < spec.length && spec[end] !== ':') return undefined;
    } else {
      const colon = spec.indexOf(':', i);
      end = colon < 0 ? spec.length : colon;
      fields.push(spec.slice(i, end));
    }
    if (end >= spec.length) return fields;
    i = end + 1;
  }
}

/**
 * The older `::1/8080/db/3306` form. A `/` also marks a Unix-socket path, so the slash form is
 * taken only when splitting on `/` leaves numeric ports where the syntax puts them.
 */
function slashFields(kind: ForwardKind, spec: string): string[] | undefined {
  const fields = spec.split('/');
  const portsFromEnd = kind === 'dynamic' ? [1] : [1, 3];
  const fits =
    fields.length > 1 && ARITY[kind].includes(fields.length) && portsFromEnd.every((back) => /^\d+$/.test(fields.at(-back) ?? ''));
  return fits ? fields.map(unbracket) : undefined;
}

function bindAddress(field: string): string {
  return field === '' || field === '*' ? ALL_INTERFACES : field;
}

function assemble(kind: ForwardKind, fields: readonly string[]): Record<string, unknown> | undefined {
  const [short, long] = ARITY[kind];
  if (fields.length !== short && fields.length !== long) return undefined;
  const hasBind = fields.length === long;
  const [port, host, hostPort] = hasBind ? fields.slice(1) : fields;
  const listen = { type: kind, bindPort: toPort(port), ...(hasBind ? { bindHost: bindAddress(fields[0] ?? '') } : {}) };
  return kind === 'dynamic' ? listen : { ...listen, targetHost: host, targetPort: toPort(hostPort) };
}

/** Reads one -L, -R or -D argument; the result has passed the forward schema. */
export function parseForwardSpec(kind: ForwardKind, spec: string): Parsed<Forward> {
  const label = `${FLAG[kind]} "${spec}"`;
  const trimmed = spec.trim();
  const fields = trimmed === '' ? undefined : (slashFields(kind, trimmed) ?? colonFields(trimmed));
  if (fields?.some((f) => f.includes('/'))) return failure(`${label}: Unix-socket forwarding is not supported`);
  if (kind === 'remote' && fields && fields.length < ARITY.remote[0]) {
    return failure(`${label}: remote dynamic (SOCKS) forwarding is not supported; give host:hostport`);
  }
  const raw = fields && assemble(kind, fields);
  if (!raw) return failure(`${label}: expected ${SYNTAX[kind]}`);
  const badPorts = notNumbers(raw, ['bindPort', 'targetPort'], label);
  if (badPorts.length > 0) return { ok: false, errors: badPorts };
  return withContext(parseWith(forwardSchema, raw), label);
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The flag and argument `ssh` would take; the default bind address is left out, as people write it. */
export function formatForwardSpec(f: Forward): string {
  const listen = f.bindHost === DEFAULT_BIND_HOST ? `${f.bindPort}` : `${bracketed(f.bindHost)}:${f.bindPort}`;
  const target = f.type === 'dynamic' ? '' : `:${bracketed(f.targetHost)}:${f.targetPort}`;
  return `${FLAG[f.type]} ${listen}${target}`;
}

function parseJumpHop(text: string, index: number, label: string): Parsed<JumpTarget> {
  const body = text.startsWith('ssh://') ? text.slice('ssh://'.length) : text;
  const at = body.lastIndexOf('@');
  const user = at >= 0 ? body.slice(0, at) : undefined;
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::(.*))?$/.exec(body.slice(at + 1));
  if (!match) return failure(`${label}: expected [user@]host[:port] (IPv6 addresses in [brackets])`, `[${index}]`);
  const [, bracketedHost, plainHost, port] = match;
  const raw = { host: bracketedHost ?? plainHost, port: toPort(port), user };
  const badPort = notNumbers(raw, ['port'], label, `[${index}].`);
  if (badPort.length > 0) return { ok: false, errors: badPort };
  const checked = parseWith(jumpHopSchema, raw, [index]);
  if (!checked.ok) return withContext(checked, label);
  const { host, port: checkedPort, user: checkedUser } = checked.value;
  return { ok: true, value: { host, ...(port !== undefined ? { port: checkedPort } : {}), ...(checkedUser ? { user: checkedUser } : {}) } };
}

/** Reads a -J / ProxyJump list, first hop first; a port is present only when the spec gives one. */
export function parseJumpSpec(spec: string): Parsed<JumpTarget[]> {
  const label = `-J "${spec}"`;
  const hops = spec.split(',').map((hop, i) => parseJumpHop(hop.trim(), i, label));
  const errors = hops.flatMap((hop) => (hop.ok ? [] : hop.errors));
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: hops.flatMap((hop) => (hop.ok ? [hop.value] : [])) };
}
