// Supervision against real OpenSSH servers that die, hang and come back: detection within the
// keepalive bound, backoff with exact jitter bounds, the reset gate, retryNow, fatal errors that
// never retry, -R re-requested after reconnect, isolation between profiles, the CLI's --json
// events, and stop() from every in-between state. Timing is observed through state events only.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Tunnel } from '../app/engine/tunnel.js';
import type { Profile } from '../app/profiles/schema.js';
import { runCli, type CliEvent, type CliRun } from './support/cli.js';
import { freePort } from './support/net.js';
import { descendants } from './support/proc.js';
import { profileFor } from './support/profiles.js';
import { hashServer, sendAndHash, tcpServer, type TcpTarget } from './support/servers.js';
import { Sshd, makeKey } from './support/sshd.js';
import { States } from './support/states.js';

let target: TcpTarget;
/** Servers and tunnels a test made; afterEach ends them even when the test failed half-way. */
const owned: Array<{ dispose(): Promise<void> }> = [];

beforeAll(async () => {
  target = await hashServer();
});

afterEach(async () => {
  for (const o of owned.splice(0).reverse()) await o.dispose();
});

afterAll(async () => {
  await target?.close();
});

const KEEPALIVE = { intervalSeconds: 1, countMax: 2 };
/** Dead-peer detection is promised within interval × countMax; the margin absorbs a busy machine. */
const DETECT_BOUND_MS = KEEPALIVE.intervalSeconds * KEEPALIVE.countMax * 1000 + 3_000;
/** Generous upper bound for anything that should happen "now" (a handshake, a restart, a stop). */
const SOON_MS = 10_000;

async function sshdServer(): Promise<Sshd> {
  const sshd = await Sshd.start();
  owned.push(sshd);
  return sshd;
}

function supervised(profile: Profile, random?: () => number): { tunnel: Tunnel; states: States } {
  const tunnel = new Tunnel({ profile, ...(random ? { random } : {}) });
  const states = new States(tunnel);
  owned.push({ dispose: () => tunnel.stop() });
  tunnel.start();
  return { tunnel, states };
}

/** A profile for `sshd` with fast keepalives and reconnects on; `reconnect` and `overrides` adjust it. */
function profileWith(sshd: Sshd, reconnect: Record<string, unknown>, overrides: Record<string, unknown>): Profile {
  return profileFor(sshd, { keepalive: KEEPALIVE, connectTimeoutSeconds: 20, reconnect: { enabled: true, ...reconnect }, ...overrides });
}

/** Each call returns the next value, cycling; the backoff's jitter becomes predictable. */
function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function expectCarries(port: number, size = 200_000): Promise<void> {
  const r = await sendAndHash(port, size);
  expect(r.reply).toBe(r.sent);
}

const hopOf = (sshd: Sshd) => `${sshd.user}@127.0.0.1:${sshd.port}`;

