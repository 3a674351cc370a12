// Every auth method against real servers: ssh-agent and key files against OpenSSH sshd, password
// and keyboard-interactive against an ssh2 Server; prompts, secrets, cancellation, timeouts.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prompter } from '../app/engine/prompts.js';
import { Tunnel } from '../app/engine/tunnel.js';
import { parseProfile } from '../app/profiles/validate.js';
import type { Profile } from '../app/profiles/schema.js';
import { waitForExit } from './support/proc.js';
import { freePort } from './support/net.js';
import { echoServer, tcpServer, type TcpTarget } from './support/servers.js';
import { Sshd, makeKey } from './support/sshd.js';
import { startSsh2Server, type TestSsh2Server } from './support/ssh2Server.js';

let dir: string;
let sshd: Sshd;
let echo: TcpTarget;
let ssh2srv: TestSsh2Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-auth-'));
  sshd = await Sshd.start();
  echo = await echoServer();
  ssh2srv = await startSsh2Server((ctx) => {
    if (ctx.method === 'password') return ctx.password === 'hunter2' ? ctx.accept() : ctx.reject(['password', 'keyboard-interactive']);
    if (ctx.method === 'keyboard-interactive') {
      return ctx.prompt([{ prompt: 'Password: ', echo: false }, { prompt: 'OTP code: ', echo: true }], 'Corporate login', 'Two steps', (answers) =>
        answers[0] === 'hunter2' && answers[1] === '123456' ? ctx.accept() : ctx.reject(['keyboard-interactive']),
      );
    }
    ctx.reject(['password', 'keyboard-interactive']);
  });
});

afterAll(async () => {
  await ssh2srv?.dispose();
  await echo?.close();
  await sshd?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function profile(server: { port: number; knownHosts: string; user?: string }, auth: unknown, extra: Record<string, unknown> = {}): Promise<Profile> {
  return freePort().then((bindPort) => {
    const parsed = parseProfile({
      id: 'auth',
      name: 'auth',
      server: { host: '127.0.0.1', port: server.port, user: server.user ?? 'tester', auth },
      hostKey: { strict: 'yes', knownHostsFiles: [server.knownHosts] },
      reconnect: { enabled: false },
      forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: echo.port }],
      ...extra,
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return parsed.value;
  });
}

/** Starts a tunnel, waits for open or failed, stops it; resolves with the outcome. */
async function attempt(p: Profile, prompter: Prompter = {}, secrets?: (ref: string) => Promise<string | undefined>) {
  const tunnel = new Tunnel({ profile: p, prompter, ...(secrets ? { secrets } : {}) });
  tunnel.start();
  try {
    const open = await tunnel.whenOpen();
    return { open };
  } catch (error) {
    return { error: error as { code: string; message: string; hop?: string } };
  } finally {
    await tunnel.stop();
  }
}

const sshdServer = () => ({ port: sshd.port, user: sshd.user, knownHosts: sshd.writeKnownHosts(join(dir, 'kh_sshd')) });
const ssh2Known = () => {
  const file = join(dir, 'kh_ssh2');
  writeFileSync(file, ssh2srv.knownHostsLine());
  return { port: ssh2srv.port, knownHosts: file };
};

describe('agent', () => {
  let agent: ChildProcess;
  let socket: string;

  beforeAll(async () => {
    socket = join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'ignore'] });
    // ssh-agent -D prints its environment lines once the socket is listening.
    await new Promise<void>((resolve) => agent.stdout!.once('data', () => resolve()));
    execFileSync('ssh-add', [sshd.clientKey.path], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
  });

  afterAll(async () => {
    const exited = waitForExit(agent);
    agent.kill();
    await exited;
  });

  it('authenticates with a key held by a real ssh-agent', async () => {
    const result = await attempt(await profile(sshdServer(), { method: 'agent', agentSocket: socket }));
    expect(result.error).toBeUndefined();
    expect(result.open?.hops[0]?.label).toBe(`${sshd.user}@127.0.0.1:${sshd.port}`);
  });
});

