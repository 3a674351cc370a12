// Host-key verification with OpenSSH's semantics (known_hosts format, StrictHostKeyChecking), so a
// profile behaves exactly like `ssh` would with the same files: a key OpenSSH trusts is trusted here,
// a key OpenSSH would refuse is refused here, and what we add is readable by OpenSSH.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readFile, readlink, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { hostNameProblem } from '../profiles/hostName.js';
import type { HostKeyPolicy } from '../profiles/schema.js';
import { hashKnownHostsIn, loadSshConfig } from '../profiles/sshConfig.js';
import { TunnelError } from '../shared/errors.js';

export interface HostKeyInfo {
  /** The key's algorithm name as SSH spells it, e.g. `ssh-ed25519`. */
  type: string;
  /** `SHA256:…`, exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** SSH wire-format public key. */
  blob: Buffer;
}

export type KnownHostsLookup =
  | { status: 'match'; file: string; line: number }
  | { status: 'mismatch'; known: Array<HostKeyInfo & { file: string; line: number }> }
  | { status: 'revoked'; file: string; line: number }
  | { status: 'unknown'; otherTypes: HostKeyInfo[] };

export type HostKeyDecision = { action: 'accept' } | { action: 'accept-and-save' } | { action: 'ask' } | { action: 'refuse'; error: TunnelError };

export interface HostKeyQuestion {
  hop: string;
  host: string;
  port: number;
  key: HostKeyInfo;
  /** Keys of other types already known for this host: worth showing, they are not proof either way. */
  otherTypes: HostKeyInfo[];
}

/** What the machine adds to a profile's known_hosts files; injectable so tests never read this machine's /etc. */
export interface KnownHostsSetup {
  /** OpenSSH's GlobalKnownHostsFile: read on every check, `@revoked` lines included, never written. */
  globalFiles: string[];
  /** Whether a name newly recorded for `host` is hashed (HashKnownHosts). */
  hashNames(host: string): Promise<boolean>;
}

export interface HostKeyCheck {
  host: string;
  port: number;
  hop: string;
  policy: HostKeyPolicy;
  /** Only the final hop is pinned; jump hosts go by known_hosts alone. */
  checkPinned: boolean;
  ask?: (q: HostKeyQuestion) => Promise<boolean>;
  /** The machine's own files and settings; the real ones (/etc/ssh, ~/.ssh/config) when absent. */
  knownHosts?: KnownHostsSetup;
}

type Marker = 'revoked' | 'cert-authority' | undefined;

interface KnownHostsEntry {
  marker: Marker;
  patterns: string;
  key: HostKeyInfo;
  file: string;
  line: number;
}

/** The algorithm name that opens every SSH public key blob (RFC 4253 §6.6), or undefined if malformed. */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  const type = blob.toString('latin1', 4, 4 + length);
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function describeKey(blob: Buffer): HostKeyInfo {
  const type = blobType(blob);
  if (type === undefined) {
    throw new TunnelError('PROTOCOL', 'The server sent a host key that is not a valid SSH public key, so its identity cannot be checked.');
  }
  return { type, fingerprint: fingerprintOf(blob), blob };
}

/** OpenSSH lowercases host names before matching and writing them, so we do too. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

export function defaultKnownHostsFiles(): string[] {
  return [join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')];
}

export const GLOBAL_KNOWN_HOSTS_FILES = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

export function defaultSshConfigFiles(): string[] {
  return [join(homedir(), '.ssh', 'config'), '/etc/ssh/ssh_config'];
}

/** HashKnownHosts from the user's ssh config, then the system's (Debian's says yes); the first value wins. */
async function hashNamesFor(configFiles: readonly string[], host: string): Promise<boolean> {
  for (const path of configFiles) {
    // An ssh config we cannot read says nothing here: it decides only how a name is written.
    const config = await loadSshConfig(path).catch(() => undefined);
    const hash = config && hashKnownHostsIn(config, host);
    if (hash !== undefined) return hash;
  }
  return false;
}

export function knownHostsSetup(opts: { sshConfigFiles?: string[]; globalFiles?: string[] } = {}): KnownHostsSetup {
  const configFiles = opts.sshConfigFiles ?? defaultSshConfigFiles();
  return { globalFiles: opts.globalFiles ?? GLOBAL_KNOWN_HOSTS_FILES, hashNames: (host) => hashNamesFor(configFiles, host) };
}

