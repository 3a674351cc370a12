// `tunnelvision connect [options] [user@]host`: OpenSSH's flags and ~/.ssh/config turned into a
// profile. Precedence follows ssh: command-line options first, then the config file; the first value
// obtained wins.
import { sshProfileSchema, type Endpoint, type Forward, type HostKeyPolicy, type SshProfile, type SshProfileInput } from '../profiles/schema.js';
import { parseForwardSpec } from '../profiles/forwardSpec.js';
import { hostNameProblem } from '../profiles/hostName.js';
import { loadSshConfig, resolveJumpChain, resolveSshHost, type SshConfigSource } from '../profiles/sshConfig.js';
import { parseWith, type FieldError, type Parsed } from '../profiles/validate.js';

export interface ConnectFlags {
  port?: string;
  login?: string;
  identity: string[];
  jump?: string;
  local: string[];
  remote: string[];
  dynamic: string[];
  config?: string;
  option: string[];
  cipher?: string;
  reconnect: boolean;
}

export interface ConnectPlan {
  profile: SshProfile;
  warnings: string[];
  /** BatchMode=yes: never ask a person anything. */
  batch: boolean;
}

/** The -o keys understood, by lower-case name, with their canonical spelling for messages. */
const OPTION_NAMES = [
  'StrictHostKeyChecking',
  'UserKnownHostsFile',
  'ServerAliveInterval',
  'ServerAliveCountMax',
  'ConnectTimeout',
  'ExitOnForwardFailure',
  'Ciphers',
  'Port',
  'User',
  'HostName',
  'IdentityFile',
  'ProxyJump',
  'LocalForward',
  'RemoteForward',
  'DynamicForward',
  'BatchMode',
  'HostKeyAlgorithms',
] as const;
type OptionName = (typeof OPTION_NAMES)[number];
const BY_LOWER = new Map<string, OptionName>(OPTION_NAMES.map((n) => [n.toLowerCase(), n]));
const MULTI: ReadonlySet<OptionName> = new Set(['IdentityFile', 'LocalForward', 'RemoteForward', 'DynamicForward']);

type Options = Partial<Record<OptionName, string[]>>;

function parseOptions(raw: string[], errors: FieldError[]): Options {
  const out: Options = {};
  for (const item of raw) {
    const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*?)\s*$/.exec(item);
    const name = m && BY_LOWER.get(m[1]!.toLowerCase());
    if (!m || !name || m[2] === '') {
      errors.push({
        path: '-o',
        message: m && !name ? `"${m[1]}" is not an option Tunnelvision understands (it understands ${OPTION_NAMES.join(', ')})` : `"${item}" is not Key=Value`,
      });
      continue;
    }
    const list = (out[name] ??= []);
    // ssh keeps the first value of single-valued options and every value of the others.
    if (MULTI.has(name) || list.length === 0) list.push(m[2]!);
  }
  return out;
}

/**
 * HostKeyAlgorithms is read for one thing: whether it turns SHA-1 RSA (`ssh-rsa`) back on, as
 * `+ssh-rsa` does in OpenSSH 8.8 and later. The engine's own list stays otherwise.
 */
function allowsSha1Rsa(value: string | undefined, warnings: string[]): boolean {
  if (value === undefined) return false;
  const names = value.replace(/^[+^]/, '').split(',');
  const allows = !value.startsWith('-') && names.includes('ssh-rsa');
  if (!allows || names.length > 1 || !value.startsWith('+')) {
    warnings.push(`HostKeyAlgorithms=${value}: Tunnelvision keeps its own host-key algorithm list and reads this option only to allow ssh-rsa (SHA-1), as "+ssh-rsa".`);
  }
  return allows;
}

function yesNo(value: string | undefined, name: string, errors: FieldError[]): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'yes') return true;
  if (v === 'no') return false;
  errors.push({ path: `-o ${name}`, message: `must be yes or no, not "${value}"` });
  return undefined;
}

function number(value: string | undefined, label: string, errors: FieldError[]): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    errors.push({ path: label, message: `must be a whole number, not "${value}"` });
    return undefined;
  }
  return Number(value);
}

/** `ssh://user@host:port` or `user@host`. */
function parseDestination(dest: string): { host: string; user?: string; port?: string } {
  const url = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(dest);
  if (url) return { host: url[2]!.replace(/^\[|\]$/g, ''), ...(url[1] ? { user: url[1] } : {}), ...(url[3] ? { port: url[3] } : {}) };
  const at = dest.lastIndexOf('@');
  return at > 0 ? { user: dest.slice(0, at), host: dest.slice(at + 1) } : { host: dest };
}

function forwardsFrom(kind: Forward['type'], specs: string[], errors: FieldError[]): unknown[] {
  const out: unknown[] = [];
  for (const spec of specs) {
    const parsed = parseForwardSpec(kind, spec);
    if (parsed.ok) out.push(parsed.value);
    else errors.push(...parsed.errors.map((e) => ({ ...e, path: e.path ? `${kind === 'local' ? '-L' : kind === 'remote' ? '-R' : '-D'} ${e.path}` : '' })));
  }
  return out;
}

const STRICT_MODES: ReadonlySet<string> = new Set(['yes', 'no', 'ask', 'accept-new']);

function strictMode(value: string | undefined, errors: FieldError[]): HostKeyPolicy['strict'] | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase() === 'off' ? 'no' : value.toLowerCase();
  if (STRICT_MODES.has(v)) return v as HostKeyPolicy['strict'];
  errors.push({ path: '-o StrictHostKeyChecking', message: `must be yes, accept-new, ask, no or off, not "${value}"` });
  return undefined;
}

