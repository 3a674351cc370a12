// Crash output carries no secret. Two processes that hold a password are made to crash the way a
// bug crashes them (an uncaught exception from a callback, an unhandled rejection of an Error or
// of a plain object), with the password riding along where bugs put data: the message, the error's
// own properties, its cause chain, the rejected value. The fault is injected by a `node --import`
// fixture (test/fixtures/crashOnRequest.mjs) on an IPC message; the processes are otherwise the
// real ones: the CLI with a password from SSH_ASKPASS, and the engine process with one from the
// secret store, each with a tunnel open through it to a real SSH server. Node's own report would
// print all of it (util.inspect of the error, its properties and causes); the report must instead
// say what broke and where, and nothing of the password.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPayload } from '../app/shared/contract.js';
import { createClient, type MessagePortLike } from '../app/shared/rpc.js';
import type { ControlMessage } from '../app/service/engineProcess.js';
import { ProfileStore } from '../app/profiles/store.js';
import { parseProfile } from '../app/profiles/validate.js';
import { freePort } from './support/net.js';
import { waitForExit } from './support/proc.js';
import { hashServer, sendAndHash, type TcpTarget } from './support/servers.js';
import { startSsh2Server, type TestSsh2Server } from './support/ssh2Server.js';

const BIN = new URL('../bin/tunnelvision.js', import.meta.url).pathname;
const ENGINE = new URL('../dist/app/service/engineProcess.js', import.meta.url).pathname;
const FAULT = new URL('./fixtures/crashOnRequest.mjs', import.meta.url).pathname;
const SECRET = `tv-crash-secret-${randomBytes(12).toString('hex')}`;
const HOWS = ['throw', 'reject-object', 'reject-error'] as const;
type How = (typeof HOWS)[number];

let dir: string;
let server: TestSsh2Server;
let target: TcpTarget;
let knownHosts: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-crash-'));
  server = await startSsh2Server((ctx) => (ctx.method === 'password' && ctx.password === SECRET ? ctx.accept() : ctx.reject(['password'])));
  target = await hashServer();
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, server.knownHostsLine());
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitForExit(child);
  }
  await target?.close();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Everything a child writes, both streams, and a way to wait for a piece of it. */
function collect(child: ChildProcess): { text(): string; stderr(): string; seen(what: string): Promise<void> } {
  let all = '';
  let err = '';
  const waiting: Array<{ what: string; resolve: () => void }> = [];
  const add = (d: Buffer, isErr: boolean) => {
    all += d.toString();
    if (isErr) err += d.toString();
    for (const w of waiting.splice(0)) {
      if (all.includes(w.what)) w.resolve();
      else waiting.push(w);
    }
  };
  child.stdout!.on('data', (d: Buffer) => add(d, false));
  child.stderr!.on('data', (d: Buffer) => add(d, true));
  return {
    text: () => all,
    stderr: () => err,
    seen: (what) => (all.includes(what) ? Promise.resolve() : new Promise((resolve) => waiting.push({ what, resolve }))),
  };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
}

/** What every crash report here must and must not hold. */
function expectSafeReport(output: string, stderr: string, program: string, how: How): void {
  expect(output).not.toContain(SECRET);
  // Not even a piece of it (a truncated inspect, a quoted slice).
  expect(output).not.toContain(SECRET.slice(-12));
  const kind = how === 'throw' ? 'an uncaught exception' : 'an unhandled promise rejection';
  const head = {
    throw: "TypeError: Cannot read properties of undefined (reading 'hop') while sending password \"[redacted]\"",
    'reject-object': 'a thrown or rejected object value (not an Error; its content is not shown)',
    'reject-error': 'RangeError [ERR_TEST]: bad answer [redacted]',
  }[how];
  expect(stderr).toContain(`${program}: internal error (a bug in Tunnelvision; ${kind}): ${head}\n`);
  if (how !== 'reject-object') expect(stderr).toMatch(/\n {4}at .*crashOnRequest\.mjs:\d+:\d+/);
  if (how === 'throw') expect(stderr).toContain('\n  caused by: Error: keyboard-interactive answers were ["[redacted]"]\n  caused by: a thrown or rejected object value (not an Error; its content is not shown)\n');
  expect(stderr).toContain('Please report this with the command you ran; no password, passphrase or token is in this report.\n');
  // None of Node's own report: no inspected properties, no version banner.
  expect(stderr).not.toMatch(/config:|answer:|Node\.js v\d/);
}