function expandHome(file: string): string {
  if (file === '~') return homedir();
  return file.startsWith('~/') ? join(homedir(), file.slice(2)) : file;
}

function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as written by `ssh-keygen -H` and HashKnownHosts. */
function matchesHashed(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], 'base64');
  if (salt.length !== 20) return false;
  return createHmac('sha1', salt).update(name).digest('base64') === parts[3];
}

function hashedName(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** OpenSSH's match_hostname: any negated pattern that matches excludes the line outright. */
function matchesPatterns(field: string, name: string): boolean {
  if (field.startsWith('|')) return matchesHashed(field, name);
  let positive = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (!pattern || !globToRegExp(pattern).test(name)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

function parseMarker(field: string): Marker | null {
  if (field === '@revoked') return 'revoked';
  if (field === '@cert-authority') return 'cert-authority';
  return null;
}

function parseKey(type: string | undefined, base64: string | undefined): HostKeyInfo | undefined {
  if (!type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, 'base64');
  // A blob whose embedded type disagrees with the line's type is corrupt; OpenSSH rejects it too.
  return blobType(blob) === type ? { type, fingerprint: fingerprintOf(blob), blob } : undefined;
}

/** One known_hosts line, or undefined for comments, blank and malformed lines (skipped, as OpenSSH does). */
function parseLine(text: string, file: string, line: number): KnownHostsEntry | undefined {
  const fields = text.trim().split(/[ \t]+/);
  if (!fields[0] || fields[0].startsWith('#')) return undefined;
  let marker: Marker;
  if (fields[0].startsWith('@')) {
    const parsed = parseMarker(fields[0]);
    if (parsed === null) return undefined;
    marker = parsed;
    fields.shift();
  }
  const [patterns, type, base64] = fields;
  const key = parseKey(type, base64);
  if (!patterns || !key) return undefined;
  return { marker, patterns, key, file, line };
}

/** Whether a line could be in a known_hosts file: blank, a comment, or an entry that parses. */
function isKnownHostsLine(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === '' || trimmed.startsWith('#') || parseLine(text, '', 0) !== undefined;
}

async function readKnownHosts(file: string): Promise<KnownHostsEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    // Skipping an unreadable file could hide a changed key and let accept-new trust an impostor.
    throw new TunnelError('CONFIG_INVALID', `Could not read the known_hosts file ${file} (${(err as Error).message}), so host keys cannot be checked. Fix its permissions or remove it from the profile's known_hosts files.`, { cause: err });
  }
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((lineText, i) => {
    const entry = parseLine(lineText, file, i + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

function classify(entries: KnownHostsEntry[], offered: HostKeyInfo): KnownHostsLookup {
  // Revocation wins over any other line that vouches for the same key (OpenSSH check_key_not_revoked).
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.blob.equals(offered.blob));
  if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line };
  // We do not verify certificates, so CA lines vouch for nothing here.
  const plain = entries.filter((e) => e.marker === undefined);
  const match = plain.find((e) => e.key.blob.equals(offered.blob));
  if (match) return { status: 'match', file: match.file, line: match.line };
  const sameType = plain.filter((e) => e.key.type === offered.type);
  if (sameType.length > 0) return { status: 'mismatch', known: sameType.map((e) => ({ ...e.key, file: e.file, line: e.line })) };
  const otherTypes = new Map(plain.map((e) => [e.key.fingerprint, e.key]));
  return { status: 'unknown', otherTypes: [...otherTypes.values()] };
}

export async function lookupHostKey(files: string[], host: string, port: number, blob: Buffer): Promise<KnownHostsLookup> {
  const offered = describeKey(blob);
  const name = knownHostsName(host, port);
  const perFile = await Promise.all(files.map((file) => readKnownHosts(expandHome(file))));
  return classify(perFile.flat().filter((e) => matchesPatterns(e.patterns, name)), offered);
}

/** Key types known for host:port, so the session can ask the server for one of those first. */
export async function knownKeyTypes(files: string[], host: string, port: number): Promise<string[]> {
  const name = knownHostsName(host, port);
  const perFile = await Promise.all(files.map((file) => readKnownHosts(expandHome(file))));
  const types = perFile
    .flat()
    .filter((e) => e.marker === undefined && matchesPatterns(e.patterns, name))
    .map((e) => e.key.type);
  return [...new Set(types)];
}

function unsafe(message: string): TunnelError {
  return new TunnelError('KNOWN_HOSTS_UNSAFE', message);
}

const WRITE_ADVICE = "Remove it from the profile's known_hosts files, or name a file called known_hosts (or known_hosts_…) that holds only known_hosts lines.";

/** Where a new line may go: a real folder (no link left in its path) and a name in it. */
interface WriteTarget {
  folder: string;
  name: string;
  /** Only in ~/.ssh, where ssh itself keeps known_hosts files, may one be created. */
  mayCreate: boolean;
}

function sshFolder(): string {
  return join(homedir(), '.ssh');
}

async function lstatOrMissing(path: string): Promise<Stats | undefined> {
  return lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });
}

/** ~/.ssh made as ssh makes it (0700) when missing; a home folder that is missing is not made. */
async function ensureSshFolder(): Promise<void> {
  await mkdir(sshFolder(), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

/**
 * Where a new line may go: the file itself, or, for a link that stays in its own folder, its
 * target. A profile may come from someone else, so only a file that is plainly a known_hosts file
 * is written: otherwise `host key` lines could be planted in authorized_keys or a shell's rc file.
 * Outside ~/.ssh nothing is created: a shell or a config loader may source every file of a folder
 * (~/.bashrc.d, fish's conf.d), so a new file there is code whatever its name.
 */
async function writableTarget(path: string): Promise<WriteTarget> {
  const isDefault = path === join(sshFolder(), 'known_hosts');
  if (!isDefault && !basename(path).startsWith('known_hosts')) {
    throw unsafe(`Tunnelvision will not record a host key in ${path}: its name does not start with "known_hosts", so it may be another kind of file (authorized_keys, a shell start-up file) that an added line would change. ${WRITE_ADVICE}`);
  }
  const mayCreate = dirname(path) === sshFolder();
  if (mayCreate) await ensureSshFolder();
  const info = await lstatOrMissing(path);
  if (info === undefined && !mayCreate) {
    throw unsafe(
      `Tunnelvision will not create the known_hosts file ${path}: outside ~/.ssh a known_hosts file must already exist, because a new file in another folder ` +
        `(such as ~/.bashrc.d, whose every file a shell runs) could be run as code. Create the file yourself if it is meant to be a known_hosts file, or use one in ~/.ssh.`,
    );
  }
  const folder = await realpath(dirname(path));
  if (!info?.isSymbolicLink()) return { folder, name: basename(path), mayCreate };
  const target = await realpath(path).catch(() => undefined);
  if (target === undefined || dirname(target) !== folder) {
    throw unsafe(`Tunnelvision will not record a host key in ${path}: it is a symbolic link to a file outside its own folder (or to nothing), and writing through it would change that other file. ${WRITE_ADVICE}`);
  }
  // The file written is the one the link names, so that is the name judged: a link called known_hosts can name authorized_keys.
  if (!basename(target).startsWith('known_hosts')) {
    throw unsafe(`Tunnelvision will not record a host key in ${path}: it is a symbolic link to ${basename(target)}, whose name does not start with "known_hosts", so it may be another kind of file. ${WRITE_ADVICE}`);
  }
  return { folder, name: basename(target), mayCreate: false };
}

/**
 * Whether `handle` is the file at `path`, a path with no symbolic link in it. Checked after the
 * open, because a folder on the way could have been swapped for a link since it was resolved.
 */
export async function isOpenedAt(handle: FileHandle, path: string): Promise<boolean> {
  if (process.platform === 'linux') {
    // The kernel's own name for what the descriptor is, whatever path led to it.
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    return opened === path;
  }
  const [opened, named] = await Promise.all([handle.stat(), lstat(path).catch(() => undefined)]);
  return named !== undefined && opened.dev === named.dev && opened.ino === named.ino;
}

export interface AppendOptions {
  /** Write the name hashed, as `ssh-keygen -H` does. */
  hash?: boolean;
  /** Tests only: runs between the check of the path and its open, where a folder could be swapped for a link. */
  beforeOpen?: () => Promise<void>;
}

async function openTarget(path: string, target: WriteTarget, beforeOpen: AppendOptions['beforeOpen']): Promise<FileHandle> {
  const real = join(target.folder, target.name);
  // O_APPEND: concurrent hops cannot overwrite each other. O_NOFOLLOW: no link swapped in since the check.
  const create = target.mayCreate ? constants.O_CREAT : 0;
  const flags = constants.O_RDWR | constants.O_APPEND | create | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  await beforeOpen?.();
  const handle = await open(real, flags, 0o600).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') throw unsafe(`Tunnelvision will not record a host key in ${path}: it became a symbolic link while being opened. ${WRITE_ADVICE}`);
    if (err.code === 'ENOENT') throw unsafe(`Tunnelvision will not record a host key in ${path}: it disappeared while being opened, and Tunnelvision does not create a known_hosts file there. ${WRITE_ADVICE}`);
    throw err;
  });
  if (await isOpenedAt(handle, real)) return handle;
  await handle.close();
  throw unsafe(`Tunnelvision will not record a host key in ${path}: a folder on its path was replaced by a symbolic link while it was being opened, so the file opened is another file. Nothing was written. ${WRITE_ADVICE}`);
}

/**
 * Appends `host`'s key to `file`, checked first (see writableTarget) and refused with
 * KNOWN_HOSTS_UNSAFE before anything is written.
 */
export async function appendKnownHost(file: string, host: string, port: number, blob: Buffer, opts: AppendOptions = {}): Promise<void> {
  const path = resolve(expandHome(file));
  // UserKnownHostsFile /dev/null: OpenSSH "records" the key nowhere, and so do we.
  if (path === '/dev/null') return;
  // A glob or list in the name would vouch for other hosts: `*` trusts this key for every host.
  const problem = hostNameProblem(host);
  if (problem) throw unsafe(`Tunnelvision will not record a host key for this host name: it ${problem}.`);
  const key = describeKey(blob);
  const handle = await openTarget(path, await writableTarget(path), opts.beforeOpen);
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw unsafe(`Tunnelvision will not record a host key in ${path}: it is not a regular file. ${WRITE_ADVICE}`);
    const isDefault = path === join(sshFolder(), 'known_hosts');
    // A hard link is another name for some other file (authorized_keys whose lines all carry options parse as known_hosts lines).
    if (!isDefault && opened.nlink > 1) throw unsafe(`Tunnelvision will not record a host key in ${path}: it is a hard link, so the same file has another name and may be another kind of file. ${WRITE_ADVICE}`);
    const existing = await handle.readFile();
    // Read through the same descriptor that is written, so the file judged is the file changed.
    const lines = existing.toString('utf8').split(/\r?\n/);
    if (!isDefault && !lines.every(isKnownHostsLine)) {
      const bad = lines.findIndex((l) => !isKnownHostsLine(l)) + 1;
      throw unsafe(`Tunnelvision will not record a host key in ${path}: line ${bad} is not a known_hosts line, so the file may be something else. ${WRITE_ADVICE}`);
    }
    const separator = existing.length > 0 && existing[existing.length - 1] !== 0x0a ? '\n' : '';
    const name = knownHostsName(host, port);
    await handle.write(`${separator}${opts.hash ? hashedName(name) : name} ${key.type} ${blob.toString('base64')}\n`);
  } finally {
    await handle.close();
  }
}