describe('key file', () => {
  it('asks for the passphrase of an encrypted key, again after a wrong one, and connects', async () => {
    const key = makeKey(dir, 'encrypted', 'ed25519', 'correct horse');
    writeFileSync(join(sshd.dir, 'authorized_keys'), `${sshd.clientKey.publicKey}\n${key.publicKey}\n`);
    const asked: Array<{ keyFile: string; retry: boolean }> = [];
    const answers = ['wrong', 'correct horse'];
    const result = await attempt(await profile(sshdServer(), { method: 'key', keyFiles: [key.path] }), {
      passphrase: async (q) => {
        asked.push({ keyFile: q.keyFile, retry: q.retry });
        return answers.shift() ?? null;
      },
    });
    expect(result.error).toBeUndefined();
    expect(asked).toEqual([
      { keyFile: key.path, retry: false },
      { keyFile: key.path, retry: true },
    ]);
  });

  it('uses a stored passphrase through its secret reference without asking', async () => {
    const key = makeKey(dir, 'encrypted2', 'ed25519', 's3cret');
    writeFileSync(join(sshd.dir, 'authorized_keys'), `${key.publicKey}\n`);
    let asked = false;
    const result = await attempt(
      await profile(sshdServer(), { method: 'key', keyFiles: [key.path], passphraseRef: 'pp' }),
      { passphrase: async () => ((asked = true), null) },
      async (ref) => (ref === 'pp' ? 's3cret' : undefined),
    );
    writeFileSync(join(sshd.dir, 'authorized_keys'), `${sshd.clientKey.publicKey}\n`);
    expect(result.error).toBeUndefined();
    expect(asked).toBe(false);
  });

  it('a cancelled passphrase prompt fails the attempt cleanly', async () => {
    const key = makeKey(dir, 'encrypted3', 'ed25519', 'x');
    const result = await attempt(await profile(sshdServer(), { method: 'key', keyFiles: [key.path] }), { passphrase: async () => null });
    expect(result.error).toMatchObject({ code: 'PROMPT_CANCELLED' });
  });

  it('a missing key file is a clear, fatal error', async () => {
    const result = await attempt(await profile(sshdServer(), { method: 'key', keyFiles: [join(dir, 'nope')] }));
    expect(result.error).toMatchObject({ code: 'KEY_UNREADABLE' });
    expect(result.error?.message).toContain(join(dir, 'nope'));
  });
});

describe('password and keyboard-interactive (ssh2 Server)', () => {
  it('password from the prompter, after one wrong answer', async () => {
    const answers = ['nope', 'hunter2'];
    const retries: boolean[] = [];
    const result = await attempt(await profile(ssh2Known(), { method: 'password' }), {
      password: async (q) => {
        retries.push(q.retry);
        return answers.shift() ?? null;
      },
    });
    expect(result.error).toBeUndefined();
    expect(retries).toEqual([false, true]);
  });

  it('password from a secret reference', async () => {
    const result = await attempt(await profile(ssh2Known(), { method: 'password', passwordRef: 'pw' }), {}, async () => 'hunter2');
    expect(result.error).toBeUndefined();
  });

  it('keyboard-interactive shows the server\'s prompts and sends the answers', async () => {
    const seen: unknown[] = [];
    const result = await attempt(await profile(ssh2Known(), { method: 'keyboard-interactive' }), {
      keyboardInteractive: async (q) => {
        seen.push({ name: q.name, instructions: q.instructions, prompts: q.prompts });
        return ['hunter2', '123456'];
      },
    });
    expect(result.error).toBeUndefined();
    expect(seen).toEqual([{ name: 'Corporate login', instructions: 'Two steps', prompts: [{ prompt: 'Password: ', echo: false }, { prompt: 'OTP code: ', echo: true }] }]);
  });

  it('wrong answers everywhere: AUTH_FAILED, fatal, naming what was tried', async () => {
    const result = await attempt(await profile(ssh2Known(), { method: 'password' }), { password: async () => 'wrong' });
    expect(result.error).toMatchObject({ code: 'AUTH_FAILED', hop: `tester@127.0.0.1:${ssh2srv.port}` });
    expect(result.error?.message).toContain('password');
  });
});