/** SIGSTOP sshd and its session processes: the TCP connections stay up, nothing answers. */
function freeze(sshd: Sshd): void {
  for (const pid of [...descendants(sshd.pid!), sshd.pid!]) {
    try {
      process.kill(pid, 'SIGSTOP');
    } catch (err) {
      // A child that exited between listing and stopping (an earlier session's) has nothing to freeze.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

describe('a dropped session', () => {
  it('reconnects with backoff when sshd dies, keeping the same local port bound, and carries a connection made meanwhile', async () => {
    const sshd = await sshdServer();
    const bindPort = await freePort();
    // step = min(max, initial × 2^(attempt−1)): 200, 400, 800, 1000, 1000 ms; delay = step/2 + step/2 × random.
    const randoms = [0, 1, 0.5, 0.25, 1];
    const { tunnel, states } = supervised(
      profileWith(sshd, { initialDelaySeconds: 0.2, maxDelaySeconds: 1 }, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }),
      sequence(randoms),
    );
    const first = await states.next('open', SOON_MS);
    expect(first.forwards[0]).toMatchObject({ bindPort });
    await expectCarries(bindPort);

    await sshd.kill();
    const lost = await states.next('reconnecting', DETECT_BOUND_MS);
    expect(lost).toMatchObject({ attempt: 1, delayMs: 100, error: { code: 'CONNECTION_LOST', hop: hopOf(sshd) } });
    expect(lost.error.message).toContain(hopOf(sshd));

    // Accepted now, carried once a session is back.
    const waiting = sendAndHash(bindPort, 300_000);
    const expected = [
      { attempt: 2, step: 400, delayMs: 400 },
      { attempt: 3, step: 800, delayMs: 600 },
      { attempt: 4, step: 1000, delayMs: 625 },
      { attempt: 5, step: 1000, delayMs: 1000 },
    ];
    for (const e of expected) {
      const r = await states.next('reconnecting', SOON_MS);
      expect(r).toMatchObject({ attempt: e.attempt, delayMs: e.delayMs, error: { code: 'CONNECT_REFUSED', hop: hopOf(sshd) } });
      expect(r.delayMs).toBeGreaterThanOrEqual(e.step / 2);
      expect(r.delayMs).toBeLessThanOrEqual(e.step);
      expect(await canListen(bindPort)).toBe(false);
    }

    await sshd.restart();
    const again = await states.next('open', SOON_MS);
    expect(again.forwards[0]).toMatchObject({ bindPort });
    const carried = await waiting;
    expect(carried.reply).toBe(carried.sent);
    await expectCarries(bindPort);
    expect(tunnel.stats()[0]).toMatchObject({ total: 3, failed: 0 });
    expect(states.names.filter((n) => n !== 'connecting' && n !== 'reconnecting')).toEqual(['open', 'open']);

    await tunnel.stop();
    expect(states.names.at(-1)).toBe('closed');
    expect(await canListen(bindPort)).toBe(true);
  });

  it('notices a server that stops answering (no FIN, no RST) through keepalives, within interval × countMax', async () => {
    const sshd = await sshdServer();
    const bindPort = await freePort();
    const { states } = supervised(profileWith(sshd, { initialDelaySeconds: 0.2, maxDelaySeconds: 1 }, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }));
    await states.next('open', SOON_MS);
    freeze(sshd);
    const lost = await states.next('reconnecting', DETECT_BOUND_MS);
    expect(lost.error).toMatchObject({ code: 'CONNECTION_LOST', hop: hopOf(sshd) });
    expect(lost.error.message).toContain('no answer to keepalives (2 × 1 s)');
    // SIGKILL ends stopped processes too; the restarted server is reachable again.
    await sshd.restart();
    await states.next('open', SOON_MS);
    await expectCarries(bindPort);
  });
});

describe('the reset gate', () => {
  it('a session shorter than resetAfterSeconds continues the count of failures', async () => {
    const sshd = await sshdServer();
    await sshd.kill();
    const { states } = supervised(profileWith(sshd, { initialDelaySeconds: 0.2, maxDelaySeconds: 1, resetAfterSeconds: 30 }, { forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: target.port }] }), () => 1);
    expect(await states.next('reconnecting', SOON_MS)).toMatchObject({ attempt: 1, delayMs: 200 });
    expect(await states.next('reconnecting', SOON_MS)).toMatchObject({ attempt: 2, delayMs: 400 });
    await sshd.restart();
    await states.next('open', SOON_MS);
    await sshd.kill();
    expect(await states.next('reconnecting', DETECT_BOUND_MS)).toMatchObject({ attempt: 3, delayMs: 800, error: { code: 'CONNECTION_LOST' } });
  });

  it('a session that stayed open ≥ resetAfterSeconds starts again at attempt 1, then counts on', async () => {
    const sshd = await sshdServer();
    await sshd.kill();
    const bindPort = await freePort();
    const { states } = supervised(profileWith(sshd, { initialDelaySeconds: 0.2, maxDelaySeconds: 1, resetAfterSeconds: 1 }, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }), () => 1);
    expect(await states.next('reconnecting', SOON_MS)).toMatchObject({ attempt: 1, delayMs: 200 });
    expect(await states.next('reconnecting', SOON_MS)).toMatchObject({ attempt: 2, delayMs: 400 });
    await sshd.restart();
    const open = await states.next('open', SOON_MS);
    // The gate is a duration, so this waits for it — usefully, by carrying data the whole time.
    while (Date.now() - open.since < 1_000) await expectCarries(bindPort, 10_000);
    await sshd.kill();
    expect(await states.next('reconnecting', DETECT_BOUND_MS)).toMatchObject({ attempt: 1, delayMs: 200, error: { code: 'CONNECTION_LOST' } });
    expect(await states.next('connecting', SOON_MS)).toMatchObject({ attempt: 2 });
    expect(await states.next('reconnecting', SOON_MS)).toMatchObject({ attempt: 2, delayMs: 400, error: { code: 'CONNECT_REFUSED' } });
  });
});

