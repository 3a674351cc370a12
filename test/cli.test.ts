// The `tunnelvision` bin end to end, as a subprocess against a real OpenSSH sshd.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './support/cli.js';
import { freePort } from './support/net.js';
import { hashServer, sendAndHash, type TcpTarget } from './support/servers.js';
import { Sshd, makeKey } from './support/sshd.js';

let sshd: Sshd;
let target: TcpTarget;
let dir: string;

beforeAll(async () => {
  sshd = await Sshd.start();
  target = await hashServer();
  dir = mkdtempSync(join(tmpdir(), 'tv-cli-'));
});

afterAll(async () => {
  await target?.close();
  await sshd?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Flags for the test server: its port, our key, a known_hosts file that knows it. */
function serverFlags(knownHosts = sshd.writeKnownHosts(join(dir, 'known_hosts'))): string[] {
  return ['-p', String(sshd.port), '-i', sshd.clientKey.path, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '--json', `${sshd.user}@127.0.0.1`];
}

async function stopCli(run: CliRun): Promise<number | null> {
  run.proc.kill('SIGINT');
  const { code } = await run.exit;
  return code;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('tunnelvision connect', () => {
  it('opens -L, carries data intact, and on SIGINT closes, frees the port and exits 0', async () => {
    const port = await freePort();
    const run = runCli(['connect', '-N', '-L', `${port}:127.0.0.1:${target.port}`, ...serverFlags()]);
    const open = await run.waitFor((e) => e.state === 'open', 'open');
    expect(open).toMatchObject({ event: 'state', forwards: [{ type: 'local', bindHost: '127.0.0.1', bindPort: port, targetPort: target.port }] });
    // "open" is printed only once the listener accepts connections: connect right away.
    const r = await sendAndHash(port, 1_000_000);
    expect(r.reply).toBe(r.sent);
    expect(await stopCli(run)).toBe(0);
    expect(run.events.at(-1)).toMatchObject({ event: 'state', state: 'closed' });
    expect(await portIsFree(port)).toBe(true);
  });

  it('resolves a Host alias from -F: HostName, Port, User, IdentityFile, LocalForward, UserKnownHostsFile', async () => {
    const port = await freePort();
    const config = join(dir, 'ssh_config');
    writeFileSync(
      config,
      [
        'Host db-tunnel',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.clientKey.path}`,
        `  LocalForward ${port} 127.0.0.1:${target.port}`,
        `  UserKnownHostsFile ${sshd.writeKnownHosts(join(dir, 'known_hosts_alias'))}`,
        '  StrictHostKeyChecking yes',
        '',
      ].join('\n'),
    );
    const run = runCli(['connect', '-F', config, '--json', 'db-tunnel']);
    await run.waitFor((e) => e.state === 'open', 'open');
    const r = await sendAndHash(port, 10_000);
    expect(r.reply).toBe(r.sent);
    expect(await stopCli(run)).toBe(0);
  });

  it('refuses an unknown host key under StrictHostKeyChecking=yes: exit 255, one line naming the key', async () => {
    const empty = join(dir, 'known_hosts_empty');
    writeFileSync(empty, '');
    const run = runCli(['connect', '-L', `${await freePort()}:127.0.0.1:1`, '-p', String(sshd.port), '-i', sshd.clientKey.path, '-o', `UserKnownHostsFile=${empty}`, '-o', 'StrictHostKeyChecking=yes', `${sshd.user}@127.0.0.1`]);
    const { code } = await run.exit;
    expect(code).toBe(255);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tunnelvision: /);
    expect(lines[0]).toContain(`127.0.0.1:${sshd.port}`);
    expect(lines[0]).toContain(`SHA256:`);
  });

  it('refuses a changed host key, showing both fingerprints, even with StrictHostKeyChecking=no', async () => {
    const other = makeKey(dir, 'other_host_key');
    const known = join(dir, 'known_hosts_changed');
    writeFileSync(known, `[127.0.0.1]:${sshd.port} ${other.publicKey.split(' ').slice(0, 2).join(' ')}\n`);
    const run = runCli(['connect', '-L', `${await freePort()}:127.0.0.1:1`, '-p', String(sshd.port), '-i', sshd.clientKey.path, '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=no', `${sshd.user}@127.0.0.1`]);
    expect((await run.exit).code).toBe(255);
    const fpOther = readFileSync(`${other.path}.pub`, 'utf8');
    expect(fpOther).toBeTruthy();
    const err = run.stderr();
    expect(err.match(/SHA256:[A-Za-z0-9+/]{43}/g)?.length).toBeGreaterThanOrEqual(2);
    expect(err).toMatch(/changed/i);
    // The key in the file was not replaced.
    expect(readFileSync(known, 'utf8')).toContain(other.publicKey.split(' ')[1]);
  });

  it('accept-new records a new host key and connects', async () => {
    // Outside ~/.ssh the engine writes only a known_hosts file that already exists.
    const known = join(dir, 'known_hosts_new');
    writeFileSync(known, '');
    const port = await freePort();
    const run = runCli(['connect', '--json', '-L', `${port}:127.0.0.1:${target.port}`, '-p', String(sshd.port), '-i', sshd.clientKey.path, '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=accept-new', `${sshd.user}@127.0.0.1`]);
    await run.waitFor((e) => e.state === 'open', 'open');
    expect(await stopCli(run)).toBe(0);
    // Hashed or not depends on this machine's HashKnownHosts; OpenSSH finds it either way.
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', known], { encoding: 'utf8' });
    expect(found).toContain(sshd.hostKey.publicKey.split(' ').slice(0, 2).join(' '));
  });

  it('asks through SSH_ASKPASS when there is no terminal (StrictHostKeyChecking=ask)', async () => {
    const known = join(dir, 'known_hosts_ask');
    writeFileSync(known, '');
    const askpass = join(dir, 'askpass.sh');
    const asked = join(dir, 'asked.txt');
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s|%s' "$SSH_ASKPASS_PROMPT" "$1" > '${asked}'\necho yes\n`);
    chmodSync(askpass, 0o755);
    const port = await freePort();
    const run = runCli(['connect', '--json', '-L', `${port}:127.0.0.1:${target.port}`, '-p', String(sshd.port), '-i', sshd.clientKey.path, '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=ask', `${sshd.user}@127.0.0.1`], {
      SSH_ASKPASS: askpass,
      SSH_ASKPASS_REQUIRE: 'force',
    });
    await run.waitFor((e) => e.state === 'open', 'open');
    expect(await stopCli(run)).toBe(0);
    const question = readFileSync(asked, 'utf8');
    expect(question).toMatch(/^confirm\|The authenticity of host .*127\.0\.0\.1.* can't be established\./s);
    expect(question).toContain('ED25519 key fingerprint is SHA256:');
  });

  it('fails authentication with exit 255 and a line saying what was tried', async () => {
    const stranger = makeKey(dir, 'stranger');
    const run = runCli(['connect', '-L', `${await freePort()}:127.0.0.1:1`, '-p', String(sshd.port), '-i', stranger.path, '-o', `UserKnownHostsFile=${sshd.writeKnownHosts(join(dir, 'kh_auth'))}`, '-o', 'BatchMode=yes', `${sshd.user}@127.0.0.1`], { SSH_AUTH_SOCK: '' });
    expect((await run.exit).code).toBe(255);
    expect(run.stderr()).toMatch(/^tunnelvision: .*Permission denied at .*127\.0\.0\.1.*key .*stranger/m);
  });

  it('reports a local port in use by another program: exit 255, port and holder named', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const run = runCli(['connect', '-L', `${port}:127.0.0.1:${target.port}`, ...serverFlags().filter((f) => f !== '--json')]);
    const { code } = await run.exit;
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    expect(code).toBe(255);
    expect(run.stderr()).toContain(`127.0.0.1:${port} is already in use by node (pid ${process.pid})`);
  });

  it.each([
    [['-L', '99999:db:3306'], /bindPort: must be 1–65535/],
    [['-L', '13306:db'], /expected \[bind_address:\]port:host:hostport/],
    [['-o', 'Bogus=yes', '-L', '1:a:1'], /"Bogus" is not an option/],
    [['-o', 'StrictHostKeyChecking=maybe', '-L', '1:a:1'], /StrictHostKeyChecking.*must be yes, accept-new, ask, no or off/],
    [[], /Nothing to forward/],
  ])('rejects bad flags %j with exit 2 and a field-level message', async (flags, message) => {
    const run = runCli(['connect', ...flags, 'example.invalid']);
    expect((await run.exit).code).toBe(2);
    expect(run.stderr()).toMatch(message);
    expect(run.stderr()).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe('tunnelvision demo', () => {
  it('opens a demo tunnel whose page loads through it', async () => {
    const port = await freePort();
    const run = runCli(['demo', '--json', '--port', String(port)]);
    await run.waitFor((e) => e.state === 'open', 'open');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toContain('this page came through an SSH tunnel');
    expect(await stopCli(run)).toBe(0);
  });
});

describe('saved profiles', () => {
  it('import → list → export (no secrets) → up NAME opens the saved tunnel', async () => {
    const configDir = join(dir, 'config');
    const port = await freePort();
    const file = join(dir, 'import.json');
    const profile = {
      id: 'db',
      name: 'Database',
      server: { host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [sshd.clientKey.path], passphraseRef: 'secret-1' } },
      hostKey: { strict: 'yes', knownHostsFiles: [sshd.writeKnownHosts(join(dir, 'kh_profiles'))] },
      forwards: [{ type: 'local', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port }],
    };
    writeFileSync(file, JSON.stringify({ version: 1, profiles: [profile, { id: 'broken', name: 'x', server: { host: 'h' }, forwards: [{ type: 'local', bindPort: 70000, targetHost: 'a', targetPort: 1 }] }] }));

    const imported = runCli(['import', file, '--yes', '--config-dir', configDir]);
    expect((await imported.exit).code).toBe(1);
    expect(imported.stdout()).toContain('added 1: db');
    expect(imported.stdout()).toMatch(/skipped #2 \(broken\): forwards\[0\]\.bindPort: must be 1–65535/);

    const list = runCli(['list', '--config-dir', configDir]);
    expect((await list.exit).code).toBe(0);
    expect(list.stdout()).toContain('Database');
    expect(list.stdout()).toContain(`-L ${port}:127.0.0.1:${target.port}`);

    const exported = runCli(['export', '--config-dir', configDir]);
    expect((await exported.exit).code).toBe(0);
    expect(exported.stdout()).not.toContain('secret-1');
    expect(JSON.parse(exported.stdout())).toMatchObject({ version: 1, profiles: [{ id: 'db' }] });

    const up = runCli(['up', 'Database', '--json', '--config-dir', configDir]);
    await up.waitFor((e) => e.state === 'open', 'open');
    const r = await sendAndHash(port, 50_000);
    expect(r.reply).toBe(r.sent);
    expect(await stopCli(up)).toBe(0);

    const missing = runCli(['up', 'nope', '--config-dir', configDir]);
    expect((await missing.exit).code).toBe(2);
    expect(missing.stderr()).toContain('No profile named "nope". Saved profiles: db.');
  });
});

describe('tunnelvision import: review first', () => {
  const hostile = {
    id: 'db',
    name: 'Shared DB',
    autoStart: true,
    server: { host: 'attacker.example.net', auth: { method: 'password', passwordRef: 'tunnelvision:prod:server' } },
    hostKey: { strict: 'accept-new', knownHostsFiles: ['~/.ssh/authorized_keys'] },
    forwards: [{ type: 'dynamic', bindHost: '0.0.0.0', bindPort: 1080 }],
  };
  const saved = (configDir: string) => {
    try {
      return (JSON.parse(readFileSync(join(configDir, 'profiles.json'), 'utf8')) as { profiles: Array<Record<string, unknown>> }).profiles;
    } catch {
      return [];
    }
  };
  const write = (name: string) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify({ version: 1, profiles: [hostile] }));
    return file;
  };

  it('without a terminal and without --yes: prints the review, saves nothing, exits 2 saying to use --yes', async () => {
    const configDir = join(dir, 'config-review-notty');
    const run = runCli(['import', write('hostile-notty.json'), '--config-dir', configDir]);
    expect((await run.exit).code).toBe(2);
    expect(run.stdout()).toContain('add       db (Shared DB): attacker.example.net:22');
    expect(run.stdout()).toContain('  ! hostKey.strict: host-key checking is "accept-new"');
    expect(run.stdout()).toContain('  ! hostKey.knownHostsFiles: reads and writes host keys in ~/.ssh/authorized_keys');
    expect(run.stdout()).toContain('  ! forwards[0].bindHost: listens on every address (port 1080)');
    expect(run.stdout()).toContain('  - autoStart:');
    expect(run.stdout()).toContain('  - server.auth.passwordRef:');
    expect(run.stderr()).toContain('--yes');
    expect(saved(configDir)).toEqual([]);
  });

  it('--yes imports without asking, with references and autoStart cleared, and says so', async () => {
    const configDir = join(dir, 'config-review-yes');
    const run = runCli(['import', write('hostile-yes.json'), '--yes', '--config-dir', configDir]);
    expect((await run.exit).code).toBe(0);
    expect(run.stdout()).toContain('added 1: db');
    expect(run.stdout()).toContain('cleared db: server.auth.passwordRef, autoStart');
    const [profile] = saved(configDir);
    expect(profile).toMatchObject({ id: 'db', autoStart: false, server: { auth: { method: 'password' } } });
    expect(JSON.stringify(profile)).not.toContain('passwordRef');
  });

  /** Runs the bin on a real pseudo-terminal (util-linux script), typing `answer`. */
  const onTerminal = (args: string[], answer: string) => {
    const command = [process.execPath, new URL('../bin/tunnelvision.js', import.meta.url).pathname, ...args].map((a) => `'${a}'`).join(' ');
    return new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('[y/N]') && !child.stdin.writableEnded) child.stdin.end(answer);
      });
      child.once('close', (code) => resolve({ code, output }));
    });
  };

  it('on a terminal, asks after the review: y imports', async () => {
    const configDir = join(dir, 'config-review-tty-yes');
    const r = await onTerminal(['import', write('hostile-tty-y.json'), '--config-dir', configDir], 'y\n');
    expect(r.output).toContain('Import 1 profile as reviewed above? [y/N]');
    expect(r.output.indexOf('hostKey.strict')).toBeLessThan(r.output.indexOf('[y/N]'));
    expect(r.code).toBe(0);
    expect(saved(configDir).map((p) => p.id)).toEqual(['db']);
  });

  it('on a terminal, anything but y saves nothing and exits 1', async () => {
    const configDir = join(dir, 'config-review-tty-no');
    const r = await onTerminal(['import', write('hostile-tty-n.json'), '--config-dir', configDir], '\n');
    expect(r.output).toContain('nothing imported');
    expect(r.code).toBe(1);
    expect(saved(configDir)).toEqual([]);
  });

  it('a file that is not an export is refused (exit 1, not a usage error) by line, without quoting it', async () => {
    const key = makeKey(dir, 'id_import_attack');
    const run = runCli(['import', key.path, '--config-dir', join(dir, 'config-review-key')]);
    expect((await run.exit).code).toBe(1);
    expect(run.stderr()).toBe(`tunnelvision: ${key.path}: Not valid JSON: line 1, column 1.\n`);
    const asConfig = runCli(['import-ssh-config', key.path, '--config-dir', join(dir, 'config-review-key')]);
    expect((await asConfig.exit).code).toBe(1);
    expect(asConfig.stderr()).toBe(`tunnelvision: ${key.path}: line 2: keyword without a value\n`);
    for (const line of readFileSync(key.path, 'utf8').split('\n').filter((l) => l.length > 8)) {
      expect(run.stdout() + run.stderr() + asConfig.stdout() + asConfig.stderr()).not.toContain(line);
    }
  });

  it('--help explains the review, --yes and the exit codes', async () => {
    const run = runCli(['import', '--help']);
    await run.exit;
    expect(run.stdout()).toContain('--yes');
    expect(run.stdout()).toContain('review');
    expect(run.stdout()).toMatch(/2 wrong usage/);
  });
});