describe('host key before credentials', () => {
  it('sends no credential at all when the host key is refused', async () => {
    const other = makeKey(dir, 'not-the-host');
    const known = join(dir, 'known_hosts_wrong');
    writeFileSync(known, `[127.0.0.1]:${ssh2srv.port} ${other.publicKey.split(' ').slice(0, 2).join(' ')}\n`);
    const before = ssh2srv.authAttempts.length;
    let asked = false;
    const result = await attempt(await profile({ port: ssh2srv.port, knownHosts: known }, { method: 'password' }), { password: async () => ((asked = true), 'hunter2') });
    expect(result.error).toMatchObject({ code: 'HOST_KEY_CHANGED' });
    expect(result.error?.message).toContain(ssh2srv.fingerprint);
    expect(ssh2srv.authAttempts.length).toBe(before);
    expect(asked).toBe(false);
  });

  it('asks about an unknown key (ask mode), saves it when accepted, refuses when declined', async () => {
    const known = join(dir, 'known_hosts_ask');
    writeFileSync(known, '');
    const declined = await attempt(await profile({ port: ssh2srv.port, knownHosts: known }, { method: 'password', passwordRef: 'pw' }, { hostKey: { strict: 'ask', knownHostsFiles: [known] } }), { hostKey: async () => false }, async () => 'hunter2');
    expect(declined.error).toMatchObject({ code: 'HOST_KEY_REJECTED' });
    expect(readFileSync(known, 'utf8')).toBe('');

    const questions: unknown[] = [];
    const accepted = await attempt(
      await profile({ port: ssh2srv.port, knownHosts: known }, { method: 'password', passwordRef: 'pw' }, { hostKey: { strict: 'ask', knownHostsFiles: [known] } }),
      { hostKey: async (q) => (questions.push({ type: q.key.type, fingerprint: q.key.fingerprint }), true) },
      async () => 'hunter2',
    );
    expect(accepted.error).toBeUndefined();
    expect(questions).toEqual([{ type: 'ssh-ed25519', fingerprint: ssh2srv.fingerprint }]);
    expect(readFileSync(known, 'utf8')).toContain(ssh2srv.knownHostsLine().trim().split(' ').slice(1).join(' '));
  });
});

describe('host key types', () => {
  it('asks a server with several host keys for the type known_hosts has, so a known host is not mistaken for a new one', async () => {
    const multi = await Sshd.start({ extraHostKeys: ['rsa'] });
    try {
      const rsa = multi.extraHostKeys[0]!;
      const known = join(dir, 'known_hosts_rsa_only');
      writeFileSync(known, multi.knownHostsLine(`[127.0.0.1]:${multi.port}`, rsa));
      const result = await attempt(await profile({ port: multi.port, user: multi.user, knownHosts: known }, { method: 'key', keyFiles: [multi.clientKey.path] }, { hostKey: { strict: 'accept-new', knownHostsFiles: [known] } }));
      expect(result.error).toBeUndefined();
      expect(result.open?.hops[0]?.hostKey?.type).toBe('ssh-rsa');
      // Nothing new was trusted or written.
      expect(readFileSync(known, 'utf8')).toBe(multi.knownHostsLine(`[127.0.0.1]:${multi.port}`, rsa));
    } finally {
      await multi.dispose();
    }
  });
});

describe('handshake timeout', () => {
  it('gives up on a server that accepts TCP but never speaks SSH', async () => {
    const silent = await tcpServer(() => {});
    const result = await attempt(await profile({ port: silent.port, knownHosts: join(dir, 'none') }, { method: 'password' }, { connectTimeoutSeconds: 1 }));
    await silent.close();
    expect(result.error).toMatchObject({ code: 'CONNECT_TIMEOUT' });
  });

  it('does not count the time a person takes to answer a prompt', async () => {
    const known = join(dir, 'known_hosts_slow');
    writeFileSync(known, '');
    const result = await attempt(
      await profile({ port: ssh2srv.port, knownHosts: known }, { method: 'password' }, { connectTimeoutSeconds: 1, hostKey: { strict: 'ask', knownHostsFiles: [known] } }),
      {
        // A person reading the fingerprint for longer than the whole handshake timeout.
        hostKey: () => new Promise((resolve) => setTimeout(() => resolve(true), 1500)),
        password: () => new Promise((resolve) => setTimeout(() => resolve('hunter2'), 1500)),
      },
    );
    expect(result.error).toBeUndefined();
  });
});
