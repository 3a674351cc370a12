// EngineHost over real engine processes (child_process.fork of the entry Electron runs with
// utilityProcess.fork) and a real sshd: secrets answered from the store, a SIGKILLed engine
// replaced with its tunnels reopened on the same ports, graceful and forced shutdown, backoff.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost, type HostEvents } from '../../app/host/engineHost.js';
import { SecretStore } from '../../app/host/secretStore.js';
import { TunnelBoard, type Notice } from '../../app/host/tunnelBoard.js';
import { nextEvent as next } from '../support/events.js';
import { freePort } from '../support/net.js';
import { waitForExit } from '../support/proc.js';
import { hashServer, sendAndHash, type TcpTarget } from '../support/servers.js';
import { Sshd } from '../support/sshd.js';
import { startSsh2Server, type TestSsh2Server } from '../support/ssh2Server.js';
import { FakeSafeStorage } from './fakeSafeStorage.js';
import { forkSpawner, type ForkSpawner } from './forkSpawner.js';

const ENTRY = new URL('../../dist/app/service/engineProcess.js', import.meta.url).pathname;
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

let sshd: Sshd;
let target: TcpTarget;
let pwServer: TestSsh2Server;
let dir: string;
const spawners: ForkSpawner[] = [];
const hosts: EngineHost[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-host-'));
  sshd = await Sshd.start();
  target = await hashServer();
  pwServer = await startSsh2Server((ctx) => (ctx.method === 'password' && ctx.password === 'kept-safe' ? ctx.accept() : ctx.reject(['password'])));
});

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.shutdown()));
  // Whatever a failed test left running is ended here, so the leak check reports the failure, not a child.
  for (const child of spawners.flatMap((s) => s.children)) {
    const exited = waitForExit(child);
    child.kill('SIGKILL');
    await exited;
  }
  await pwServer?.dispose();
  await target?.close();
  await sshd?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function newHost(options: { entry?: string; secrets?: SecretStore; shutdownTimeoutMs?: number; restartDelayMs?: number } = {}) {
  const configDir = mkdtempSync(join(dir, 'cfg-'));
  const spawn = forkSpawner({ TUNNELVISION_CONFIG_DIR: configDir });
  spawners.push(spawn);
  const secrets = options.secrets ?? new SecretStore({ file: join(configDir, 'secrets.json'), safeStorage: new FakeSafeStorage(), confirmPlainStorage: async () => false });
  const host = new EngineHost({ entry: options.entry ?? ENTRY, spawn, secrets, restartDelayMs: options.restartDelayMs ?? 100, shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000 });
  hosts.push(host);
  return { host, spawn, configDir };
}

function hostEvent<K extends keyof HostEvents>(host: EngineHost, event: K): Promise<Parameters<HostEvents[K]>[0]> {
  return new Promise((resolve) => {
    const off = host.on(event, ((info: Parameters<HostEvents[K]>[0]) => {
      off();
      resolve(info);
    }) as HostEvents[K]);
  });
}