describe('tunnelvision import-ssh-config', () => {
  it('saves a profile for each Host with forwards, says why it skipped the others, and up opens one', async () => {
    const configDir = join(dir, 'config-ssh');
    const port = await freePort();
    const config = join(dir, 'ssh_config_import');
    writeFileSync(
      config,
      [
        'Host *',
        '  ServerAliveInterval 5',
        'Host db',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.clientKey.path}`,
        `  UserKnownHostsFile ${sshd.writeKnownHosts(join(dir, 'kh_import'))}`,
        `  LocalForward ${port} 127.0.0.1:${target.port}`,
        'Host shell-only',
        '  HostName 127.0.0.1',
        '',
      ].join('\n'),
    );
    const imported = runCli(['import-ssh-config', config, '--yes', '--config-dir', configDir]);
    expect((await imported.exit).code).toBe(0);
    expect(imported.stdout()).toContain('added 1: db');
    expect(imported.stdout()).toContain('skipped Host shell-only: no LocalForward, RemoteForward or DynamicForward');

    const list = runCli(['list', '--json', '--config-dir', configDir]);
    expect((await list.exit).code).toBe(0);
    expect(JSON.parse(list.stdout())).toMatchObject([{ id: 'db', keepalive: { intervalSeconds: 5 }, server: { port: sshd.port } }]);

    const up = runCli(['up', 'db', '--json', '--config-dir', configDir]);
    await up.waitFor((e) => e.state === 'open', 'open');
    const r = await sendAndHash(port, 20_000);
    expect(r.reply).toBe(r.sent);
    expect(await stopCli(up)).toBe(0);
  });
});