interface DecisionInput {
  policy: HostKeyPolicy;
  lookup: KnownHostsLookup;
  key: HostKeyInfo;
  host: string;
  port: number;
  hop: string;
  checkPinned: boolean;
}

const INTERCEPTION_WARNING = 'Someone may be intercepting the connection (a man-in-the-middle attack), or the server was reinstalled or its key replaced.';

function sshCommand(host: string, port: number): string {
  return port === 22 ? `ssh ${host}` : `ssh -p ${port} ${host}`;
}

function describeOthers(key: HostKeyInfo, otherTypes: HostKeyInfo[]): string {
  if (otherTypes.length === 0) return '';
  const list = otherTypes.map((k) => `${k.type} ${k.fingerprint}`).join(', ');
  return ` (known_hosts does list ${list} for this host, but no ${key.type} key.)`;
}

function revokedError(input: DecisionInput, file: string, line: number): TunnelError {
  const { key, hop } = input;
  const name = knownHostsName(input.host, input.port);
  return new TunnelError(
    'HOST_KEY_REVOKED',
    `The ${key.type} host key offered by ${name} (${key.fingerprint}) is marked @revoked in ${file}:${line}, so it must never be trusted: ` +
      `its private key is known to be compromised or retired. Tunnelvision refused to connect. ` +
      `Ask the server's administrator for the server's current key; if the revocation is a mistake, delete that line.`,
    { hop },
  );
}

