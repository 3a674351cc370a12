// Property tests of every parser that takes untrusted input: whatever arrives, the answer is a
// value or field-level errors, never an exception, a hang, or a crash of the process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPlan } from '../app/cli/connectProfile.js';
import { lookupHostKey } from '../app/engine/hostKeys.js';
import { serveSocks } from '../app/engine/socks.js';
import { formatForwardSpec, parseForwardSpec } from '../app/profiles/forwardSpec.js';
import { importSshConfig, resolveSshHost } from '../app/profiles/sshConfig.js';
import { parseProfile } from '../app/profiles/validate.js';
import { EngineService } from '../app/service/engineService.js';
import { serveService, type MessagePortLike } from '../app/shared/rpc.js';
import { makeKey } from './support/sshd.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isFieldErrors = (errors: unknown) =>
  Array.isArray(errors) && errors.length > 0 && errors.every((e) => typeof e.path === 'string' && typeof e.message === 'string' && e.message.length > 0);

describe('profiles', () => {
  it('any JSON value: a profile or field errors', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = parseProfile(value);
        if (!parsed.ok) expect(isFieldErrors(parsed.errors)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('near-valid profiles (one field mangled): never a throw', () => {
    const base = { id: 'p', name: 'P', server: { host: 'h', port: 22 }, forwards: [{ type: 'local', bindPort: 1, targetHost: 't', targetPort: 2 }] };
    fc.assert(
      fc.property(fc.constantFrom('id', 'name', 'server', 'forwards', 'hostKey', 'keepalive', 'reconnect', 'jumps', 'client'), fc.jsonValue(), (key, value) => {
        const parsed = parseProfile({ ...base, [key]: value });
        if (!parsed.ok) expect(isFieldErrors(parsed.errors)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('forward specs', () => {
  it('any string: a forward or a clear error', () => {
    fc.assert(
      fc.property(fc.constantFrom('local', 'remote', 'dynamic') as fc.Arbitrary<'local' | 'remote' | 'dynamic'>, fc.string({ maxLength: 80 }), (kind, spec) => {
        const parsed = parseForwardSpec(kind, spec);
        if (!parsed.ok) expect(isFieldErrors(parsed.errors)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('what formatForwardSpec writes parses back to the same forward', () => {
    const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
    const port = fc.integer({ min: 1, max: 65535 });
    const forward = fc.oneof(
      fc.record({ type: fc.constant('local' as const), bindHost: host, bindPort: port, targetHost: host, targetPort: port }),
      fc.record({ type: fc.constant('remote' as const), bindHost: host, bindPort: fc.integer({ min: 0, max: 65535 }), targetHost: host, targetPort: port }),
      fc.record({ type: fc.constant('dynamic' as const), bindHost: host, bindPort: port }),
    );
    fc.assert(
      fc.property(forward, (f) => {
        const [flag, spec] = formatForwardSpec(f).split(' ') as [string, string];
        const parsed = parseForwardSpec(f.type, spec);
        expect(flag).toBe({ local: '-L', remote: '-R', dynamic: '-D' }[f.type]);
        expect(parsed).toEqual({ ok: true, value: f });
      }),
      { numRuns: 500 },
    );
  });
});

describe('ssh_config', () => {
  const line = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.tuple(fc.constantFrom('Host', 'HostName', 'Port', 'User', 'IdentityFile', 'ProxyJump', 'LocalForward', 'RemoteForward', 'DynamicForward', 'Include', 'Match', 'ServerAliveInterval', 'StrictHostKeyChecking'), fc.string({ maxLength: 40 })).map(([k, v]) => `${k} ${v}`),
  );
  it('any config text: resolution and import answer with data or errors, never a throw', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.constantFrom('db', 'web', '*', 'a b'), (lines, alias) => {
        const config = { text: lines.join('\n'), path: join(dir, 'ssh_config') };
        const resolved = resolveSshHost(config, alias);
        if (!resolved.ok) expect(isFieldErrors(resolved.errors)).toBe(true);
        const imported = importSshConfig(config);
        if (!imported.ok) expect(isFieldErrors(imported.errors)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('known_hosts', () => {
  let blob: Buffer;
  beforeAll(() => {
    blob = makeKey(dir, 'fuzz-host').blob;
  });

  it('any file content: a lookup result, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string({ maxLength: 120 }), fc.constantFrom('@revoked * ssh-ed25519 AAAA', '|1|x|y ssh-rsa Zm9v', '[h]:22 ssh-ed25519 ####', '@cert-authority')), { maxLength: 15 }), async (lines) => {
        const file = join(dir, 'known_hosts_fuzz');
        writeFileSync(file, lines.join('\n'));
        const result = await lookupHostKey([file], '127.0.0.1', 2222, blob);
        expect(['match', 'mismatch', 'revoked', 'unknown']).toContain(result.status);
      }),
      { numRuns: 200 },
    );
  });
});

describe('CLI flags', () => {
  it('any combination of -L/-R/-D/-o/-p values: a plan or field errors, never a throw', async () => {
    const cfg = join(dir, 'empty_ssh_config');
    writeFileSync(cfg, '');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 }),
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 2 }),
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 2 }),
        fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
        fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        fc.string({ minLength: 1, maxLength: 30 }),
        async (local, remote, dynamic, option, port, destination) => {
          const plan = await connectPlan(destination, { local, remote, dynamic, option, identity: [], config: cfg, reconnect: true, ...(port !== undefined ? { port } : {}) });
          if (!plan.ok) expect(isFieldErrors(plan.errors)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('contract messages', () => {
  it('any message to the engine: answered with an error or ignored, the engine unharmed', async () => {
    const service = new EngineService({ configDir: join(dir, 'engine') });
    const replies = new Map<number, (reply: unknown) => void>();
    const outbox: unknown[] = [];
    let deliver: (m: unknown) => void = () => {};
    const port: MessagePortLike = {
      postMessage: (m) => {
        outbox.push(m);
        const id = (m as { id?: unknown }).id;
        if (typeof id === 'number') replies.get(id)?.(m);
      },
      onMessage: (listener) => {
        deliver = listener;
        return () => (deliver = () => {});
      },
    };
    const stop = serveService(port, service);
    try {
      const method = fc.constantFrom('listProfiles', 'saveProfile', 'deleteProfile', 'importProfiles', 'start', 'stop', 'retryNow', 'answerPrompt', 'exportProfiles', 'nope', '__proto__', 'constructor');
      const call = fc.record({ t: fc.constant('call'), id: fc.integer(), m: method, a: fc.jsonValue() });
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.jsonValue(), call), async (msg) => {
          outbox.length = 0;
          const isCall = typeof msg === 'object' && msg !== null && !Array.isArray(msg) && (msg as { t?: unknown }).t === 'call';
          if (!isCall) {
            // Not a call: ignored, with nothing sent back.
            deliver(msg);
            expect(outbox).toEqual([]);
            return;
          }
          const id = (msg as { id: number }).id;
          const reply = new Promise((resolve) => replies.set(id, resolve));
          deliver(msg);
          expect(await reply).toMatchObject({ t: 'ret', id, ok: expect.any(Boolean) });
          replies.delete(id);
        }),
        { numRuns: 300 },
      );
      expect(Array.isArray(await service.listProfiles())).toBe(true);
    } finally {
      stop();
      await service.dispose();
    }
  });
});

describe('SOCKS greetings', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((sock) => {
      sock.on('error', () => {});
      serveSocks(sock, () => Promise.reject(new Error('no targets in this test')), { handshakeTimeoutMs: 200 });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('any bytes from a client: that connection ends, the server keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        await new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port });
          // Read whatever the server answers: a paused socket never sees the end that follows it.
          s.resume();
          s.on('error', () => {});
          s.on('close', () => resolve());
          s.on('connect', () => s.write(bytes));
        });
      }),
      { numRuns: 100 },
    );
    expect(server.listening).toBe(true);
    // Incomplete greetings wait out the 200 ms handshake timeout: allow for them on a loaded machine.
  }, 60_000);
});