describe('the CLI, with a password from SSH_ASKPASS and a tunnel open', () => {
  const askpass = () => {
    const file = join(dir, 'askpass.sh');
    writeFileSync(file, '#!/bin/sh\nprintf "%s\\n" "$TV_TEST_ASKPASS_ANSWER"\n', { mode: 0o700 });
    return file;
  };

  it.each(HOWS)('%s: the report says what broke and where, exits 255, and never shows the password', async (how) => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', FAULT, BIN, 'connect', '-N', '-L', `${port}:127.0.0.1:${target.port}`, '-p', String(server.port), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-v', 'me@127.0.0.1'],
      {
        // No agent and no default keys: the password is the only way in, asked of SSH_ASKPASS.
        env: { ...process.env, HOME: dir, SSH_AUTH_SOCK: '', SSH_ASKPASS: askpass(), SSH_ASKPASS_REQUIRE: 'force', TV_TEST_ASKPASS_ANSWER: SECRET, TV_TEST_UNREF_CHANNEL: '1' },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    children.push(child);
    const out = collect(child);
    const exit = exitOf(child);
    await out.seen('Press Ctrl-C to close.');
    // The password was used: the tunnel carries data.
    const r = await sendAndHash(port, 10_000);
    expect(r.reply).toBe(r.sent);
    child.send({ t: 'test-crash', how, secret: SECRET });
    expect(await exit).toEqual({ code: 255, signal: null });
    expectSafeReport(out.text(), out.stderr(), 'tunnelvision', how);
  });
});

describe('the engine process, with a password from the secret store and a tunnel open', () => {
  it.each(HOWS)('%s: the report says what broke and where, exits 70, and never shows the password', async (how) => {
    const configDir = mkdtempSync(join(dir, 'engine-'));
    const bindPort = await freePort();
    const parsed = parseProfile({
      id: 'crash',
      name: 'crash',
      server: { host: '127.0.0.1', port: server.port, user: 'me', auth: { method: 'password', passwordRef: 'pw-ref' } },
      hostKey: { strict: 'yes', knownHostsFiles: [knownHosts] },
      reconnect: { enabled: false },
      forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    await new ProfileStore(configDir).save([parsed.value]);

    const engine = fork(ENGINE, [], { execArgv: ['--import', FAULT], env: { ...process.env, TUNNELVISION_CONFIG_DIR: configDir }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    children.push(engine);
    const out = collect(engine);
    const exit = exitOf(engine);
    const channel: MessagePortLike = {
      postMessage: (m) => engine.send(m as object),
      onMessage: (listener) => {
        engine.on('message', listener);
        return () => engine.off('message', listener);
      },
    };
    // main's side of the secret store: the password goes to the engine when it asks for it.
    channel.onMessage((m) => {
      const msg = m as ControlMessage;
      if (msg.t === 'secret?') channel.postMessage({ t: 'secret!', id: msg.id, value: msg.ref === 'pw-ref' ? SECRET : null } satisfies ControlMessage);
    });
    await new Promise<void>((resolve) => engine.once('message', (m) => (m as ControlMessage).t === 'ready' && resolve()));
    const client = createClient(channel);
    try {
      const open = new Promise<void>((resolve) => {
        client.on('state', (p: EventPayload<'state'>) => p.profileId === 'crash' && p.state.state === 'open' && resolve());
      });
      await client.start('crash');
      await open;
      const r = await sendAndHash(bindPort, 10_000);
      expect(r.reply).toBe(r.sent);
      engine.send({ t: 'test-crash', how, secret: SECRET });
      expect(await exit).toEqual({ code: 70, signal: null });
    } finally {
      client.dispose();
    }
    expectSafeReport(out.text(), out.stderr(), 'tunnelvision engine', how);
  });
});
