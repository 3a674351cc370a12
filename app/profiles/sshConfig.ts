// ~/.ssh/config read the way `ssh` reads it (first value wins, Include, ProxyJump through other
// aliases, %-tokens), so hosts people already have turn into tunnel profiles without retyping.
// The ssh-config package parses and computes; Include is ours because it needs the file system.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir, hostname as localHostName, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import SSHConfig, { LineType, glob, type Directive, type Line, type Section } from 'ssh-config';
import { TunnelError } from '../shared/errors.js';
import { parseForwardSpec, parseJumpSpec } from './forwardSpec.js';
import { hostNameProblem } from './hostName.js';
import type { Forward, ProfileInput } from './schema.js';
import { formatErrors, parseProfile, type FieldError, type Parsed } from './validate.js';

export interface ResolvedSshHost {
  alias: string;
  hostName: string;
  port?: number;
  user?: string;
  /** `~`, `${VAR}` and %d %h %p %r %u %n %l %L %% expanded. */
  identityFiles: string[];
  /** Raw value; `none` leaves it out. */
  proxyJump?: string;
  /** Not supported for import, but reported so a host that needs it is not imported as a direct one. */
  proxyCommand?: string;
  /** In `-L` argument syntax: `LocalForward 13306 db:3306` becomes `13306:db:3306`. */
  localForwards: string[];
  remoteForwards: string[];
  dynamicForwards: string[];
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  connectTimeout?: number;
  strictHostKeyChecking?: 'yes' | 'accept-new' | 'ask' | 'no';
  userKnownHostsFiles?: string[];
  ciphers?: string[];
  identitiesOnly?: boolean;
}

export interface SshConfigSource {
  text: string;
  /** Names the file in errors and decides where relative Includes look (~/.ssh or /etc/ssh). */
  path: string;
}

/** One jump host as `ssh -J` would reach it, its own config applied. */
export interface JumpHop {
  host: string;
  port?: number;
  user?: string;
  identityFiles: string[];
}

export interface SshConfigImport {
  profiles: ProfileInput[];
  skipped: Array<{ alias: string; reason: string }>;
}

/** OpenSSH's READCONF_MAX_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;
const NO_FORWARDS = 'no LocalForward, RemoteForward or DynamicForward';
const SYSTEM_CONFIG_DIR = '/etc/ssh';

const STRICT_HOST_KEY = new Map<string, NonNullable<ResolvedSshHost['strictHostKeyChecking']>>([
  ['yes', 'yes'],
  ['true', 'yes'],
  ['accept-new', 'accept-new'],
  ['ask', 'ask'],
  ['no', 'no'],
  ['off', 'no'],
  ['false', 'no'],
]);
const YES_NO = new Map([
  ['yes', true],
  ['true', true],
  ['no', false],
  ['false', false],
]);
const SECONDS_PER_UNIT: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

type Computed = Record<string, string | string[]>;

interface Session {
  source: SshConfigSource;
  includeDir: string;
  /** Each file is read and parsed once per call, however many aliases are resolved. */
  files: Map<string, Parsed<SSHConfig>>;
  /** Set for a received file: its Includes name files the person did not pick, so they are not read. */
  ignoredIncludes?: Set<Line>;
}

interface Walk {
  session: Session;
  /** Whether a Host block's Include applies: OpenSSH reads it only when the block matches. */
  hostActive: (patterns: string[]) => boolean;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });

function fail(message: string, path = ''): { ok: false; errors: FieldError[] } {
  return { ok: false, errors: [{ path, message }] };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** Leaves settings the config does not give out, so the schema's defaults apply. */
function present<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A block with no settings at all is left out too, so it takes its defaults whole. */
function presentBlock<T extends object>(value: T): T | undefined {
  const kept = present(value);
  return Object.keys(kept).length > 0 ? kept : undefined;
}

function isDirective(line: Line): line is Directive {
  return line.type === LineType.DIRECTIVE;
}

function isSection(line: Line): line is Section {
  return isDirective(line) && 'config' in line;
}

function isMatch(section: Section): boolean {
  return /^match$/i.test(section.param);
}

function isKeyword(line: Line, keyword: RegExp): line is Directive {
  return isDirective(line) && !isSection(line) && keyword.test(line.param);
}

const isInclude = (line: Line): line is Directive => isKeyword(line, /^include$/i);

/** The package resolves CanonicalizeHostName by running nslookup; canonicalisation is not supported. */
const isCanonicalize = (line: Line): boolean => isKeyword(line, /^canonicalizehostname$/i);

function valuesOf(value: Directive['value']): string[] {
  return typeof value === 'string' ? [value] : value.map((v) => v.val);
}

// ---- reading and parsing files ----

/** The parser reads a keyword without a value as a keyword containing the line break. */
function bareKeyword(lines: readonly Line[]): string | undefined {
  for (const line of lines) {
    if (!isDirective(line)) continue;
    if (/\s/.test(line.param) || line.value === '') return line.param.trim();
    const inner = isSection(line) ? bareKeyword(line.config) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

// Errors say where, never what: the text may be a file picked by mistake (a private key), and
// the parser's own messages quote it.

/** 1-based number of the first line `matches`, as " line N:" (empty when none does). */
function lineRef(text: string, matches: (line: string) => boolean): string {
  const i = text.split(/\r?\n/).findIndex(matches);
  return i < 0 ? '' : ` line ${i + 1}:`;
}

const MATCH_WITHOUT_VALUE = new Set(['all', 'canonical', 'final']);

function matchCriterionWithoutValue(line: string): boolean {
  const words = line.trim().split(/[\s=]+/);
  if (words[0]?.toLowerCase() !== 'match') return false;
  for (let i = 1; i < words.length; i += 1) {
    if (MATCH_WITHOUT_VALUE.has(words[i]!.toLowerCase().replace(/^!/, ''))) continue;
    if (words[i + 1] === undefined || words[i + 1] === '') return true;
    i += 1;
  }
  return false;
}

/** Why the parser refused `text`, found by reading the text ourselves. */
function parseProblem(text: string): string {
  const quote = lineRef(text, (line) => (line.replace(/#.*$/, '').match(/"/g)?.length ?? 0) % 2 === 1);
  if (quote) return `${quote} a quoted value is not closed`;
  const match = lineRef(text, matchCriterionWithoutValue);
  if (match) return `${match} a Match criterion without a value`;
  return ' not in ssh_config syntax';
}

function parseText(text: string, path: string): Parsed<SSHConfig> {
  let parsed: SSHConfig;
  try {
    parsed = SSHConfig.parse(text);
  } catch {
    return fail(`${path}: cannot parse:${parseProblem(text)}`);
  }
  // A run of bare lines reaches the parser as one keyword; the first line is where it starts.
  const bare = bareKeyword(parsed)?.split(/\s/)[0];
  if (!bare) return ok(parsed);
  const exact = lineRef(text, (line) => line.trim().startsWith(bare) && /^[\s=]*$/.test(line.trim().slice(bare.length)));
  return fail(`${path}:${exact || lineRef(text, (line) => line.trim().startsWith(bare))} keyword without a value`);
}

function loadFile(session: Session, path: string): Parsed<SSHConfig> {
  let parsed = session.files.get(path);
  if (!parsed) {
    try {
      parsed = parseText(readFileSync(path, 'utf8'), path);
    } catch (err) {
      parsed = fail(`cannot read ${path}: ${errorMessage(err)}`);
    }
    session.files.set(path, parsed);
  }
  return parsed;
}

function openSession(source: SshConfigSource): Session {
  const system = source.path.startsWith(`${SYSTEM_CONFIG_DIR}/`);
  return {
    source,
    includeDir: system ? SYSTEM_CONFIG_DIR : join(homedir(), '.ssh'),
    files: new Map([[source.path, parseText(source.text, source.path)]]),
  };
}

// ---- Include ----

/** `~` and `~/…` only: `~user` would need the password database. */
function tildeExpanded(path: string): string | undefined {
  if (path === '~' || path.startsWith('~/')) return homedir() + path.slice(1);
  return path.startsWith('~') ? undefined : path;
}

function segmentPattern(segment: string): RegExp {
  const source = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/** glob(3) for `*` and `?`: a wildcard never matches a leading dot, unreadable directories match nothing. */
function matchDirectory(dir: string, segment: string): string[] {
  const pattern = segmentPattern(segment);
  try {
    return readdirSync(dir)
      .filter((name) => pattern.test(name) && (segment.startsWith('.') || !name.startsWith('.')))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Existing files only, in lexical order: OpenSSH skips an Include that matches nothing. */
function matchingFiles(absolutePattern: string): string[] {
  let paths = ['/'];
  for (const segment of absolutePattern.split('/').filter(Boolean)) {
    paths = /[*?]/.test(segment) ? paths.flatMap((dir) => matchDirectory(dir, segment)) : paths.map((dir) => join(dir, segment));
  }
  return paths.filter(isFile).sort();
}

function includedPaths(session: Session, include: Directive, file: string): Parsed<string[]> {
  const paths: string[] = [];
  for (const pattern of valuesOf(include.value)) {
    const expanded = tildeExpanded(pattern);
    if (expanded === undefined) return fail(`${file}: an Include with a ~user path is not supported`);
    paths.push(...matchingFiles(isAbsolute(expanded) ? expanded : join(session.includeDir, expanded)));
  }
  return ok(paths);
}

function expandInclude(walk: Walk, include: Directive, file: string, depth: number): Parsed<Line[]> {
  if (depth >= MAX_INCLUDE_DEPTH) return fail(`${file}: Include nested more than ${MAX_INCLUDE_DEPTH} deep (does a file include itself?)`);
  const paths = includedPaths(walk.session, include, file);
  if (!paths.ok) return paths;
  const out: Line[] = [];
  for (const path of paths.value) {
    const parsed = loadFile(walk.session, path);
    const lines = parsed.ok ? expandLines(walk, parsed.value, path, depth + 1) : parsed;
    if (!lines.ok) return lines;
    out.push(...lines.value);
  }
  return ok(out);
}

function withBody(section: Section, lines: readonly Line[]): Section {
  const config = new SSHConfig();
  config.push(...lines);
  return { ...section, config };
}

/**
 * Host blocks from a file included inside a block become top-level blocks; the lines around them
 * stay in (a copy of) the enclosing block, as OpenSSH restores the block after the Include.
 */
function regroup(section: Section, lines: readonly Line[]): Line[] {
  const out: Line[] = [];
  let chunk: Line[] = [];
  for (const line of lines) {
    if (!isSection(line)) {
      chunk.push(line);
      continue;
    }
    out.push(withBody(section, chunk), line);
    chunk = [];
  }
  out.push(withBody(section, chunk));
  return out;
}

function expandSection(walk: Walk, section: Section, file: string, depth: number): Parsed<Line[]> {
  const active = isMatch(section) || walk.hostActive(valuesOf(section.value));
  const body = section.config.filter((line) => active || !isInclude(line));
  const expanded = expandLines(walk, body, file, depth);
  if (!expanded.ok) return expanded;
  if (isMatch(section) && expanded.value.some(isSection)) {
    return fail(`${file}: a file included inside a Match block may not contain Host or Match blocks`);
  }
  return ok(regroup(section, expanded.value));
}

function expandLines(walk: Walk, lines: readonly Line[], file: string, depth: number): Parsed<Line[]> {
  const out: Line[] = [];
  for (const line of lines) {
    if (isCanonicalize(line)) continue;
    if (isInclude(line) && walk.session.ignoredIncludes) {
      walk.session.ignoredIncludes.add(line);
      continue;
    }
    const expanded = isInclude(line)
      ? expandInclude(walk, line, file, depth)
      : isSection(line)
        ? expandSection(walk, line, file, depth)
        : ok([line]);
    if (!expanded.ok) return expanded;
    out.push(...expanded.value);
  }
  return ok(out);
}

/** The whole config with every applicable Include inlined, ready for the package's compute. */
function flatten(session: Session, hostActive: Walk['hostActive']): Parsed<SSHConfig> {
  const root = loadFile(session, session.source.path);
  const lines = root.ok ? expandLines({ session, hostActive }, root.value, session.source.path, 0) : root;
  if (!lines.ok) return lines;
  const flat = new SSHConfig();
  flat.push(...lines.value);
  return ok(flat);
}

function computeFor(session: Session, alias: string): Parsed<Computed> {
  const flat = flatten(session, (patterns) => glob(patterns, alias));
  // Match exec runs shell commands from the config: importing must not have side effects.
  return flat.ok ? ok(flat.value.compute(alias, { ignoreCase: true, matchExec: false })) : flat;
}

// ---- values ----

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (containers) has no user info.
    return process.env.USER ?? '';
  }
}

/** Keywords in OpenSSH's spelling; the package's compute lower-cases them. */
class ConfigReader {
  readonly errors: FieldError[] = [];

  /**
   * `received`: a file the person was handed, not one they wrote. It may not read their
   * environment (`${AWS_SECRET_ACCESS_KEY}.attacker.example` would send it out in a DNS lookup), and
   * a refused value is not quoted back (the file may be a secret picked by mistake).
   */
  constructor(
    private readonly values: Computed,
    private readonly received = false,
  ) {}

  all(keyword: string): string[] {
    const value = this.values[keyword.toLowerCase()];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }

  first(keyword: string): string | undefined {
    return this.all(keyword)[0];
  }

  /** `none` is how ssh_config switches a setting off. */
  setting(keyword: string): string | undefined {
    const value = this.first(keyword);
    return value?.toLowerCase() === 'none' ? undefined : value;
  }

  reject(field: string, keyword: string, raw: string, problem: string): undefined {
    this.errors.push({ path: field, message: this.received ? `${keyword}: ${problem}` : `${keyword} "${raw}": ${problem}` });
    return undefined;
  }

  integer(keyword: string, field: string, range?: readonly [number, number]): number | undefined {
    const raw = this.first(keyword);
    if (raw === undefined) return undefined;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isNaN(n)) return this.reject(field, keyword, raw, 'must be a whole number');
    if (range && (n < range[0] || n > range[1])) return this.reject(field, keyword, raw, `must be ${range[0]}–${range[1]}`);
    return n;
  }

  /** OpenSSH's time format: 90, 90s, 1m30s, 2h. */
  seconds(keyword: string, field: string): number | undefined {
    const raw = this.first(keyword);
    if (raw === undefined) return undefined;
    if (!/^(\d+[smhdw]?)+$/i.test(raw)) return this.reject(field, keyword, raw, 'must be a time such as 30, 30s, 5m or 1h');
    return [...raw.matchAll(/(\d+)([smhdw]?)/gi)].reduce((sum, [, n, unit]) => sum + Number(n) * (SECONDS_PER_UNIT[(unit ?? '').toLowerCase()] ?? 1), 0);
  }

  choice<T>(keyword: string, field: string, choices: ReadonlyMap<string, T>): T | undefined {
    const raw = this.first(keyword);
    if (raw === undefined) return undefined;
    return choices.get(raw.toLowerCase()) ?? this.reject(field, keyword, raw, `must be one of ${[...choices.keys()].join(', ')}`);
  }

  /** `%x` tokens and `${VAR}` in one pass, as OpenSSH expands them; errors quote the config's `raw`. */
  expand(keyword: string, field: string, raw: string, tokens: ReadonlyMap<string, string>, text = raw): string | undefined {
    let problem: string | undefined;
    const expanded = text.replace(/%(.?)|\$\{([^}]*)\}/g, (whole, token: string | undefined, variable: string | undefined) => {
      if (variable !== undefined && this.received) {
        problem ??= 'environment variables are not expanded in a received ssh_config';
        return whole;
      }
      const value = variable === undefined ? tokens.get(token ?? '') : process.env[variable];
      if (value === undefined) problem ??= variable === undefined ? `unsupported token ${whole}` : `environment variable ${variable} is not set`;
      return value ?? whole;
    });
    return problem ? this.reject(field, keyword, raw, problem) : expanded;
  }

  path(keyword: string, field: string, raw: string, tokens: ReadonlyMap<string, string>): string | undefined {
    const expanded = tildeExpanded(raw);
    return expanded === undefined ? this.reject(field, keyword, raw, '~user paths are not supported') : this.expand(keyword, field, raw, tokens, expanded);
  }
}

function pathTokens(alias: string, hostName: string, port: number | undefined, user: string | undefined): Map<string, string> {
  const local = localUser();
  const machine = localHostName();
  return new Map([
    ['%', '%'],
    ['d', homedir()],
    ['h', hostName],
    ['p', String(port ?? 22)],
    ['r', user ?? local],
    ['u', local],
    ['n', alias],
    ['l', machine],
    ['L', machine.split('.')[0] ?? machine],
  ]);
}

/** ssh_config separates listener and target with a space where -L uses a colon. */
function asForwardSpec(value: string): string {
  return value.trim().split(/\s+/).join(':');
}

function identityFiles(reader: ConfigReader, tokens: ReadonlyMap<string, string>): string[] {
  return unique(
    reader
      .all('IdentityFile')
      .filter((file) => file.toLowerCase() !== 'none')
      .flatMap((file) => reader.path('IdentityFile', 'identityFiles', file, tokens) ?? []),
  );
}

/** `none` means no user known-hosts file; /dev/null is the equivalent the profile can hold. */
function knownHostsFiles(reader: ConfigReader, tokens: ReadonlyMap<string, string>): string[] | undefined {
  const files = reader.all('UserKnownHostsFile');
  if (files.length === 0) return undefined;
  if (files[0]?.toLowerCase() === 'none') return ['/dev/null'];
  return files.flatMap((file) => reader.path('UserKnownHostsFile', 'userKnownHostsFiles', file, tokens) ?? []);
}

function cipherList(reader: ConfigReader): string[] | undefined {
  const raw = reader.first('Ciphers');
  if (raw === undefined) return undefined;
  if (/^[+\-^]/.test(raw)) return reader.reject('ciphers', 'Ciphers', raw, 'changing the default list with +, - or ^ is not supported; list the ciphers');
  return raw.split(',').filter(Boolean);
}

interface Overrides {
  user?: string;
  port?: number;
}

function toResolved(alias: string, computed: Computed, overrides: Overrides, received: boolean): Parsed<ResolvedSshHost> {
  const reader = new ConfigReader(computed, received);
  const hostName = reader.expand('HostName', 'hostName', reader.first('HostName') ?? alias, new Map([['%', '%'], ['h', alias]])) ?? alias;
  // After expansion, as ssh checks it; the value is not quoted back (an imported file may be hostile).
  const hostNameRefused = hostNameProblem(hostName);
  if (hostNameRefused) reader.errors.push({ path: 'HostName', message: hostNameRefused });
  const port = overrides.port ?? reader.integer('Port', 'port', [1, 65535]);
  const user = overrides.user ?? reader.first('User');
  const tokens = pathTokens(alias, hostName, port, user);
  const host = present<ResolvedSshHost>({
    alias,
    hostName,
    port,
    user,
    identityFiles: identityFiles(reader, tokens),
    proxyJump: reader.setting('ProxyJump'),
    proxyCommand: reader.setting('ProxyCommand'),
    // ssh ignores a forward given twice, and the package lists a Match final block's values again.
    localForwards: unique(reader.all('LocalForward').map(asForwardSpec)),
    remoteForwards: unique(reader.all('RemoteForward').map(asForwardSpec)),
    dynamicForwards: unique(reader.all('DynamicForward')),
    serverAliveInterval: reader.seconds('ServerAliveInterval', 'serverAliveInterval'),
    serverAliveCountMax: reader.integer('ServerAliveCountMax', 'serverAliveCountMax'),
    connectTimeout: reader.seconds('ConnectTimeout', 'connectTimeout'),
    strictHostKeyChecking: reader.choice('StrictHostKeyChecking', 'strictHostKeyChecking', STRICT_HOST_KEY),
    userKnownHostsFiles: knownHostsFiles(reader, tokens),
    ciphers: cipherList(reader),
    identitiesOnly: reader.choice('IdentitiesOnly', 'identitiesOnly', YES_NO),
  });
  return reader.errors.length > 0 ? { ok: false, errors: reader.errors } : ok(host);
}

function resolveIn(session: Session, alias: string, overrides: Overrides): Parsed<ResolvedSshHost> {
  const computed = computeFor(session, alias);
  // Only a received file's session skips its Includes (importSshConfigText).
  const received = session.ignoredIncludes !== undefined;
  return computed.ok ? toResolved(alias, computed.value, overrides, received) : computed;
}

// ---- ProxyJump ----

function asJumpError(alias: string, errors: readonly FieldError[]): { ok: false; errors: FieldError[] } {
  return { ok: false, errors: errors.map((e) => ({ path: 'proxyJump', message: `jump host "${alias}": ${e.path ? `${e.path}: ` : ''}${e.message}` })) };
}

/** `ssh -J a,b` reaches a with a's own ProxyJump; b's is overridden by the chain. */
function upstreamOf(session: Session, first: ResolvedSshHost, visited: readonly string[]): Parsed<JumpHop[]> {
  if (first.proxyJump) {
    if (visited.includes(first.alias)) return fail(`ProxyJump loop: ${[...visited, first.alias].join(' → ')}`, 'proxyJump');
    return jumpChain(session, first.proxyJump, [...visited, first.alias]);
  }
  return first.proxyCommand ? asJumpError(first.alias, [{ path: '', message: 'ProxyCommand is not supported' }]) : ok([]);
}

function jumpChain(session: Session, proxyJump: string, visited: readonly string[]): Parsed<JumpHop[]> {
  const targets = parseJumpSpec(proxyJump);
  if (!targets.ok) return { ok: false, errors: targets.errors.map((e) => ({ ...e, path: 'proxyJump' })) };
  const hops: JumpHop[] = [];
  for (const [i, target] of targets.value.entries()) {
    const resolved = resolveIn(session, target.host, target);
    if (!resolved.ok) return asJumpError(target.host, resolved.errors);
    const upstream = i === 0 ? upstreamOf(session, resolved.value, visited) : ok([]);
    if (!upstream.ok) return upstream;
    const { hostName, port, user, identityFiles: keys } = resolved.value;
    hops.push(...upstream.value, present({ host: hostName, port, user, identityFiles: keys }));
  }
  return ok(hops);
}

// ---- public API ----

export async function loadSshConfig(path = join(homedir(), '.ssh', 'config')): Promise<SshConfigSource> {
  try {
    return { text: await readFile(path, 'utf8'), path };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', path };
    throw new TunnelError('CONFIG_INVALID', `cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

export function resolveSshHost(config: SshConfigSource, alias: string): Parsed<ResolvedSshHost> {
  return resolveIn(openSession(config), alias, {});
}

/**
 * Jump hosts first hop first, each resolved through the config like OpenSSH, including the first
 * hop's own ProxyJump. `origin` (the alias whose ProxyJump this is) lets a loop back to it be caught.
 */
export function resolveJumpChain(config: SshConfigSource, proxyJump: string, origin?: string): Parsed<JumpHop[]> {
  return jumpChain(openSession(config), proxyJump, origin === undefined ? [] : [origin]);
}

function hostPatterns(lines: readonly Line[]): string[] {
  return lines.filter(isSection).filter((section) => !isMatch(section)).flatMap((section) => valuesOf(section.value));
}

/** A Host block in a file included from a non-matching Host block never applies to its alias. */
function reachable(session: Session, alias: string): boolean {
  const own = flatten(session, (patterns) => glob(patterns, alias));
  return own.ok && hostPatterns(own.value).includes(alias);
}

/**
 * HashKnownHosts for `host` in this one file (yes/no), or undefined when the file does not say or
 * cannot be read: the caller falls through to the next file, first value wins as in ssh.
 */
export function hashKnownHostsIn(config: SshConfigSource, host: string): boolean | undefined {
  const computed = computeFor(openSession(config), host);
  if (!computed.ok) return undefined;
  const raw = new ConfigReader(computed.value).first('HashKnownHosts');
  return raw === undefined ? undefined : YES_NO.get(raw.toLowerCase());
}

function listIn(session: Session): Parsed<string[]> {
  const everything = flatten(session, () => true);
  if (!everything.ok) return everything;
  const concrete = unique(hostPatterns(everything.value).filter((pattern) => !/[*?!]/.test(pattern)));
  return ok(concrete.filter((alias) => reachable(session, alias)));
}

/** Concrete Host aliases in file order; patterns (`*`, `?`, `!`) are not hosts one can connect to. */
export function listSshHosts(config: SshConfigSource): Parsed<string[]> {
  return listIn(openSession(config));
}

function profileId(alias: string, taken: Set<string>): string {
  // 60 leaves room for a -NN suffix within the schema's 64.
  const base = alias.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60);
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base}-${n}`;
  taken.add(id);
  return id;
}

function forwardsOf(host: ResolvedSshHost): Parsed<Forward[]> {
  const specs = [
    ...host.localForwards.map((spec) => parseForwardSpec('local', spec)),
    ...host.remoteForwards.map((spec) => parseForwardSpec('remote', spec)),
    ...host.dynamicForwards.map((spec) => parseForwardSpec('dynamic', spec)),
  ];
  if (specs.length === 0) return fail(NO_FORWARDS);
  const errors = specs.flatMap((spec) => (spec.ok ? [] : spec.errors));
  return errors.length > 0 ? { ok: false, errors } : ok(specs.flatMap((spec) => (spec.ok ? [spec.value] : [])));
}

function authFor(keyFiles: readonly string[]): { method: 'auto'; keyFiles?: string[] } {
  return keyFiles.length > 0 ? { method: 'auto', keyFiles: [...keyFiles] } : { method: 'auto' };
}

function profileInput(id: string, host: ResolvedSshHost, forwards: Forward[], jumps: readonly JumpHop[]): ProfileInput {
  return present<ProfileInput>({
    kind: 'ssh',
    id,
    name: host.alias,
    server: present({ host: host.hostName, port: host.port, user: host.user, auth: authFor(host.identityFiles) }),
    jumps: jumps.map((hop) => present({ host: hop.host, port: hop.port, user: hop.user, auth: authFor(hop.identityFiles) })),
    hostKey: presentBlock({ strict: host.strictHostKeyChecking, knownHostsFiles: host.userKnownHostsFiles }),
    keepalive: presentBlock({ intervalSeconds: host.serverAliveInterval, countMax: host.serverAliveCountMax }),
    connectTimeoutSeconds: host.connectTimeout,
    ciphers: host.ciphers,
    forwards,
  });
}

function importHost(session: Session, alias: string, id: string): Parsed<ProfileInput> {
  const resolved = resolveIn(session, alias, {});
  if (!resolved.ok) return resolved;
  const host = resolved.value;
  const forwards = forwardsOf(host);
  if (!forwards.ok) return forwards;
  // Whichever of ProxyCommand and ProxyJump comes first wins, and compute does not say which did.
  if (host.proxyCommand) return fail('ProxyCommand is not supported (use ProxyJump)');
  const jumps = host.proxyJump ? jumpChain(session, host.proxyJump, [alias]) : ok([]);
  if (!jumps.ok) return jumps;
  const input = profileInput(id, host, forwards.value, jumps.value);
  const checked = parseProfile(input);
  return checked.ok ? ok(input) : checked;
}

/** One profile per concrete Host with forwards; every other Host is listed in skipped with why. */
export function importSshConfig(config: SshConfigSource): Parsed<SshConfigImport> {
  return importIn(openSession(config));
}

/**
 * The same import from the text of a file the person picked (not their own config): its Include
 * lines are not followed, only counted, and errors name it `label`.
 */
export function importSshConfigText(text: string, label = 'the ssh_config file'): Parsed<SshConfigImport & { ignoredIncludes: number }> {
  const session = openSession({ text, path: label });
  const ignoredIncludes = new Set<Line>();
  session.ignoredIncludes = ignoredIncludes;
  const imported = importIn(session);
  return imported.ok ? ok({ ...imported.value, ignoredIncludes: ignoredIncludes.size }) : imported;
}

function importIn(session: Session): Parsed<SshConfigImport> {
  const aliases = listIn(session);
  if (!aliases.ok) return aliases;
  const taken = new Set<string>();
  const result: SshConfigImport = { profiles: [], skipped: [] };
  for (const alias of aliases.value) {
    const imported = importHost(session, alias, profileId(alias, taken));
    if (imported.ok) result.profiles.push(imported.value);
    else result.skipped.push({ alias, reason: formatErrors(imported.errors) });
  }
  return ok(result);
}
