// Security properties, each shown with real servers: forwards bind loopback unless told otherwise
// (and say so when told), no credential is sent, or even looked up, before a hop's host key is
// accepted (jump hops and Cloud Foundry's ssh-proxy included), and a password from a secret
// reference never shows up in what the CLI prints, its --json events, an error message or an export.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server as SshServer } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPlan } from '../app/cli/connectProfile.js';
import { cloudFoundryConnector } from '../app/cloudfoundry/connector.js';
import { Tunnel } from '../app/engine/tunnel.js';
import { ProfileStore } from '../app/profiles/store.js';
import { parseProfile } from '../app/profiles/validate.js';
import { Container } from './support/cf/container.js';
import { FakeFoundation } from './support/cf/foundation.js';
import { makeTestTls, type TestTls } from './support/cf/tls.js';
import { runCli, type CliRun } from './support/cli.js';
import { freePort } from './support/net.js';
import { profileFor } from './support/profiles.js';
import { hashServer, sendAndHash, type TcpTarget } from './support/servers.js';
import { Sshd, makeKey } from './support/sshd.js';
import { startSsh2Server, type TestSsh2Server } from './support/ssh2Server.js';

const RUNNER = new URL('./fixtures/runWithSecret.mjs', import.meta.url).pathname;
const BIN = new URL('../bin/tunnelvision.js', import.meta.url).pathname;
const SOON_MS = 15_000;

let dir: string;
let sshd: Sshd;
let target: TcpTarget;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-security-'));
  sshd = await Sshd.start();
  target = await hashServer();
});