describe('retryNow', () => {
  it('cuts a 30 s backoff short: the next attempt starts at once', async () => {
    const sshd = await sshdServer();
    const bindPort = await freePort();
    const { tunnel, states } = supervised(profileWith(sshd, { initialDelaySeconds: 30, maxDelaySeconds: 60 }, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }), () => 1);
    await states.next('open', SOON_MS);
    await sshd.restart();
    expect(await states.next('reconnecting', DETECT_BOUND_MS)).toMatchObject({ attempt: 1, delayMs: 30_000 });
    tunnel.retryNow();
    expect(await states.next('connecting', SOON_MS)).toMatchObject({ attempt: 2 });
    await states.next('open', SOON_MS);
    await expectCarries(bindPort);
  });
});

describe('fatal errors', () => {
  async function failsWithoutRetry(sshd: Sshd, overrides: Record<string, unknown>) {
    const bindPort = await freePort();
    const { tunnel, states } = supervised(profileWith(sshd, { initialDelaySeconds: 0.2 }, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }], ...overrides }));
    const failed = await states.next('failed', SOON_MS);
    // Failed holds nothing: the port is free before anyone calls stop().
    expect(await canListen(bindPort)).toBe(true);
    await tunnel.stop();
    expect(states.names).toEqual(['connecting', 'failed', 'closed']);
    return failed.error;
  }

  it('a key the server does not accept: failed with AUTH_FAILED, never reconnecting, port freed', async () => {
    const sshd = await sshdServer();
    const stranger = makeKey(sshd.dir, 'stranger');
    const error = await failsWithoutRetry(sshd, { server: { host: '127.0.0.1', port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [stranger.path] } } });
    expect(error).toMatchObject({ code: 'AUTH_FAILED', hop: hopOf(sshd) });
    expect(error.message).toContain('Permission denied');
  });

  it('a changed host key: failed with HOST_KEY_CHANGED, never reconnecting, port freed', async () => {
    const sshd = await sshdServer();
    const other = makeKey(sshd.dir, 'other-host-key');
    const known = join(sshd.dir, 'known_hosts_changed');
    writeFileSync(known, sshd.knownHostsLine(undefined, other));
    const error = await failsWithoutRetry(sshd, { hostKey: { strict: 'yes', knownHostsFiles: [known] } });
    expect(error).toMatchObject({ code: 'HOST_KEY_CHANGED', hop: hopOf(sshd) });
  });

  it('a host key that changed while reconnecting stops the retries: failed, port freed', async () => {
    const sshd = await sshdServer();
    const bindPort = await freePort();
    const { tunnel, states } = supervised(profileWith(sshd, { initialDelaySeconds: 0.2 }, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }));
    await states.next('open', SOON_MS);
    await sshd.kill();
    await states.next('reconnecting', DETECT_BOUND_MS);
    // Another server (new host key) on the same address.
    const impostor = await Sshd.start({ port: sshd.port });
    owned.push(impostor);
    const failed = await states.next('failed', SOON_MS);
    expect(failed.error).toMatchObject({ code: 'HOST_KEY_CHANGED', hop: hopOf(sshd) });
    expect(await canListen(bindPort)).toBe(true);
    await tunnel.stop();
    expect(states.names.slice(-2)).toEqual(['failed', 'closed']);
  });
});