function pinnedError(input: DecisionInput, pinned: string): TunnelError {
  const { key, hop } = input;
  const name = knownHostsName(input.host, input.port);
  return new TunnelError(
    'HOST_KEY_CHANGED',
    `The ${key.type} host key offered by ${name} (${key.fingerprint}) is not the key pinned in this profile (${pinned}). ${INTERCEPTION_WARNING} ` +
      `Tunnelvision refused to connect. If the server's administrator confirms the new key is genuine, change the profile's pinned fingerprint to ${key.fingerprint}.`,
    { hop },
  );
}

function changedError(input: DecisionInput, known: Array<HostKeyInfo & { file: string; line: number }>): TunnelError {
  const { key, hop } = input;
  const name = knownHostsName(input.host, input.port);
  const where = known.map((k) => `${k.fingerprint} at ${k.file}:${k.line}`).join(', ');
  const files = [...new Set(known.map((k) => k.file))];
  const fixes = files.map((file) => `ssh-keygen -R '${name}' -f '${file}'`).join(' and ');
  return new TunnelError(
    'HOST_KEY_CHANGED',
    `The ${key.type} host key of ${name} has changed: the server now offers ${key.fingerprint}, but known_hosts expects ${where}. ${INTERCEPTION_WARNING} ` +
      `Tunnelvision refused to connect. If the server's administrator confirms the new key is genuine, remove the old key with ${fixes} and connect again.`,
    { hop },
  );
}