function sshdProfile(id: string, bindPort: number) {
  return {
    id,
    name: `Profile ${id}`,
    server: { host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [sshd.clientKey.path] } },
    hostKey: { strict: 'yes', knownHostsFiles: [sshd.writeKnownHosts(join(dir, `kh-${id}`))] },
    forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }],
  };
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('EngineHost', () => {
  it("answers the engine's secret look-ups from the secret store", async () => {
    const configDir = mkdtempSync(join(dir, 'sec-'));
    const secrets = new SecretStore({ file: join(configDir, 'secrets.json'), safeStorage: new FakeSafeStorage(), confirmPlainStorage: async () => false });
    const port = await freePort();
    expect(await secrets.set('pw-ref', 'kept-safe', { kind: 'ssh', host: '127.0.0.1', port: pwServer.port, user: 'u', hostKey: pwServer.fingerprint })).toEqual({ stored: true });
    const { host } = newHost({ secrets });
    await host.client.saveProfile({
      id: 'pw',
      name: 'Password',
      server: { host: '127.0.0.1', port: pwServer.port, user: 'u', auth: { method: 'password', passwordRef: 'pw-ref' } },
      hostKey: { strict: 'yes', knownHostsFiles: [writeKnown('kh-pw', pwServer.knownHostsLine())] },
      forwards: [{ type: 'local', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port }],
    });
    const open = next(host.client, 'state', (p) => p.profileId === 'pw' && p.state.state === 'open');
    await host.client.start('pw');
    await open;
    await host.shutdown();
    expect(await canListen(port)).toBe(true);
  });

  it('restarts an engine killed under an open tunnel and reopens that tunnel on the same port', async () => {
    const { host, spawn } = newHost();
    const board = new TunnelBoard(host.client);
    const notices: Notice[] = [];
    board.on('notice', (n) => notices.push(n));
    const states: string[] = [];
    // Subscribed once, before the crash: the same subscription must see the new engine's events.
    host.client.on('state', (p) => p.profileId === 'db' && states.push(p.state.state));

    const port = await freePort();
    const idle = await freePort();
    await host.client.saveProfile(sshdProfile('db', port));
    await host.client.saveProfile(sshdProfile('idle', idle));
    await board.refresh();
    const open = next(host.client, 'state', (p) => p.profileId === 'db' && p.state.state === 'open');
    await host.client.start('db');
    await open;
    expect(host.runningProfiles()).toEqual(['db']);

    const first = spawn.children[0]!;
    const crash = hostEvent(host, 'crash');
    const restarted = hostEvent(host, 'restarted');
    const reopened = next(host.client, 'state', (p) => p.profileId === 'db' && p.state.state === 'open');
    first.kill('SIGKILL');
    expect(await crash).toEqual({ code: null, restartInMs: 100 });
    expect(await restarted).toEqual({ reopening: ['db'] });
    const again = (await reopened).state;
    expect(again).toMatchObject({ state: 'open', forwards: [{ bindPort: port }] });
    expect(spawn.children).toHaveLength(2);
    expect(spawn.children[1]!.pid).not.toBe(first.pid);

    const r = await sendAndHash(port, 200_000);
    expect(r.reply).toBe(r.sent);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'open']);
    expect(notices.map((n) => [n.kind, n.profileId])).toEqual([
      ['drop', 'db'],
      ['recover', 'db'],
    ]);
    // A profile that was not running stays stopped in the new engine.
    const listed = await host.client.listProfiles();
    expect(listed.find((v) => v.profile.id === 'idle')?.state.state).toBe('stopped');
    expect(board.items().map((i) => [i.profileId, i.running])).toEqual([
      ['db', true],
      ['idle', false],
    ]);
    board.dispose();

    await host.shutdown();
    expect(await canListen(port)).toBe(true);
    expect(spawn.children[1]!.exitCode).toBe(0);
  });

  it('holds calls made while the engine is down until the new one is up; a stopped tunnel is not reopened', async () => {
    const { host, spawn } = newHost();
    const port = await freePort();
    await host.client.saveProfile(sshdProfile('calm', port));
    const open = next(host.client, 'state', (p) => p.profileId === 'calm' && p.state.state === 'open');
    await host.client.start('calm');
    await open;
    const crash = hostEvent(host, 'crash');
    spawn.children[0]!.kill('SIGKILL');
    await crash;
    // The engine is gone: this call waits for its successor rather than failing.
    const listed = host.client.listProfiles();
    await host.client.stop('calm');
    expect((await listed).map((v) => v.profile.id)).toEqual(['calm']);
    expect(host.runningProfiles()).toEqual([]);
    expect((await host.client.listProfiles())[0]?.state.state).toBe('stopped');
    await host.shutdown();
  });

  it('kills an engine that does not finish shutting down in time, and refuses calls afterwards', async () => {
    const { host, spawn } = newHost({ entry: fixture('deaf-engine.mjs'), shutdownTimeoutMs: 300 });
    await host.whenReady();
    const started = Date.now();
    await host.shutdown();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(spawn.children[0]!.signalCode).toBe('SIGTERM');
    await expect(host.client.listProfiles()).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
  });

  it('backs off between restarts of an engine that keeps dying, and stops restarting on shutdown', async () => {
    const { host, spawn } = newHost({ entry: fixture('crashing-engine.mjs'), restartDelayMs: 50 });
    const delays: number[] = [];
    await new Promise<void>((resolve) =>
      host.on('crash', ({ code, restartInMs }) => {
        expect(code).toBe(3);
        delays.push(restartInMs);
        if (delays.length === 4) resolve();
      }),
    );
    await host.shutdown();
    expect(delays).toEqual([50, 100, 200, 400]);
    const count = spawn.children.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(spawn.children).toHaveLength(count);
  });
});

function writeKnown(name: string, line: string): string {
  const file = join(dir, name);
  writeFileSync(file, line);
  return file;
}