describe('remote forwards across reconnects', () => {
  it('re-requests -R after reconnect; a server-assigned port is reported again in the new open state and works', async () => {
    const sshd = await sshdServer();
    const fixedPort = await freePort();
    const { tunnel, states } = supervised(
      profileWith(sshd, { initialDelaySeconds: 0.2, maxDelaySeconds: 1 }, {
        forwards: [
          { type: 'remote', bindPort: 0, targetHost: '127.0.0.1', targetPort: target.port },
          { type: 'remote', bindPort: fixedPort, targetHost: '127.0.0.1', targetPort: target.port },
        ],
      }),
    );
    const first = await states.next('open', SOON_MS);
    const assigned1 = first.forwards[0]!.bindPort;
    expect(assigned1).toBeGreaterThan(0);
    await expectCarries(assigned1);
    await expectCarries(fixedPort);

    await sshd.kill();
    await states.next('reconnecting', DETECT_BOUND_MS);
    // The server side is gone with sshd: nothing listens there until the forward is re-requested.
    expect(await canListen(fixedPort)).toBe(true);
    await sshd.restart();
    const again = await states.next('open', SOON_MS);
    const assigned2 = again.forwards[0]!.bindPort;
    expect(assigned2).toBeGreaterThan(0);
    expect(again.forwards[0]!.label).toContain(`:${assigned2} `);
    expect(again.forwards[1]).toMatchObject({ bindPort: fixedPort });
    await expectCarries(assigned2);
    await expectCarries(fixedPort);
    expect(tunnel.stats().map((s) => s.failed)).toEqual([0, 0]);
  });
});

describe('many profiles at once', () => {
  it('3 tunnels on 2 servers: a killed server and a failing profile leave the others untouched', async () => {
    const [a, b] = await Promise.all([sshdServer(), sshdServer()]);
    const stranger = makeKey(b.dir, 'stranger');
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const local = (bindPort: number) => [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }];
    const onA = supervised(profileWith(a, { initialDelaySeconds: 0.2, maxDelaySeconds: 1 }, { id: 'on-a', forwards: local(ports[0]!) }));
    const onB = supervised(profileWith(b, { initialDelaySeconds: 0.2, maxDelaySeconds: 1 }, { id: 'on-b', forwards: local(ports[1]!) }));
    const badOnB = supervised(
      profileWith(b, { initialDelaySeconds: 0.2 }, { id: 'bad-on-b', forwards: local(ports[2]!), server: { host: '127.0.0.1', port: b.port, user: b.user, auth: { method: 'key', keyFiles: [stranger.path] } } }),
    );
    await Promise.all([onA.states.next('open', SOON_MS), onB.states.next('open', SOON_MS), badOnB.states.next('failed', SOON_MS)]);
    await Promise.all([expectCarries(ports[0]!), expectCarries(ports[1]!)]);

    await a.kill();
    await onA.states.next('reconnecting', DETECT_BOUND_MS);
    await onA.states.next('reconnecting', SOON_MS);
    await expectCarries(ports[1]!);
    await a.restart();
    await onA.states.next('open', SOON_MS);
    await Promise.all([expectCarries(ports[0]!), expectCarries(ports[1]!)]);

    expect(onB.states.names).toEqual(['connecting', 'open']);
    expect(badOnB.states.names).toEqual(['connecting', 'failed']);
    expect(onA.states.names).not.toContain('failed');
    expect(onB.tunnel.stats()[0]).toMatchObject({ failed: 0 });
  });
});