/** Each -J / ProxyJump hop, itself resolved through the ssh config (a hop may be an alias). */
function jumpsFrom(spec: string | undefined, config: SshConfigSource, origin: string, errors: FieldError[]): Array<Partial<Endpoint>> {
  if (!spec || spec.toLowerCase() === 'none') return [];
  const chain = resolveJumpChain(config, spec, origin);
  if (!chain.ok) {
    errors.push(...chain.errors.map((e) => ({ ...e, path: e.path || '-J' })));
    return [];
  }
  return chain.value.map((hop) => ({
    host: hop.host,
    port: hop.port ?? 22,
    ...(hop.user ? { user: hop.user } : {}),
    auth: { method: 'auto', keyFiles: hop.identityFiles },
  }));
}

export async function connectPlan(destination: string, flags: ConnectFlags): Promise<Parsed<ConnectPlan>> {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  let config: SshConfigSource;
  try {
    config = await loadSshConfig(flags.config);
  } catch (err) {
    return { ok: false, errors: [{ path: '-F', message: (err as Error).message }] };
  }
  const o = parseOptions(flags.option, errors);
  const dest = parseDestination(destination.trim());
  if (!dest.host) {
    return { ok: false, errors: [{ path: 'destination', message: 'name the server to connect to: [user@]host, ssh://user@host:port, or a Host alias from your ssh config' }] };
  }
  // Checked before the config sees it, as ssh does: the name becomes %h in paths and a known_hosts name.
  const destinationRefused = hostNameProblem(dest.host);
  if (destinationRefused) return { ok: false, errors: [{ path: 'destination', message: `the host ${destinationRefused}` }] };
  const resolved = resolveSshHost(config, dest.host);
  if (!resolved.ok) return resolved;
  const r = resolved.value;
  const first = (name: OptionName) => o[name]?.[0];
  // Dialling the host directly when the config says it is reached through a command would
  // connect somewhere the person never meant to; a ProxyJump given here takes its place, as in ssh.
  if (r.proxyCommand && !flags.jump && !first('ProxyJump') && !r.proxyJump) {
    errors.push({
      path: 'ProxyCommand',
      message: `ProxyCommand is not supported (use ProxyJump): ${dest.host} is reached through a command in ${config.path}, and Tunnelvision will not connect to it directly instead.`,
    });
  }

  const host = first('HostName') ?? r.hostName ?? dest.host;
  const port = number(flags.port ?? dest.port ?? first('Port'), '-p', errors) ?? r.port ?? 22;
  const user = flags.login ?? dest.user ?? first('User') ?? r.user;
  const keyFiles = [...flags.identity, ...(o.IdentityFile ?? []), ...r.identityFiles];
  const forwards = [
    ...forwardsFrom('local', [...flags.local, ...(o.LocalForward ?? []), ...r.localForwards], errors),
    ...forwardsFrom('remote', [...flags.remote, ...(o.RemoteForward ?? []), ...r.remoteForwards], errors),
    ...forwardsFrom('dynamic', [...flags.dynamic, ...(o.DynamicForward ?? []), ...r.dynamicForwards], errors),
  ];
  const strict = strictMode(first('StrictHostKeyChecking'), errors) ?? r.strictHostKeyChecking ?? 'ask';
  const knownHostsFiles = first('UserKnownHostsFile')?.split(/\s+/) ?? r.userKnownHostsFiles ?? [];
  const allowSha1Rsa = allowsSha1Rsa(first('HostKeyAlgorithms'), warnings);
  const interval = number(first('ServerAliveInterval'), '-o ServerAliveInterval', errors) ?? r.serverAliveInterval;
  const countMax = number(first('ServerAliveCountMax'), '-o ServerAliveCountMax', errors) ?? r.serverAliveCountMax;
  const connectTimeout = number(first('ConnectTimeout'), '-o ConnectTimeout', errors) ?? r.connectTimeout;
  const ciphers = (flags.cipher ?? first('Ciphers'))?.split(',') ?? r.ciphers;
  const batch = yesNo(first('BatchMode'), 'BatchMode', errors) ?? false;
  if (yesNo(first('ExitOnForwardFailure'), 'ExitOnForwardFailure', errors) === false) {
    warnings.push('ExitOnForwardFailure=no is ignored: Tunnelvision never reports a tunnel open while one of its forwards failed.');
  }
  const jumps = jumpsFrom(flags.jump ?? first('ProxyJump') ?? r.proxyJump, config, dest.host, errors);
  if (forwards.length === 0 && errors.length === 0) {
    errors.push({ path: '', message: 'Nothing to forward: give at least one -L, -R or -D (Tunnelvision opens tunnels, not shells).' });
  }
  if (errors.length) return { ok: false, errors };

  const input: SshProfileInput = {
    id: `cli-${host}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64),
    name: destination,
    server: { host, port, ...(user ? { user } : {}), auth: { method: 'auto', keyFiles } },
    jumps: jumps as SshProfileInput['jumps'],
    hostKey: { strict, knownHostsFiles, allowSha1Rsa },
    keepalive: { ...(interval !== undefined ? { intervalSeconds: interval } : {}), ...(countMax !== undefined ? { countMax } : {}) },
    reconnect: { enabled: flags.reconnect },
    ...(connectTimeout !== undefined ? { connectTimeoutSeconds: connectTimeout } : {}),
    ...(ciphers ? { ciphers } : {}),
    forwards: forwards as SshProfileInput['forwards'],
  };
  const profile = parseWith(sshProfileSchema, input);
  if (!profile.ok) return { ok: false, errors: profile.errors };
  return { ok: true, value: { profile: profile.value, warnings, batch } };
}