function notKnownError(input: DecisionInput, otherTypes: HostKeyInfo[]): TunnelError {
  const { key, hop } = input;
  const name = knownHostsName(input.host, input.port);
  return new TunnelError(
    'HOST_KEY_REJECTED',
    `The ${key.type} host key of ${name} (${key.fingerprint}) is not in known_hosts, and host-key checking (StrictHostKeyChecking) is "yes", so Tunnelvision will not trust it.` +
      `${describeOthers(key, otherTypes)} To add it, confirm the fingerprint with the server's administrator, then add it to known_hosts, for example by connecting once with \`${sshCommand(input.host, input.port)}\` and answering yes, ` +
      `or set this profile's host-key checking to "ask".`,
    { hop },
  );
}

/**
 * A host known by other key types that now shows a new type looks exactly like an impostor; ssh2
 * cannot ask the server for the known type first as OpenSSH does, so never trust it unasked.
 */
function newTypeError(input: DecisionInput, otherTypes: HostKeyInfo[]): TunnelError {
  const { key, hop } = input;
  const name = knownHostsName(input.host, input.port);
  return new TunnelError(
    'HOST_KEY_CHANGED',
    `${name} offered a ${key.type} host key (${key.fingerprint}), but known_hosts knows this host only by other key types ` +
      `(${otherTypes.map((k) => `${k.type} ${k.fingerprint}`).join(', ')}). A server that switched key types cannot be told apart from an impostor, ` +
      `so Tunnelvision did not connect. Confirm the new key with the server's administrator, then add it to known_hosts.`,
    { hop },
  );
}

function unknownKey(input: DecisionInput, otherTypes: HostKeyInfo[]): HostKeyDecision {
  switch (input.policy.strict) {
    case 'yes':
      return { action: 'refuse', error: notKnownError(input, otherTypes) };
    case 'ask':
      return { action: 'ask' };
    case 'accept-new':
    case 'no':
      if (otherTypes.length > 0) return { action: 'refuse', error: newTypeError(input, otherTypes) };
      // OpenSSH's "no" records new keys too; it only differs from accept-new for changed keys, which we always refuse.
      return { action: 'accept-and-save' };
  }
}