afterAll(async () => {
  await target?.close();
  await sshd?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('binds are loopback unless a bind address is given', () => {
  it('the profile schema: -L, -R and -D without a bind address get 127.0.0.1', () => {
    const parsed = parseProfile({
      id: 'p',
      name: 'p',
      server: { host: 'h' },
      forwards: [
        { type: 'local', bindPort: 1, targetHost: 't', targetPort: 2 },
        { type: 'remote', bindPort: 3, targetHost: 't', targetPort: 4 },
        { type: 'dynamic', bindPort: 5 },
      ],
    });
    expect(parsed.ok && parsed.value.kind === 'ssh' && parsed.value.forwards.map((f) => f.bindHost)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  it('the CLI: -L port:host:port, -R port:host:port and -D port bind 127.0.0.1', async () => {
    const config = join(dir, 'empty_ssh_config');
    writeFileSync(config, '');
    const plan = await connectPlan('db.example.com', { local: ['8080:db:80'], remote: ['9000:localhost:3000'], dynamic: ['1080'], option: [], identity: [], config, reconnect: true });
    expect(plan.ok && plan.value.profile.kind === 'ssh' && plan.value.profile.forwards.map((f) => f.bindHost)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  it('a running tunnel listens on 127.0.0.1 only', async () => {
    const bindPort = await freePort();
    const tunnel = new Tunnel({ profile: profileFor(sshd, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }) });
    tunnel.start();
    try {
      const open = await tunnel.whenOpen();
      expect(open.forwards[0]).toMatchObject({ bindHost: '127.0.0.1', bindPort });
      // What the kernel says is listening on that port: loopback, and nothing else.
      expect(listeningOn(bindPort)).toEqual(['127.0.0.1']);
    } finally {
      await tunnel.stop();
    }
  });

  describe('the human output', () => {
    const runs: CliRun[] = [];
    afterAll(async () => {
      for (const run of runs) {
        if (run.proc.exitCode === null && run.proc.signalCode === null) run.proc.kill('SIGKILL');
        await run.exit;
      }
    });

    async function openWith(spec: string): Promise<string> {
      const run = runCli(['connect', '-N', '-L', spec, '-p', String(sshd.port), '-i', sshd.clientKey.path, '-o', `UserKnownHostsFile=${sshd.writeKnownHosts()}`, '-o', 'StrictHostKeyChecking=yes', `${sshd.user}@127.0.0.1`], { SSH_AUTH_SOCK: '' });
      runs.push(run);
      await expect.poll(run.stdout, { timeout: SOON_MS }).toContain('Press Ctrl-C to close.');
      run.proc.kill('SIGINT');
      expect((await run.exit).code).toBe(0);
      return run.stdout();
    }

    it('a forward bound beyond loopback (explicit 0.0.0.0) is printed with a warning line', async () => {
      const port = await freePort();
      const out = await openWith(`0.0.0.0:${port}:127.0.0.1:${target.port}`);
      expect(out).toContain(`  -L 0.0.0.0:${port} → 127.0.0.1:${target.port}\n      warning: listening on 0.0.0.0, beyond this machine: anyone who can reach that address can use this tunnel.\n`);
    });

    it('a default (loopback) forward gets no warning', async () => {
      const port = await freePort();
      const out = await openWith(`${port}:127.0.0.1:${target.port}`);
      expect(out).toContain(`  -L 127.0.0.1:${port} → 127.0.0.1:${target.port}\n`);
      expect(out).not.toContain('warning');
    });
  });
});

describe('no credential before the host key is accepted, on every hop', () => {
  let impostor: TestSsh2Server;
  beforeAll(async () => {
    impostor = await startSsh2Server((ctx) => ctx.accept());
  });
  afterAll(() => impostor?.dispose());

  /** known_hosts naming the impostor's address with another key: its key has "changed". */
  function changedKnownHosts(name: string, extra: string[] = []): string {
    const file = join(dir, name);
    const other = makeKey(dir, `${name}_other_key`);
    writeFileSync(file, [`[127.0.0.1]:${impostor.port} ${other.publicKey.split(' ').slice(0, 2).join(' ')}\n`, ...extra].join(''));
    return file;
  }

  async function failsUnasked(profile: ReturnType<typeof profileFor>, lookups: string[]) {
    const tunnel = new Tunnel({ profile, secrets: async (ref) => (lookups.push(ref), 'would-be-sent') });
    tunnel.start();
    const error = await tunnel.whenOpen().then(
      () => undefined,
      (e: unknown) => e,
    );
    await tunnel.stop();
    return error;
  }

  it('a jump host whose key changed: refused before any auth request, and the password never looked up', async () => {
    const kh = changedKnownHosts('kh_jump', [sshd.knownHostsLine()]);
    const lookups: string[] = [];
    const before = impostor.authAttempts.length;
    const error = await failsUnasked(
      profileFor(sshd, {
        hostKey: { strict: 'yes', knownHostsFiles: [kh] },
        jumps: [{ host: '127.0.0.1', port: impostor.port, user: 'me', auth: { method: 'password', passwordRef: 'jump-password' } }],
        forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: target.port }],
      }),
      lookups,
    );
    expect(error).toMatchObject({ code: 'HOST_KEY_CHANGED', hop: `me@127.0.0.1:${impostor.port}` });
    expect(impostor.authAttempts.slice(before)).toEqual([]);
    expect(lookups).toEqual([]);
  });

  it('the final server behind a good jump, with a changed key: refused before any auth request there', async () => {
    const kh = changedKnownHosts('kh_final', [sshd.knownHostsLine()]);
    const lookups: string[] = [];
    const before = impostor.authAttempts.length;
    const error = await failsUnasked(
      parseOrThrow({
        id: 'final',
        name: 'final',
        server: { host: '127.0.0.1', port: impostor.port, user: 'me', auth: { method: 'password', passwordRef: 'final-password' } },
        jumps: [{ host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [sshd.clientKey.path] } }],
        hostKey: { strict: 'yes', knownHostsFiles: [kh] },
        reconnect: { enabled: false },
        forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: target.port }],
      }),
      lookups,
    );
    expect(error).toMatchObject({ code: 'HOST_KEY_CHANGED', hop: `me@127.0.0.1:${impostor.port}` });
    expect(impostor.authAttempts.slice(before)).toEqual([]);
    expect(lookups).toEqual([]);
  });
});

describe("Cloud Foundry's ssh-proxy with a key that does not match what the foundation publishes", () => {
  let tls: TestTls;
  let container: Container;
  let foundation: FakeFoundation;
  /** Every SSH connection the proxy accepted and every authentication request on it, whatever the method or user. */
  const proxySeen = { connections: 0, auth: [] as Array<{ method: string; username: string; credential?: string }> };

  beforeAll(async () => {
    tls = makeTestTls(mkdtempSync(join(dir, 'cf-tls-')));
    // No database and no network namespace: the tunnel is refused before it could reach either.
    container = await Container.start();
    foundation = await FakeFoundation.start({ tls, container });
    foundation.addApp({ org: 'acme', space: 'dev', name: 'orders' });
    // Watched from outside, next to the foundation's own handler, which logs only logins it redeemed.
    (foundation as unknown as { proxy: SshServer }).proxy.on('connection', (conn) => {
      proxySeen.connections++;
      conn.on('authentication', (ctx) => proxySeen.auth.push({ method: ctx.method, username: ctx.username, ...(ctx.method === 'password' ? { credential: ctx.password } : {}) }));
    });
  });
  afterAll(async () => {
    await foundation?.dispose();
    await container?.dispose();
  });

  it('refused after the handshake with no authentication request: neither the one-time code nor the password reached it', async () => {
    foundation.advertisedFingerprint = 'a6:14:c0:ea:42:07:b2:f7:53:2c:0b:60:e0:00:21:6c';
    const grants = foundation.grants.length;
    const parsed = parseOrThrow({
      kind: 'cloudfoundry',
      id: 'cf-wrong-key',
      name: 'cf wrong key',
      api: foundation.apiUrl,
      org: 'acme',
      space: 'dev',
      app: 'orders',
      target: { host: '10.0.0.1', port: 3306 },
      local: { bindPort: await freePort() },
      login: { method: 'password', username: foundation.user },
      reconnect: { enabled: false },
    });
    if (parsed.kind !== 'cloudfoundry') throw new Error('not a Cloud Foundry profile');
    const connector = cloudFoundryConnector(parsed, { prompter: { password: async () => foundation.password }, ca: tls.ca });
    const tunnel = new Tunnel({ profile: parsed, connector });
    tunnel.start();
    const error = await tunnel.whenOpen().then(
      () => undefined,
      (e: unknown) => e,
    );
    await tunnel.stop();
    expect(error).toMatchObject({ code: 'HOST_KEY_CHANGED', hop: `ssh-proxy ${foundation.sshEndpoint}` });
    // The client did reach the proxy and saw its key: the refusal came from comparing it.
    expect(proxySeen.connections).toBeGreaterThan(0);
    expect(proxySeen.auth).toEqual([]);
    expect(foundation.proxyLogins).toEqual([]);
    // UAA saw the person's password login (the code is taken before dialing), and nobody redeemed
    // the one-time code: the proxy is what redeems it, with its own client, once it receives it.
    expect(foundation.grants.slice(grants)).toEqual(['password']);
  });
});

describe('a password from a secret reference stays secret', () => {
  const SECRET = `tv-secret-${randomBytes(12).toString('hex')}`;
  let server: TestSsh2Server;

  beforeAll(async () => {
    server = await startSsh2Server((ctx) => {
      if (ctx.method === 'password' && ctx.password === SECRET) ctx.accept();
      else ctx.reject(['password']);
    });
  });
  afterAll(() => server?.dispose());

  function profileJson(bindPort: number): string {
    const knownHosts = join(dir, 'kh_secret');
    writeFileSync(knownHosts, server.knownHostsLine());
    return JSON.stringify({
      id: 'secret-profile',
      name: 'Secret profile',
      server: { host: '127.0.0.1', port: server.port, user: 'me', auth: { method: 'password', passwordRef: 'vault-entry-7' } },
      hostKey: { strict: 'yes', knownHostsFiles: [knownHosts] },
      reconnect: { enabled: false },
      forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }],
    });
  }

  /** Runs the CLI's output path with `secret` behind every reference; until open (then Ctrl-C) or exit. */
  async function runWith(secret: string, flags: string[]): Promise<{ code: number | null; output: string; carried?: boolean }> {
    const bindPort = await freePort();
    const proc = spawn(process.execPath, [RUNNER, profileJson(bindPort), ...flags], { env: { ...process.env, TV_TEST_SECRET: secret, SSH_AUTH_SOCK: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let sawOpen: (open: boolean) => void = () => {};
    const opening = new Promise<boolean>((resolve) => (sawOpen = resolve));
    const collect = (d: Buffer) => {
      output += d.toString();
      if (/"state":"open"|open through/.test(output)) sawOpen(true);
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    const exit = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
    void exit.then(() => sawOpen(false));
    const opened = await opening;
    let carried: boolean | undefined;
    if (opened) {
      const r = await sendAndHash(bindPort, 100_000);
      carried = r.reply === r.sent;
      proc.kill('SIGINT');
    }
    return { code: await exit, output, ...(carried !== undefined ? { carried } : {}) };
  }

  it('--json -v: every state and log event of a session that used it, and none contains it', async () => {
    const r = await runWith(SECRET, ['--json', '-v']);
    expect(r).toMatchObject({ code: 0, carried: true });
    expect(r.output).toContain('"event":"log"');
    expect(r.output).not.toContain(SECRET);
  });

  it('human output with -v: not there either', async () => {
    const r = await runWith(SECRET, ['-v']);
    expect(r).toMatchObject({ code: 0, carried: true });
    expect(r.output).toContain('open through');
    expect(r.output).not.toContain(SECRET);
  });

  it('a rejected stored password: the error says what was tried, never the password', async () => {
    const wrong = `tv-wrong-${randomBytes(12).toString('hex')}`;
    for (const flags of [['--json'], []]) {
      const r = await runWith(wrong, flags);
      expect(r.code).toBe(255);
      expect(r.output).toContain('Permission denied at me@127.0.0.1');
      expect(r.output).not.toContain(wrong);
    }
  });

  it('export and list --json carry neither the password nor its reference', async () => {
    const configDir = mkdtempSync(join(dir, 'store-'));
    await new ProfileStore(configDir).save([parseOrThrow(JSON.parse(profileJson(await freePort())) as Record<string, unknown>)]);
    for (const args of [['export'], ['list', '--json']]) {
      const out = await new Promise<string>((resolve) => {
        const proc = spawn(process.execPath, [BIN, ...args, '--config-dir', configDir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        proc.stdout.on('data', (d: Buffer) => (text += d.toString()));
        proc.once('close', () => resolve(text));
      });
      expect(out).toContain('secret-profile');
      expect(out).not.toContain('vault-entry-7');
      expect(out).not.toContain(SECRET);
    }
  });
});

function parseOrThrow(input: Record<string, unknown>) {
  const parsed = parseProfile(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

/** The local addresses with a socket listening on `port`, from /proc/net/tcp{,6} (IPv4 only decoded). */
function listeningOn(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local?.endsWith(`:${hexPort}`)) continue;
      const hex = local.split(':')[0]!;
      found.push(hex.length === 8 ? [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.') : `ipv6:${hex}`);
    }
  }
  return found;
}
