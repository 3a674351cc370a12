// Hostile review of the known_hosts write rules: files that are named known_hosts* and hold only
// known_hosts lines (or nothing yet) but are not known_hosts files. Real files, a real bash.
import { execFile } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendKnownHost, checkHostKey } from '../app/engine/hostKeys.js';
import { generateEd25519 } from '../app/engine/keygen.js';
import { TunnelError } from '../app/shared/errors.js';

const run = promisify(execFile);

let dir: string;
/** The attacker's server's host key: the key that would be written. */
let attackerKey: Buffer;
let attackerLine: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-review1-kh-'));
  const pub = generateEd25519().public.split(' ');
  attackerKey = Buffer.from(pub[1]!, 'base64');
  attackerLine = `${pub[0]} ${pub[1]}`;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('known_hosts writes: a known_hosts* name is not enough', () => {
  it('refuses a known_hosts_* file that is a hard link to authorized_keys (every line of which parses as a known_hosts line)', async () => {
    const ssh = join(dir, 'hardlink', '.ssh');
    mkdirSync(ssh, { recursive: true });
    const authorizedKeys = join(ssh, 'authorized_keys');
    // An authorized_keys line with an option reads as `<pattern> <type> <key>`: the content check passes it.
    const before = `restrict ${generateEd25519().public.split(' ').slice(0, 2).join(' ')}\n`;
    writeFileSync(authorizedKeys, before, { mode: 0o600 });
    linkSync(authorizedKeys, join(ssh, 'known_hosts_team'));

    // Host `no-pty` on port 22: appended to authorized_keys it is an option, and the attacker's key logs in.
    const error = await appendKnownHost(join(ssh, 'known_hosts_team'), 'no-pty', 22, attackerKey).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(readFileSync(authorizedKeys, 'utf8')).toBe(before);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as TunnelError).code).toBe('KNOWN_HOSTS_UNSAFE');
  });

  it('does not plant a known_hosts file (and its folder) where a shell sources every file: ~/.bashrc.d (Fedora\'s default .bashrc)', async () => {
    const home = join(dir, 'bashrc-home');
    mkdirSync(home);
    // A hostile profile: accept-new, its known_hosts file in ~/.bashrc.d, and a host name that is a shell builtin.
    await checkHostKey(
      {
        host: 'exit',
        port: 22,
        hop: 'exit:22',
        policy: { strict: 'accept-new', knownHostsFiles: [join(home, '.bashrc.d', 'known_hosts')], allowSha1Rsa: false },
        checkPinned: true,
        knownHosts: { globalFiles: [], hashNames: async () => false },
      },
      attackerKey,
    ).catch(() => undefined);

    // The loop in Fedora's /etc/skel/.bashrc, run by a real bash: every later shell must still start.
    const fedoraBashrc = 'if [ -d ~/.bashrc.d ]; then for rc in ~/.bashrc.d/*; do if [ -f "$rc" ]; then . "$rc"; fi; done; fi; echo shell-started';
    const shell = await run('bash', ['--norc', '--noprofile', '-c', fedoraBashrc], { env: { ...process.env, HOME: home } }).then(
      (r) => ({ stdout: r.stdout, stderr: r.stderr }),
      (err: { stdout: string; stderr: string }) => ({ stdout: err.stdout, stderr: err.stderr }),
    );
    expect(shell.stderr).not.toContain(attackerLine.split(' ')[0]);
    expect(shell.stdout).toContain('shell-started');
  });
});