describe('tunnelvision connect --json', () => {
  const started: CliRun[] = [];
  afterEach(async () => {
    for (const run of started.splice(0)) {
      if (run.proc.exitCode === null && run.proc.signalCode === null) run.proc.kill('SIGKILL');
      await run.exit;
    }
  });

  function within(run: CliRun, pred: (e: CliEvent) => boolean, what: string, ms: number): Promise<CliEvent> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      run.waitFor(pred, what),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; stdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  it('prints reconnecting (attempt, delayMs, error) after sshd is killed and open again after restart', async () => {
    const sshd = await sshdServer();
    const port = await freePort();
    const knownHosts = sshd.writeKnownHosts();
    const run = runCli([
      'connect', '-N', '-L', `${port}:127.0.0.1:${target.port}`, '-p', String(sshd.port), '-i', sshd.clientKey.path,
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2',
      '--json', `${sshd.user}@127.0.0.1`,
    ]);
    started.push(run);
    await within(run, (e) => e.state === 'open', 'open', SOON_MS);
    await sshd.kill();
    const lost = await within(run, (e) => e.state === 'reconnecting', 'reconnecting', DETECT_BOUND_MS);
    expect(lost).toMatchObject({ event: 'state', state: 'reconnecting', attempt: 1, error: { code: 'CONNECTION_LOST', hop: hopOf(sshd) } });
    // The CLI's profile keeps the default backoff: a first step of 1 s, half of it fixed.
    expect(lost.delayMs).toBeGreaterThanOrEqual(500);
    expect(lost.delayMs).toBeLessThanOrEqual(1_000);
    const after = run.events.indexOf(lost);
    await sshd.restart();
    await within(run, (e) => e.state === 'open' && run.events.indexOf(e) > after, 'open after restart', SOON_MS);
    await expectCarries(port);
    run.proc.kill('SIGINT');
    expect((await run.exit).code).toBe(0);
    expect(await canListen(port)).toBe(true);
  });
});

describe('stop()', () => {
  it('during connecting (a server that accepts TCP and never speaks SSH): resolves promptly, closed, port freed', async () => {
    let reached: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const tarpit = await tcpServer(() => reached());
    owned.push({ dispose: () => tarpit.close() });
    const sshd = await sshdServer();
    const bindPort = await freePort();
    const profile = profileWith(sshd, {}, { connectTimeoutSeconds: 600, server: { host: '127.0.0.1', port: tarpit.port, user: sshd.user, auth: { method: 'key', keyFiles: [sshd.clientKey.path] } }, forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] });
    const { tunnel, states } = supervised(profile);
    await states.next('connecting', SOON_MS);
    await arrived;
    await stopsWithin(tunnel, SOON_MS);
    expect(states.names).toEqual(['connecting', 'closed']);
    expect(await canListen(bindPort)).toBe(true);
  });

  it('while open with -R on a server that stopped answering (keepalives off): resolves promptly, closed, port freed', async () => {
    const sshd = await sshdServer();
    const bindPort = await freePort();
    const profile = profileWith(sshd, {}, {
      keepalive: { intervalSeconds: 0, countMax: 1 },
      forwards: [
        { type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port },
        { type: 'remote', bindPort: 0, targetHost: '127.0.0.1', targetPort: target.port },
      ],
    });
    const { tunnel, states } = supervised(profile);
    await states.next('open', SOON_MS);
    freeze(sshd);
    await stopsWithin(tunnel, SOON_MS);
    expect(states.names).toEqual(['connecting', 'open', 'closed']);
    expect(await canListen(bindPort)).toBe(true);
  });

  it('during reconnecting (a 30 s backoff): resolves promptly, closed, port freed', async () => {
    const sshd = await sshdServer();
    const bindPort = await freePort();
    const { tunnel, states } = supervised(profileWith(sshd, { initialDelaySeconds: 30, maxDelaySeconds: 60 }, { forwards: [{ type: 'local', bindPort, targetHost: '127.0.0.1', targetPort: target.port }] }));
    await states.next('open', SOON_MS);
    await sshd.kill();
    await states.next('reconnecting', DETECT_BOUND_MS);
    await stopsWithin(tunnel, SOON_MS);
    expect(states.names.at(-1)).toBe('closed');
    expect(await canListen(bindPort)).toBe(true);
  });
});

async function stopsWithin(tunnel: Tunnel, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    tunnel.stop(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`stop() did not resolve within ${ms} ms (state ${tunnel.state.state})`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
