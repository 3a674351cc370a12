// The engine process and its protocol over a real process boundary (child_process.fork — the same
// entry Electron runs with utilityProcess.fork): contract calls and events, validation of what
// arrives, prompts answered from the other side, secrets asked of the parent, graceful shutdown.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../app/shared/contract.js';
import { createClient, type MessagePortLike } from '../app/shared/rpc.js';
import type { ControlMessage } from '../app/service/engineProcess.js';
import { nextEvent } from './support/events.js';
import { freePort } from './support/net.js';
import { waitForExit } from './support/proc.js';
import { hashServer, sendAndHash, type TcpTarget } from './support/servers.js';
import { Sshd } from './support/sshd.js';
import { startSsh2Server, type TestSsh2Server } from './support/ssh2Server.js';

const ENTRY = new URL('../dist/app/service/engineProcess.js', import.meta.url).pathname;

let sshd: Sshd;
let target: TcpTarget;
let pwServer: TestSsh2Server;
let dir: string;
let engine: ChildProcess;
let client: TunnelClient & { dispose(): void };
const secretsAsked: string[] = [];
const secretRequests: Array<{ use: unknown; profileId: unknown }> = [];

function channelTo(child: ChildProcess): MessagePortLike {
  return {
    postMessage: (m) => child.send(m as object),
    onMessage: (listener) => {
      child.on('message', listener);
      return () => child.off('message', listener);
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-engine-'));
  sshd = await Sshd.start();
  target = await hashServer();
  pwServer = await startSsh2Server((ctx) => (ctx.method === 'password' && ctx.password === 'from-safe-storage' ? ctx.accept() : ctx.reject(['password'])));
  engine = fork(ENTRY, [], { env: { ...process.env, TUNNELVISION_CONFIG_DIR: dir }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const channel = channelTo(engine);
  // The parent's side of the secret look-up: main answers from safeStorage; here, a fixed map.
  channel.onMessage((m) => {
    const msg = m as ControlMessage;
    if (msg.t === 'secret?') {
      secretsAsked.push(msg.ref);
      secretRequests.push({ use: msg.use, profileId: msg.profileId });
      channel.postMessage({ t: 'secret!', id: msg.id, value: msg.ref === 'pw-ref' ? 'from-safe-storage' : null } satisfies ControlMessage);
    }
  });
  await new Promise<void>((resolve) => engine.once('message', (m) => (m as ControlMessage).t === 'ready' && resolve()));
  client = createClient(channel);
});

afterAll(async () => {
  client?.dispose();
  if (engine && engine.exitCode === null) {
    const exited = waitForExit(engine);
    engine.kill();
    await exited;
  }
  await pwServer?.dispose();
  await target?.close();
  await sshd?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function sshdProfile(id: string, bindPort: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: `Profile ${id}`,
    server: { host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [sshd.clientKey.path] } },
    hostKey: { strict: 'yes', knownHostsFiles: [sshd.writeKnownHosts(join(dir, `kh-${id}`))] },
    forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }],
    ...extra,
  };
}

describe('engine process over a real process boundary', () => {
  it('starts empty and reports invalid profiles field by field', async () => {
    expect(await client.listProfiles()).toEqual([]);
    const result = await client.saveProfile({ id: 'x', name: 'X', server: { host: 'h' }, forwards: [{ type: 'local', bindPort: 0, targetHost: 'a', targetPort: 1 }] });
    expect(result).toEqual({ ok: false, errors: [{ path: 'forwards[0].bindPort', message: 'must be 1–65535' }] });
  });

  it('rejects calls whose arguments do not fit the contract, before acting on them', async () => {
    const raw = client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    await expect(raw.start!(42)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('Invalid arguments for start') });
    await expect(raw.answerPrompt!('', 'x')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(client.start('no-such-profile')).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: 'There is no saved profile "no-such-profile".' });
  });

  it('saves, starts, carries data, streams state and stats, stops with the port freed', async () => {
    const port = await freePort();
    const saved = await client.saveProfile(sshdProfile('db', port));
    expect(saved.ok).toBe(true);
    const open = nextEvent(client, 'state', (p) => p.profileId === 'db' && p.state.state === 'open');
    await client.start('db');
    expect((await open).state).toMatchObject({ state: 'open', forwards: [{ bindPort: port }] });
    const r = await sendAndHash(port, 300_000);
    expect(r.reply).toBe(r.sent);
    const stats = await nextEvent(client, 'stats', (p) => p.profileId === 'db' && (p.forwards[0]?.total ?? 0) >= 1);
    expect(stats.forwards[0]).toMatchObject({ total: 1, bytesToTarget: 300_000 });
    const listed = await client.listProfiles();
    expect(listed.find((v) => v.profile.id === 'db')?.state.state).toBe('open');
    const closed = nextEvent(client, 'state', (p) => p.profileId === 'db' && p.state.state === 'closed');
    await client.stop('db');
    await closed;
    await expect(canListen(port)).resolves.toBe(true);
  });

  it('turns a host-key question into a prompt event and acts on the answer from this side', async () => {
    const empty = join(dir, 'known_hosts_empty');
    writeFileSync(empty, '');
    const port = await freePort();
    await client.saveProfile(sshdProfile('ask', port, { hostKey: { strict: 'ask', knownHostsFiles: [empty] } }));
    const prompt = nextEvent(client, 'prompt', (p) => p.profileId === 'ask');
    await client.start('ask');
    const q = await prompt;
    expect(q).toMatchObject({ kind: 'hostKey', hop: `${sshd.user}@127.0.0.1:${sshd.port}`, keyType: 'ssh-ed25519', fingerprint: expect.stringMatching(/^SHA256:/) });
    const done = nextEvent(client, 'promptDone', (p) => p.id === q.id);
    const failed = nextEvent(client, 'state', (p) => p.profileId === 'ask' && p.state.state === 'failed');
    await client.answerPrompt(q.id, false);
    await done;
    expect((await failed).state).toMatchObject({ error: { code: 'HOST_KEY_REJECTED' } });
    await expect(client.answerPrompt(q.id, true)).rejects.toMatchObject({ message: 'That question was already answered or withdrawn.' });
    await client.stop('ask');
  });

  it('asks the parent for a secret by reference, and never for one it does not need', async () => {
    const known = join(dir, 'kh-pw');
    writeFileSync(known, pwServer.knownHostsLine());
    const port = await freePort();
    await client.saveProfile({
      id: 'pw',
      name: 'Password',
      server: { host: '127.0.0.1', port: pwServer.port, user: 'u', auth: { method: 'password', passwordRef: 'pw-ref' } },
      hostKey: { strict: 'yes', knownHostsFiles: [known] },
      forwards: [{ type: 'local', bindPort: port, targetHost: '127.0.0.1', targetPort: target.port }],
    });
    const open = nextEvent(client, 'state', (p) => p.profileId === 'pw' && p.state.state === 'open');
    await client.start('pw');
    await open;
    expect(secretsAsked).toEqual(['pw-ref']);
    // The request says which profile asks and where the secret would go (the key the server proved included), so main can refuse a mismatch.
    expect(secretRequests).toEqual([{ profileId: 'pw', use: { kind: 'ssh', host: '127.0.0.1', port: pwServer.port, user: 'u', hostKey: pwServer.fingerprint } }]);
    await client.stop('pw');
  });

  it('export has no secret references; delete returns the profile for undo', async () => {
    const text = await client.exportProfiles();
    expect(text).not.toContain('pw-ref');
    const deleted = await client.deleteProfile('pw');
    expect(deleted.deleted?.id).toBe('pw');
    expect((await client.listProfiles()).map((v) => v.profile.id)).not.toContain('pw');
  });

  it('shuts down gracefully: every tunnel closed and its port free before the process exits', async () => {
    const port = await freePort();
    await client.saveProfile(sshdProfile('last', port));
    const open = nextEvent(client, 'state', (p) => p.profileId === 'last' && p.state.state === 'open');
    await client.start('last');
    await open;
    const done = new Promise<void>((resolve) => engine.on('message', (m) => (m as ControlMessage).t === 'shutdown-done' && resolve()));
    const exited = waitForExit(engine);
    engine.send({ t: 'shutdown' } satisfies ControlMessage);
    await done;
    expect(await canListen(port)).toBe(true);
    await exited;
    expect(engine.exitCode).toBe(0);
  });
});

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
