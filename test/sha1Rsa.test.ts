// SHA-1 RSA host-key signatures (`ssh-rsa`) are refused unless the profile opts in, as OpenSSH 8.8
// and later do. A real sshd that signs only with ssh-rsa: refused by default with a message saying
// why and how to opt in; accepted with hostKey.allowSha1Rsa or `-o HostKeyAlgorithms=+ssh-rsa`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostKeyAlgorithms, offersOnlySha1Rsa } from '../app/engine/algorithms.js';
import { readServerHostKeyOffer } from '../app/engine/kexinit.js';
import { Tunnel } from '../app/engine/tunnel.js';
import { parseProfile } from '../app/profiles/validate.js';
import { runCli } from './support/cli.js';
import { freePort } from './support/net.js';
import { echoServer, type TcpTarget } from './support/servers.js';
import { Sshd } from './support/sshd.js';

let sshd: Sshd;
let echo: TcpTarget;
let dir: string;
let known: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-sha1rsa-'));
  // sshd keeps its ed25519 key loaded but offers only what HostKeyAlgorithms lists.
  sshd = await Sshd.start({ extraHostKeys: ['rsa'], config: ['HostKeyAlgorithms ssh-rsa'] });
  echo = await echoServer();
  known = join(dir, 'known_hosts');
  sshd.writeKnownHosts(known);
  const { appendFileSync } = await import('node:fs');
  appendFileSync(known, sshd.knownHostsLine(undefined, sshd.extraHostKeys[0]));
});

afterAll(async () => {
  await echo?.close();
  await sshd?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function attempt(allowSha1Rsa: boolean) {
  const parsed = parseProfile({
    id: 'rsa',
    name: 'rsa',
    server: { host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [sshd.clientKey.path] } },
    hostKey: { strict: 'yes', knownHostsFiles: [known], allowSha1Rsa },
    reconnect: { enabled: false },
    forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: echo.port }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const tunnel = new Tunnel({ profile: parsed.value, prompter: {} });
  tunnel.start();
  try {
    return { open: await tunnel.whenOpen() };
  } catch (error) {
    return { error: error as { code: string; message: string; hop?: string } };
  } finally {
    await tunnel.stop();
  }
}

describe('ssh-rsa (SHA-1) host-key signatures', () => {
  it('are not offered by default; rsa-sha2-256/512 are', () => {
    expect(hostKeyAlgorithms(['ssh-rsa'])).toEqual(expect.arrayContaining(['rsa-sha2-512', 'rsa-sha2-256']));
    expect(hostKeyAlgorithms(['ssh-rsa'])).not.toContain('ssh-rsa');
    expect(hostKeyAlgorithms([], true).at(-1)).toBe('ssh-rsa');
    expect(offersOnlySha1Rsa(['ssh-rsa'])).toBe(true);
    expect(offersOnlySha1Rsa(['ssh-rsa', 'rsa-sha2-256'])).toBe(false);
    expect(offersOnlySha1Rsa(['ssh-dss'])).toBe(false);
  });

  it('a server offering only ssh-rsa is refused by default, with the reason and the way to opt in', async () => {
    const { error } = await attempt(false);
    expect(error).toMatchObject({ code: 'HOST_KEY_REJECTED', hop: `${sshd.user}@127.0.0.1:${sshd.port}` });
    expect(error?.message).toMatch(/offers only SHA-1 RSA host-key signatures \(ssh-rsa\)/);
    expect(error?.message).toContain('hostKey.allowSha1Rsa');
    expect(error?.message).toContain('-o HostKeyAlgorithms=+ssh-rsa');
  });

  it('is accepted when the profile opts in', async () => {
    const { open, error } = await attempt(true);
    expect(error).toBeUndefined();
    expect(open?.state).toBe('open');
  });

  it('the CLI refuses by default and accepts with -o HostKeyAlgorithms=+ssh-rsa', async () => {
    const flags = (port: number) => ['connect', '--json', '-L', `${port}:127.0.0.1:${echo.port}`, '-p', String(sshd.port), '-i', sshd.clientKey.path, '-o', `UserKnownHostsFile=${known}`, '-o', 'BatchMode=yes', `${sshd.user}@127.0.0.1`];
    const refused = runCli(flags(await freePort()), { SSH_AUTH_SOCK: '' });
    expect((await refused.exit).code).toBe(255);
    expect(refused.stderr() + refused.stdout()).toMatch(/offers only SHA-1 RSA host-key signatures/);

    const allowed = runCli([...flags(await freePort()), '-o', 'HostKeyAlgorithms=+ssh-rsa'], { SSH_AUTH_SOCK: '' });
    await allowed.waitFor((e) => e.state === 'open', 'open');
    allowed.proc.kill('SIGINT');
    expect((await allowed.exit).code).toBe(0);
    expect(allowed.stderr() + allowed.stdout()).not.toMatch(/HostKeyAlgorithms/);
  });
});

describe('readServerHostKeyOffer', () => {
  const kexinit = (lists: string[]) => {
    const parts = [Buffer.from([20]), Buffer.alloc(16)];
    for (const l of lists) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(l.length);
      parts.push(len, Buffer.from(l));
    }
    const payload = Buffer.concat(parts);
    const padding = 4;
    const head = Buffer.alloc(5);
    head.writeUInt32BE(payload.length + padding + 1);
    head[4] = padding;
    return Buffer.concat([head, payload, Buffer.alloc(padding)]);
  };

  it('reads the list after the version line (and lines before it), waiting for whole packets', () => {
    const bytes = Buffer.concat([Buffer.from('hello\r\nSSH-2.0-Test\r\n'), kexinit(['curve25519-sha256', 'ssh-rsa,ssh-ed25519'])]);
    expect(readServerHostKeyOffer(bytes.subarray(0, 10))).toEqual({ done: false });
    expect(readServerHostKeyOffer(bytes.subarray(0, bytes.length - 1))).toEqual({ done: false });
    expect(readServerHostKeyOffer(bytes)).toEqual({ done: true, serverHostKey: ['ssh-rsa', 'ssh-ed25519'] });
  });

  it('gives up on what is not a KEXINIT', () => {
    expect(readServerHostKeyOffer(Buffer.concat([Buffer.from('SSH-2.0-x\n'), Buffer.from([0, 0, 0, 8, 4, 21, 0, 0, 0, 0, 0, 0])]))).toEqual({ done: true, serverHostKey: undefined });
    expect(readServerHostKeyOffer(Buffer.concat([Buffer.from('SSH-2.0-x\n'), Buffer.from([0xff, 0, 0, 0, 4])]))).toEqual({ done: true, serverHostKey: undefined });
  });
});