export function decideHostKey(input: DecisionInput): HostKeyDecision {
  const { lookup, key, policy } = input;
  if (lookup.status === 'revoked') return { action: 'refuse', error: revokedError(input, lookup.file, lookup.line) };
  if (input.checkPinned && policy.pinnedFingerprint) {
    // A pin is a deliberate statement about this exact server, so it outranks known_hosts.
    return key.fingerprint === policy.pinnedFingerprint ? { action: 'accept' } : { action: 'refuse', error: pinnedError(input, policy.pinnedFingerprint) };
  }
  switch (lookup.status) {
    case 'mismatch':
      return { action: 'refuse', error: changedError(input, lookup.known) };
    case 'match':
      return { action: 'accept' };
    case 'unknown':
      return unknownKey(input, lookup.otherTypes);
  }
}

function withHop(err: unknown, hop: string): unknown {
  return err instanceof TunnelError && err.hop === undefined ? new TunnelError(err.code, err.message, { hop, cause: err.cause }) : err;
}

function nobodyToAskError(check: HostKeyCheck, key: HostKeyInfo): TunnelError {
  const name = knownHostsName(check.host, check.port);
  return new TunnelError(
    'HOST_KEY_REJECTED',
    `The ${key.type} host key of ${name} (${key.fingerprint}) is not in known_hosts and host-key checking is "ask", but nobody could be asked ` +
      `(Tunnelvision is running without a window or terminal to answer). Connect once with \`${sshCommand(check.host, check.port)}\` to add the key after checking it, ` +
      `or set this profile's host-key checking to "accept-new".`,
    { hop: check.hop },
  );
}

function rejectedByYouError(check: HostKeyCheck, key: HostKeyInfo): TunnelError {
  const name = knownHostsName(check.host, check.port);
  return new TunnelError('HOST_KEY_REJECTED', `The ${key.type} host key of ${name} (${key.fingerprint}) was rejected by you, so Tunnelvision did not connect.`, { hop: check.hop });
}

async function save(check: HostKeyCheck, files: string[], key: HostKeyInfo, setup: KnownHostsSetup): Promise<void> {
  const file = files[0];
  if (file === undefined) return;
  try {
    await appendKnownHost(file, check.host, check.port, key.blob, { hash: await setup.hashNames(check.host) });
  } catch (err) {
    if (err instanceof TunnelError) throw err;
    // Trusting a key we could not record would make the next connection trust-on-first-use again.
    throw new TunnelError(
      'CONFIG_INVALID',
      `Could not save the host key of ${knownHostsName(check.host, check.port)} to ${file} (${(err as Error).message}), so Tunnelvision did not connect. ` +
        `Fix the file's permissions or choose another known_hosts file in the profile.`,
      { hop: check.hop, cause: err },
    );
  }
}

async function askPerson(check: HostKeyCheck, key: HostKeyInfo, lookup: KnownHostsLookup): Promise<boolean> {
  if (!check.ask) throw nobodyToAskError(check, key);
  const otherTypes = lookup.status === 'unknown' ? lookup.otherTypes : [];
  return check.ask({ hop: check.hop, host: check.host, port: check.port, key, otherTypes });
}

export async function checkHostKey(check: HostKeyCheck, blob: Buffer): Promise<HostKeyInfo> {
  const files = check.policy.knownHostsFiles.length > 0 ? check.policy.knownHostsFiles : defaultKnownHostsFiles();
  const setup = check.knownHosts ?? knownHostsSetup();
  try {
    const key = describeKey(blob);
    const lookup = await lookupHostKey([...files, ...setup.globalFiles], check.host, check.port, blob);
    const decision = decideHostKey({ ...check, lookup, key });
    switch (decision.action) {
      case 'refuse':
        throw decision.error;
      case 'ask':
        if (!(await askPerson(check, key, lookup))) throw rejectedByYouError(check, key);
        await save(check, files, key, setup);
        return key;
      case 'accept-and-save':
        await save(check, files, key, setup);
        return key;
      case 'accept':
        return key;
    }
  } catch (err) {
    throw withHop(err, check.hop);
  }
}
