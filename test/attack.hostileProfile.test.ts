// Issue 13, finding 1: a hostile profile (shared JSON, imported ssh_config) must not be able to
// write attacker-chosen lines into a file the person owns. Each attack is the one the review proved
// against the old engine: the attacker's own SSH server is the jump host (in-process ssh2), HOME is
// a temp directory, and a real OpenSSH sshd judges whether authorized_keys was subverted.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import ssh2, { type Connection, type Server } from 'ssh2';
import { checkHostKey, type KnownHostsSetup } from '../app/engine/hostKeys.js';
import { openSession, type SessionOptions } from '../app/engine/session.js';
import { parseProfile, formatErrors } from '../app/profiles/validate.js';
import type { Endpoint } from '../app/profiles/schema.js';
import { TunnelError } from '../app/shared/errors.js';
import { makeKey, Sshd, type KeyPair } from './support/sshd.js';

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { env, timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });

/** The attacker's SSH server: accepts anyone, and answers every direct-tcpip request with itself. */
interface Attacker {
  port: number;
  key: KeyPair;
  dispose(): Promise<void>;
}

async function startAttacker(dir: string): Promise<Attacker> {
  const key = makeKey(dir, 'attacker_key');
  const connections = new Set<Connection>();
  const sockets = new Set<ReturnType<typeof connect>>();
  const server: Server = new ssh2.Server({ hostKeys: [readFileSync(key.path)] }, (client) => {
    connections.add(client);
    client.on('error', () => {});
    client.on('close', () => connections.delete(client));
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () => {
      client.on('tcpip', (accept) => {
        // Whatever host the victim asks for ("no-pty", "*"), the attacker's server answers as it.
        const channel = accept();
        const sock = connect({ host: '127.0.0.1', port });
        sockets.add(sock);
        sock.on('error', () => channel.destroy());
        sock.on('close', () => sockets.delete(sock));
        channel.on('error', () => sock.destroy());
        channel.pipe(sock).pipe(channel);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    key,
    async dispose() {
      for (const s of sockets) s.destroy();
      for (const c of connections) c.end();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let home: string;
let savedHome: string | undefined;
let attacker: Attacker;
let clientKey: KeyPair;
/** Never this machine's /etc: no global known_hosts, names written plainly unless a test says otherwise. */
const isolated: KnownHostsSetup = { globalFiles: [], hashNames: () => Promise.resolve(false) };

beforeAll(async () => {
  const keys = mkdtempSync(join(tmpdir(), 'tv-attack-keys-'));
  clientKey = makeKey(keys, 'victim_key');
  attacker = await startAttacker(keys);
});
afterAll(() => attacker.dispose());

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'tv-attack-home-'));
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  savedHome = process.env.HOME;
  process.env.HOME = home;
});
afterEach(() => {
  process.env.HOME = savedHome;
  rmSync(home, { recursive: true, force: true });
});

function endpoint(host: string, port: number): Endpoint {
  return { host, port, auth: { method: 'key', keyFiles: [clientKey.path] } };
}

function sessionOptions(server: Endpoint, jumps: Endpoint[], knownHostsFiles: string[], knownHosts: KnownHostsSetup = isolated): SessionOptions {
  return {
    server,
    jumps,
    hostKey: { strict: 'accept-new', knownHostsFiles, allowSha1Rsa: false },
    keepalive: { intervalSeconds: 0, countMax: 3 },
    connectTimeoutMs: 10_000,
    prompter: {},
    defaultUser: userInfo().username,
    knownHosts,
  };
}

/** Opens a session as the engine would; a session that opens is closed again at once. */
async function attempt(opts: SessionOptions): Promise<unknown> {
  try {
    const session = await openSession(opts);
    await session.dispose();
    return undefined;
  } catch (err) {
    return err;
  }
}

function expectUnsafe(err: unknown, file: string): void {
  expect(err, 'the write must be refused').toBeInstanceOf(TunnelError);
  expect(err).toMatchObject({ code: 'KNOWN_HOSTS_UNSAFE', hop: expect.any(String) });
  expect((err as Error).message).toContain(file);
}

describe('attack (a): "no-pty" as host, ~/.ssh/authorized_keys as known_hosts, accept-new', () => {
  let sshd: Sshd;
  beforeEach(async () => {
    sshd = await Sshd.start({ config: [`AuthorizedKeysFile ${join(home, '.ssh', 'authorized_keys')}`] });
  });
  afterEach(() => sshd.dispose());

  it('refuses to record the key, leaves authorized_keys byte for byte, and sshd still refuses the attacker', async () => {
    const authorized = join(home, '.ssh', 'authorized_keys');
    writeFileSync(authorized, `${sshd.clientKey.publicKey}\n`, { mode: 0o600 });
    const before = readFileSync(authorized);

    const err = await attempt(sessionOptions(endpoint('no-pty', 22), [endpoint('127.0.0.1', attacker.port)], ['~/.ssh/authorized_keys']));

    expectUnsafe(err, authorized);
    expect(readFileSync(authorized).equals(before)).toBe(true);
    const login = await run('ssh', [
      '-F', '/dev/null', '-i', attacker.key.path, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null', '-p', String(sshd.port), `${sshd.user}@127.0.0.1`, 'true',
    ], { ...process.env, HOME: home });
    expect(login.code, 'sshd must not accept the attacker\'s key').toBe(255);
  });
});

describe('attack (b): a shell command as host, ~/.bashrc as known_hosts', () => {
  it('refuses the host name at parse time, naming the field', () => {
    const parsed = parseProfile({
      id: 'evil',
      name: 'evil',
      server: { host: '$(id>pwned)', port: 22 },
      hostKey: { strict: 'accept-new', knownHostsFiles: ['~/.bashrc'] },
      forwards: [{ type: 'local', bindPort: 13306, targetHost: 'db', targetPort: 3306 }],
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(formatErrors(parsed.errors)).toContain('server.host: must not contain "$"');
  });

  it('refuses .bashrc as a known_hosts file for a valid host, before writing anything', async () => {
    const bashrc = join(home, '.bashrc');
    writeFileSync(bashrc, '# my shell\nexport PATH\n');
    const before = readFileSync(bashrc);
    const err = await attempt(sessionOptions(endpoint('127.0.0.1', attacker.port), [], ['~/.bashrc']));
    expectUnsafe(err, bashrc);
    expect(readFileSync(bashrc).equals(before)).toBe(true);
  });
});

describe('attack (c): "*" as host', () => {
  it('is refused in server.host, jumps[].host and a forward\'s targetHost', () => {
    const parsed = parseProfile({
      id: 'star',
      name: 'star',
      server: { host: '*', port: 22 },
      jumps: [{ host: '*' }],
      forwards: [{ type: 'local', bindPort: 13306, targetHost: '*', targetPort: 3306 }],
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const message = formatErrors(parsed.errors);
    for (const field of ['server.host', 'jumps[0].host', 'forwards[0].targetHost']) expect(message).toContain(`${field}: must not contain "*"`);
  });

  it('can never be written into known_hosts, even by a caller that skips the schema', async () => {
    const file = join(home, '.ssh', 'known_hosts');
    const err = await attempt(sessionOptions(endpoint('*', 22), [endpoint('127.0.0.1', attacker.port)], []));
    expect(err).toBeInstanceOf(TunnelError);
    const direct = await checkHostKey({ host: '*', port: 22, hop: '*:22', policy: { strict: 'accept-new', knownHostsFiles: [file], allowSha1Rsa: false }, checkPinned: true, knownHosts: isolated }, attacker.key.blob).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(direct).toMatchObject({ code: 'KNOWN_HOSTS_UNSAFE' });
    // OpenSSH's own reading of the file: no line vouches for an arbitrary host.
    const found = await run('ssh-keygen', ['-F', 'anything.example', '-f', file]);
    expect(found.stdout).not.toContain(attacker.key.publicKey.split(' ')[1]!);
  });
});

describe('attack (d): a symlink named known_hosts that leaves its directory', () => {
  it('is refused, and the file it points to is left alone', async () => {
    const authorized = join(home, '.ssh', 'authorized_keys');
    writeFileSync(authorized, `${clientKey.publicKey}\n`);
    const before = readFileSync(authorized);
    mkdirSync(join(home, 'shared'));
    const link = join(home, 'shared', 'known_hosts');
    symlinkSync('../.ssh/authorized_keys', link);
    expectUnsafe(await attempt(sessionOptions(endpoint('127.0.0.1', attacker.port), [], [link])), link);
    expect(readFileSync(authorized).equals(before)).toBe(true);

    // Even to a real known_hosts file: a link out of its folder is how a file elsewhere gets written.
    const elsewhere = join(home, '.ssh', 'known_hosts_team');
    writeFileSync(elsewhere, '');
    const link2 = join(home, 'shared', 'known_hosts2');
    symlinkSync(elsewhere, link2);
    expectUnsafe(await attempt(sessionOptions(endpoint('127.0.0.1', attacker.port), [], [link2])), link2);
    expect(readFileSync(elsewhere, 'utf8')).toBe('');
  });

  it('follows a link that stays in its own directory', async () => {
    const target = join(home, 'shared', 'known_hosts.real');
    mkdirSync(join(home, 'shared'));
    writeFileSync(target, '# team hosts\n');
    symlinkSync('known_hosts.real', join(home, 'shared', 'known_hosts'));
    expect(await attempt(sessionOptions(endpoint('127.0.0.1', attacker.port), [], [join(home, 'shared', 'known_hosts')]))).toBeUndefined();
    expect(readFileSync(target, 'utf8')).toContain(`[127.0.0.1]:${attacker.port} ssh-ed25519 `);
  });
});

describe('(e) HashKnownHosts, judged by OpenSSH', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await Sshd.start();
  });
  afterAll(() => sshd.dispose());

  const sshAccepts = (file: string) =>
    run('ssh', [
      '-F', '/dev/null', '-i', sshd.clientKey.path, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-p', String(sshd.port), `${sshd.user}@127.0.0.1`, 'true',
    ], { ...process.env, HOME: home });

  it.each([
    ['yes', 'Host *\n  HashKnownHosts yes\n', true],
    ['no', 'Host *\n  HashKnownHosts no\n', false],
  ] as const)('the user\'s ssh config says HashKnownHosts %s over a system config that says yes', async (_label, userConfig, hashed) => {
    const userConfigPath = join(home, '.ssh', 'config');
    const systemConfigPath = join(home, 'etc_ssh_config');
    writeFileSync(userConfigPath, userConfig);
    writeFileSync(systemConfigPath, 'Host *\n  HashKnownHosts yes\n');
    const { knownHostsSetup } = await import('../app/engine/hostKeys.js');
    const setup = knownHostsSetup({ sshConfigFiles: [userConfigPath, systemConfigPath], globalFiles: [] });
    const server = { host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key' as const, keyFiles: [sshd.clientKey.path] } };

    expect(await attempt(sessionOptions(server, [], [], setup))).toBeUndefined();

    const file = join(home, '.ssh', 'known_hosts');
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('|1|')).toBe(hashed);
    expect(text.includes('127.0.0.1')).toBe(!hashed);
    const found = await run('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', file]);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain(sshd.hostKey.publicKey.split(' ')[1]!);
    const login = await sshAccepts(file);
    expect(login.code, login.stderr).toBe(0);
  });

  it('falls back to the system config when the user\'s says nothing', async () => {
    const systemConfigPath = join(home, 'etc_ssh_config');
    writeFileSync(systemConfigPath, 'Host *\n  HashKnownHosts yes\n');
    const { knownHostsSetup } = await import('../app/engine/hostKeys.js');
    const setup = knownHostsSetup({ sshConfigFiles: [join(home, '.ssh', 'no-such-config'), systemConfigPath], globalFiles: [] });
    expect(await setup.hashNames('db.example.com')).toBe(true);
    const none = knownHostsSetup({ sshConfigFiles: [join(home, '.ssh', 'no-such-config')], globalFiles: [] });
    expect(await none.hashNames('db.example.com')).toBe(false);
  });
});

describe('(f) the global known_hosts files', () => {
  it('a key @revoked in a global file refuses the host, even when the user\'s file trusts it', async () => {
    const user = join(home, '.ssh', 'known_hosts');
    const line = attacker.key.publicKey.split(' ').slice(0, 2).join(' ');
    writeFileSync(user, `[127.0.0.1]:${attacker.port} ${line}\n`);
    const global = join(home, 'ssh_known_hosts');
    writeFileSync(global, `@revoked * ${line}\n`);
    const err = await attempt(sessionOptions(endpoint('127.0.0.1', attacker.port), [], [], { globalFiles: [global], hashNames: () => Promise.resolve(false) }));
    expect(err).toMatchObject({ code: 'HOST_KEY_REVOKED' });
    expect((err as Error).message).toContain(global);
  });

  it('a key listed in a global file is trusted under "yes", and nothing is written to it', async () => {
    const global = join(home, 'ssh_known_hosts');
    writeFileSync(global, `[127.0.0.1]:${attacker.port} ${attacker.key.publicKey.split(' ').slice(0, 2).join(' ')}\n`);
    const before = readFileSync(global);
    const opts = sessionOptions(endpoint('127.0.0.1', attacker.port), [], [], { globalFiles: [global], hashNames: () => Promise.resolve(false) });
    expect(await attempt({ ...opts, hostKey: { ...opts.hostKey, strict: 'yes' } })).toBeUndefined();
    expect(readFileSync(global).equals(before)).toBe(true);
  });
});
