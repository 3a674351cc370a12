import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  importSshConfig,
  listSshHosts,
  loadSshConfig,
  resolveJumpChain,
  resolveSshHost,
  type SshConfigSource,
} from '../app/profiles/sshConfig.js';
import { parseProfile, type FieldError, type Parsed } from '../app/profiles/validate.js';

let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'tunnelvision-sshconfig-'));
  // Relative Includes, ~ and %d all follow the home directory.
  vi.stubEnv('HOME', home);
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(home, { recursive: true, force: true });
});

function write(relative: string, text: string): string {
  const path = join(home, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Written to ~/.ssh/config and read back the way the CLI reads it. */
async function userConfig(text: string): Promise<SshConfigSource> {
  write('.ssh/config', text);
  return loadSshConfig(join(home, '.ssh/config'));
}

function value<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`expected success, got ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

function errors<T>(parsed: Parsed<T>): FieldError[] {
  if (parsed.ok) throw new Error(`expected failure, got ${JSON.stringify(parsed.value)}`);
  return parsed.errors;
}

describe('loadSshConfig', () => {
  it('reads the file, and a missing one as empty', async () => {
    const path = write('.ssh/config', 'Host a\n');
    await expect(loadSshConfig(path)).resolves.toEqual({ text: 'Host a\n', path });
    await expect(loadSshConfig(join(home, 'absent'))).resolves.toEqual({ text: '', path: join(home, 'absent') });
  });

  it('defaults to ~/.ssh/config', async () => {
    write('.ssh/config', 'Host default-one\n');
    await expect(loadSshConfig()).resolves.toEqual({ text: 'Host default-one\n', path: join(home, '.ssh/config') });
  });
});

describe('resolveSshHost', () => {
  const text = `
# first obtained value wins, so specific hosts come before Host *
Host db
  HostName db.internal
  User alice
  Port 2222
  IdentityFile ~/.ssh/id_db
  IdentityFile %d/.ssh/%r@%h:%p-%n-%%
  LocalForward 13306 db:3306
  LocalForward [::1]:15432 [fe80::1]:5432
  RemoteForward 8080 localhost:80
  DynamicForward 1080
  ServerAliveInterval 1m30s
  StrictHostKeyChecking off
  UserKnownHostsFile ~/.ssh/kh_a ~/.ssh/kh_%h
  Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com
  IdentitiesOnly yes
  UnknownFutureKeyword whatever

Host *
  User nobody
  Port 22
  IdentityFile ~/.ssh/id_ed25519
  IdentityFile ~/.ssh/id_db
  ServerAliveCountMax 5
  ConnectTimeout 10
  ProxyJump none
`;

  it('applies the first value, Host * defaults and every IdentityFile, tokens expanded', async () => {
    const config = await userConfig(text);
    expect(value(resolveSshHost(config, 'db'))).toEqual({
      alias: 'db',
      hostName: 'db.internal',
      port: 2222,
      user: 'alice',
      identityFiles: [join(home, '.ssh/id_db'), join(home, '.ssh/alice@db.internal:2222-db-%'), join(home, '.ssh/id_ed25519')],
      localForwards: ['13306:db:3306', '[::1]:15432:[fe80::1]:5432'],
      remoteForwards: ['8080:localhost:80'],
      dynamicForwards: ['1080'],
      serverAliveInterval: 90,
      serverAliveCountMax: 5,
      connectTimeout: 10,
      strictHostKeyChecking: 'no',
      userKnownHostsFiles: [join(home, '.ssh/kh_a'), join(home, '.ssh/kh_db.internal')],
      ciphers: ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
      identitiesOnly: true,
    });
  });

  it('resolves an alias no Host names to itself, with the defaults', async () => {
    const config = await userConfig(text);
    expect(value(resolveSshHost(config, 'elsewhere.example'))).toEqual({
      alias: 'elsewhere.example',
      hostName: 'elsewhere.example',
      port: 22,
      user: 'nobody',
      identityFiles: [join(home, '.ssh/id_ed25519'), join(home, '.ssh/id_db')],
      localForwards: [],
      remoteForwards: [],
      dynamicForwards: [],
      serverAliveCountMax: 5,
      connectTimeout: 10,
    });
  });

  it('uses the local user for %r when no User is set, and expands %h in HostName', async () => {
    const config = await userConfig('Host box\n  HostName %h.example.com\n  IdentityFile ~/keys/%r-%h\n');
    const host = value(resolveSshHost(config, 'box'));
    expect(host.hostName).toBe('box.example.com');
    expect(host.identityFiles).toEqual([join(home, `keys/${userInfo().username}-box.example.com`)]);
  });

  it('maps StrictHostKeyChecking and UserKnownHostsFile none as OpenSSH reads them', async () => {
    const config = await userConfig('Host a\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile none\nHost b\n  StrictHostKeyChecking Yes\n');
    expect(value(resolveSshHost(config, 'a'))).toMatchObject({ strictHostKeyChecking: 'accept-new', userKnownHostsFiles: ['/dev/null'] });
    expect(value(resolveSshHost(config, 'b'))).toMatchObject({ strictHostKeyChecking: 'yes' });
  });

  it('reports values it cannot use, each on its field', async () => {
    const config = await userConfig(
      [
        'Host bad',
        '  Port ssh',
        '  IdentityFile ~/.ssh/%C',
        '  IdentityFile ${TUNNELVISION_UNSET_VAR}/key',
        '  IdentityFile ~root/.ssh/id',
        '  ServerAliveInterval soon',
        '  StrictHostKeyChecking maybe',
        '  Ciphers +aes128-cbc',
        '',
      ].join('\n'),
    );
    expect(errors(resolveSshHost(config, 'bad'))).toEqual([
      { path: 'port', message: 'Port "ssh": must be a whole number' },
      { path: 'identityFiles', message: 'IdentityFile "~/.ssh/%C": unsupported token %C' },
      { path: 'identityFiles', message: 'IdentityFile "${TUNNELVISION_UNSET_VAR}/key": environment variable TUNNELVISION_UNSET_VAR is not set' },
      { path: 'identityFiles', message: 'IdentityFile "~root/.ssh/id": ~user paths are not supported' },
      { path: 'serverAliveInterval', message: 'ServerAliveInterval "soon": must be a time such as 30, 30s, 5m or 1h' },
      { path: 'strictHostKeyChecking', message: 'StrictHostKeyChecking "maybe": must be one of yes, true, accept-new, ask, no, off, false' },
      { path: 'ciphers', message: 'Ciphers "+aes128-cbc": changing the default list with +, - or ^ is not supported; list the ciphers' },
    ]);
  });

  it('expands ${VAR} in IdentityFile', async () => {
    vi.stubEnv('TUNNELVISION_KEYS', '/keys');
    const config = await userConfig('Host a\n  IdentityFile ${TUNNELVISION_KEYS}/a\n');
    expect(value(resolveSshHost(config, 'a')).identityFiles).toEqual(['/keys/a']);
  });

  it('returns errors naming the file for a config it cannot parse', async () => {
    const config = await userConfig('Host a\n  HostName "unterminated\n');
    expect(errors(resolveSshHost(config, 'a'))).toEqual([
      { path: '', message: `${join(home, '.ssh/config')}: cannot parse: line 2: a quoted value is not closed` },
    ]);
    const bare = await userConfig('Host a\n  Port\n  HostName x\n');
    expect(errors(resolveSshHost(bare, 'a'))).toEqual([{ path: '', message: `${join(home, '.ssh/config')}: line 2: keyword without a value` }]);
  });

  it('never runs Match exec commands', async () => {
    const marker = join(home, 'ran');
    const config = await userConfig(`Match exec "touch ${marker}"\n  User matched\nHost *\n  User fallback\n`);
    expect(value(resolveSshHost(config, 'a')).user).toBe('fallback');
    expect(existsSync(marker)).toBe(false);
  });

  it('applies Match host blocks', async () => {
    const config = await userConfig('Host a\n  HostName a.prod.example\nMatch host *.prod.example\n  User prod\n');
    expect(value(resolveSshHost(config, 'a')).user).toBe('prod');
  });
});

describe('Include', () => {
  it('reads a glob relative to ~/.ssh in lexical order, skipping dot files and non-matches', async () => {
    write('.ssh/conf.d/20-web.conf', 'Host web\n  HostName web.internal\n  LocalForward 8080 localhost:80\n');
    write('.ssh/conf.d/10-db.conf', 'Host db\n  HostName db.internal\n  User from-include\n');
    write('.ssh/conf.d/.hidden.conf', 'Host hidden\n');
    write('.ssh/conf.d/notes.txt', 'Host notes\n');
    const config = await userConfig('Include conf.d/*.conf\n\nHost db\n  User from-main\n\nHost *\n  User default\n');
    expect(value(listSshHosts(config))).toEqual(['db', 'web']);
    expect(value(resolveSshHost(config, 'db'))).toMatchObject({ hostName: 'db.internal', user: 'from-include' });
    expect(value(resolveSshHost(config, 'web'))).toMatchObject({ hostName: 'web.internal', user: 'default', localForwards: ['8080:localhost:80'] });
  });

  it('follows absolute and ~ paths and ignores an Include that matches nothing', async () => {
    const absolute = write('elsewhere/abs.conf', 'Host abs\n  Port 2001\n');
    write('tilde.conf', 'Host tilde\n  Port 2002\n');
    const config = await userConfig(`Include ${absolute} ~/tilde.conf\nInclude ~/missing/*.conf missing.conf\n`);
    expect(value(listSshHosts(config))).toEqual(['abs', 'tilde']);
    expect(value(resolveSshHost(config, 'tilde')).port).toBe(2002);
  });

  it('reads an Include inside a Host block only for that host, then continues the block', async () => {
    write('.ssh/web-extra.conf', 'User deploy\nHost sidecar\n  HostName sidecar.internal\n');
    const config = await userConfig('Host web\n  Include web-extra.conf\n  Port 2200\nHost other\n  Port 2300\n');
    expect(value(resolveSshHost(config, 'web'))).toMatchObject({ user: 'deploy', port: 2200 });
    expect(value(resolveSshHost(config, 'other'))).not.toHaveProperty('user');
    // sidecar only exists while resolving a host that matches "web": ssh could never use it.
    expect(value(listSshHosts(config))).toEqual(['web', 'other']);
  });

  it('reads plain settings included inside a Match block, but not Host blocks there', async () => {
    write('.ssh/prod.conf', 'User prod\n');
    const config = await userConfig('Host a\n  HostName a.prod.example\nMatch host *.prod.example\n  Include prod.conf\n');
    expect(value(resolveSshHost(config, 'a')).user).toBe('prod');
    write('.ssh/prod.conf', 'Host b\n  User prod\n');
    expect(errors(resolveSshHost(config, 'a'))).toEqual([
      { path: '', message: `${join(home, '.ssh/config')}: a file included inside a Match block may not contain Host or Match blocks` },
    ]);
  });

  it('stops an Include loop at 16 levels', async () => {
    const config = await userConfig('Include config\n');
    expect(errors(resolveSshHost(config, 'a'))).toEqual([
      { path: '', message: `${join(home, '.ssh/config')}: Include nested more than 16 deep (does a file include itself?)` },
    ]);
  });

  it('names the included file that cannot be parsed', async () => {
    const broken = write('.ssh/broken.conf', 'Match host\n');
    const config = await userConfig('Include broken.conf\n');
    expect(errors(listSshHosts(config))).toEqual([{ path: '', message: `${broken}: cannot parse: line 1: a Match criterion without a value` }]);
  });
});

describe('listSshHosts', () => {
  it('lists concrete aliases once, in file order, without patterns', async () => {
    const config = await userConfig('Host a b\nHost *.example c?\nHost d !e\nHost a\nMatch host x\nHost *\n');
    expect(value(listSshHosts(config))).toEqual(['a', 'b', 'd']);
  });
});

describe('resolveJumpChain', () => {
  const text = `
Host target
  HostName 10.0.0.5
  ProxyJump inner
Host inner
  HostName inner.internal
  User ops
  IdentityFile ~/.ssh/%r-inner
  ProxyJump edge
Host edge
  HostName edge.example.com
  Port 2222
Host loop-a
  ProxyJump loop-b
Host loop-b
  ProxyJump loop-a
Host self
  ProxyJump self
Host commanded
  ProxyCommand nc %h %p
`;

  it("follows the first hop's own ProxyJump through aliases", async () => {
    const config = await userConfig(text);
    expect(value(resolveJumpChain(config, 'inner', 'target'))).toEqual([
      { host: 'edge.example.com', port: 2222, identityFiles: [] },
      { host: 'inner.internal', user: 'ops', identityFiles: [join(home, '.ssh/ops-inner')] },
    ]);
  });

  it('lets the spec override user and port, and ignores ProxyJump on later hops as ssh -J does', async () => {
    const config = await userConfig(text);
    expect(value(resolveJumpChain(config, 'admin@edge:22,root@inner'))).toEqual([
      { host: 'edge.example.com', port: 22, user: 'admin', identityFiles: [] },
      { host: 'inner.internal', user: 'root', identityFiles: [join(home, '.ssh/root-inner')] },
    ]);
  });

  it('passes plain host names through', async () => {
    const config = await userConfig(text);
    expect(value(resolveJumpChain(config, '[2001:db8::1]:2200,bastion.example'))).toEqual([
      { host: '2001:db8::1', port: 2200, identityFiles: [] },
      { host: 'bastion.example', identityFiles: [] },
    ]);
  });

  it('catches loops, including a host that jumps through itself', async () => {
    const config = await userConfig(text);
    expect(errors(resolveJumpChain(config, 'loop-b', 'loop-a'))).toEqual([{ path: 'proxyJump', message: 'ProxyJump loop: loop-a → loop-b → loop-a' }]);
    expect(errors(resolveJumpChain(config, 'self', 'self'))).toEqual([{ path: 'proxyJump', message: 'ProxyJump loop: self → self' }]);
  });

  it('rejects a first hop reached by ProxyCommand and a bad spec', async () => {
    const config = await userConfig(text);
    expect(errors(resolveJumpChain(config, 'commanded'))).toEqual([
      { path: 'proxyJump', message: 'jump host "commanded": ProxyCommand is not supported' },
    ]);
    expect(errors(resolveJumpChain(config, 'edge:port'))).toEqual([{ path: 'proxyJump', message: 'must be a number (-J "edge:port")' }]);
  });
});

describe('importSshConfig', () => {
  const text = `
Host db
  HostName db.internal
  User alice
  IdentityFile ~/.ssh/id_db
  ProxyJump bastion
  LocalForward 13306 localhost:3306
  LocalForward [::1]:15432 [fe80::1]:5432
  ServerAliveInterval 30
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ~/.ssh/known_hosts_work

Host bastion
  HostName bastion.example.com
  Port 2222
  User jump

Host socks
  HostName proxy.example.com
  DynamicForward *:1080
  RemoteForward 0 localhost:22
  ConnectTimeout 20
  Ciphers aes256-gcm@openssh.com

Host broken
  LocalForward 13306 /var/run/mysqld/mysqld.sock

Host reverse-socks
  RemoteForward 1080

Host loop
  ProxyJump loop
  LocalForward 1 a:1

Host viacommand
  ProxyCommand ssh -W %h:%p bastion
  LocalForward 8080 localhost:80

Host same-port
  LocalForward 8080 a:80
  LocalForward 8080 b:80

Host web+prod web~prod
  HostName web.internal
  LocalForward 8443 localhost:443

Host user@host
  LocalForward 8444 localhost:443

Host *
  ServerAliveCountMax 4
`;

  it('turns each Host with forwards into a valid profile and says why it skipped the rest', async () => {
    const config = await userConfig(text);
    const { profiles, skipped } = value(importSshConfig(config));

    expect(profiles.map((p) => p.id)).toEqual(['db', 'socks', 'web-prod', 'web-prod-2']);
    for (const profile of profiles) expect(parseProfile(profile).ok).toBe(true);

    expect(profiles[0]).toEqual({
      kind: 'ssh',
      id: 'db',
      name: 'db',
      server: { host: 'db.internal', user: 'alice', auth: { method: 'auto', keyFiles: [join(home, '.ssh/id_db')] } },
      jumps: [{ host: 'bastion.example.com', port: 2222, user: 'jump', auth: { method: 'auto' } }],
      hostKey: { strict: 'accept-new', knownHostsFiles: [join(home, '.ssh/known_hosts_work')] },
      keepalive: { intervalSeconds: 30, countMax: 4 },
      forwards: [
        { type: 'local', bindHost: '127.0.0.1', bindPort: 13306, targetHost: 'localhost', targetPort: 3306 },
        { type: 'local', bindHost: '::1', bindPort: 15432, targetHost: 'fe80::1', targetPort: 5432 },
      ],
    });
    expect(profiles[1]).toEqual({
      kind: 'ssh',
      id: 'socks',
      name: 'socks',
      server: { host: 'proxy.example.com', auth: { method: 'auto' } },
      jumps: [],
      keepalive: { countMax: 4 },
      connectTimeoutSeconds: 20,
      ciphers: ['aes256-gcm@openssh.com'],
      forwards: [
        { type: 'remote', bindHost: '127.0.0.1', bindPort: 0, targetHost: 'localhost', targetPort: 22 },
        { type: 'dynamic', bindHost: '0.0.0.0', bindPort: 1080 },
      ],
    });
    expect(profiles.slice(2).map((p) => p.name)).toEqual(['web+prod', 'web~prod']);

    expect(skipped).toEqual([
      { alias: 'bastion', reason: 'no LocalForward, RemoteForward or DynamicForward' },
      { alias: 'broken', reason: '-L "13306:/var/run/mysqld/mysqld.sock": Unix-socket forwarding is not supported' },
      { alias: 'reverse-socks', reason: '-R "1080": remote dynamic (SOCKS) forwarding is not supported; give host:hostport' },
      { alias: 'loop', reason: 'proxyJump: ProxyJump loop: loop → loop' },
      { alias: 'viacommand', reason: 'ProxyCommand is not supported (use ProxyJump)' },
      { alias: 'same-port', reason: 'forwards[1].bindPort: 127.0.0.1:8080 is already used by forwards[0]' },
      { alias: 'user@host', reason: 'HostName: must not contain "@": give a host name (letters, digits, "-", "_" and dots), an IPv4 address or an IPv6 address' },
    ]);
  });

  it('reports a config it cannot parse instead of importing nothing', async () => {
    const config = await userConfig('Host "a\n');
    expect(errors(importSshConfig(config))[0]?.message).toMatch(/^.*\.ssh\/config: cannot parse: /);
  });

  it('imports nothing from an empty config', async () => {
    const config = await loadSshConfig(join(home, 'no-such-config'));
    expect(value(importSshConfig(config))).toEqual({ profiles: [], skipped: [] });
  });
});
