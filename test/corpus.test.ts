// The checked-in corpus of bad input (test/corpus/): ssh_config files, known_hosts lines, CLI flag
// combinations, SOCKS greetings, contract payloads (a path where content belongs, a private key,
// a profile that brings references) and damaged profile files. Each entry goes
// through the real parser or handler and must come back as a clear error: no throw, no hang, no
// stack trace, no half-written file. (Malformed profiles are in test/profiles.test.ts.)
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHostKey } from '../app/engine/hostKeys.js';
import { serveSocks } from '../app/engine/socks.js';
import { connectPlan } from '../app/cli/connectProfile.js';
import { importSshConfig } from '../app/profiles/sshConfig.js';
import { ProfileStore } from '../app/profiles/store.js';
import { formatErrors } from '../app/profiles/validate.js';
import { EngineService } from '../app/service/engineService.js';
import { serveService, type MessagePortLike } from '../app/shared/rpc.js';
import { TunnelError } from '../app/shared/errors.js';
import { makeKey } from './support/sshd.js';

const CORPUS = new URL('./corpus/', import.meta.url).pathname;
const BIN = new URL('../bin/tunnelvision.js', import.meta.url).pathname;
/** What a person must never be shown: internals instead of a sentence. */
const UNREADABLE = /ZodError|\bat \S+\.(js|ts):\d+|\[object Object\]|TypeError|ReferenceError|undefined is not/;

function entries(kind: string): Array<[string, string]> {
  const dir = join(CORPUS, kind);
  return readdirSync(dir)
    .sort()
    .map((f) => [f, join(dir, f)]);
}

const dir = mkdtempSync(join(tmpdir(), 'tv-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ssh_config files', () => {
  it.each(entries('ssh_config'))('%s: connecting to its host (as the CLI does) gives field errors that name the keyword', async (_name, path) => {
    const text = readFileSync(path, 'utf8');
    const alias = /^# host: (.+)$/m.exec(text)![1]!;
    const expected = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!);
    // Text from a hostile file that no message may quote back (it could be a secret, or escapes).
    const never = [...text.matchAll(/^# never: (.+)$/gm)].map((m) => m[1]!);
    const plan = await connectPlan(alias, { local: [], remote: [], dynamic: [], option: [], identity: [], config: path, reconnect: true });
    expect(plan.ok, `connecting to ${alias} should be refused`).toBe(false);
    if (plan.ok) return;
    const message = formatErrors(plan.errors);
    for (const e of expected) expect(message).toContain(e);
    for (const n of never) expect(message).not.toContain(n);
    expect(message).not.toMatch(UNREADABLE);
    // Importing the same file skips the host with a reason, or reports the file; it never throws.
    const imported = importSshConfig({ text, path });
    if (imported.ok) {
      expect(imported.value.profiles.map((p) => p.id)).not.toContain(alias);
      for (const n of never) expect(JSON.stringify(imported.value.skipped)).not.toContain(n);
    }
  });
});

describe('known_hosts lines', () => {
  let blob: Buffer;
  beforeAll(() => {
    blob = makeKey(dir, 'real-host-key').blob;
  });

  it.each(entries('known_hosts'))('%s: never vouches for the key; the host is refused, by name', async (_name, path) => {
    const error = await checkHostKey({ host: 'db.example.com', port: 22, hop: 'me@db.example.com:22', policy: { strict: 'yes', knownHostsFiles: [path], allowSha1Rsa: false }, checkPinned: true }, blob).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TunnelError);
    // Unknown, or (a same-type line that does not decode) a mismatch: refused either way, fatally.
    expect(error).toMatchObject({ code: expect.stringMatching(/^HOST_KEY_(REJECTED|CHANGED)$/), hop: 'me@db.example.com:22' });
    expect((error as Error).message).toContain('db.example.com');
    expect((error as Error).message).not.toMatch(UNREADABLE);
  });
});

describe('CLI flag combinations', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, ...args], { env: { ...process.env, SSH_AUTH_SOCK: '', HOME: dir }, timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      );
    });

  it.each(entries('cli'))('%s: exit 2, one clear line per problem on stderr, nothing on stdout', async (_name, path) => {
    const c = JSON.parse(readFileSync(path, 'utf8')) as { args: string[]; expect: string[] };
    const r = await run(c.args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    for (const e of c.expect) expect(r.stderr).toContain(e);
    expect(r.stderr).not.toMatch(UNREADABLE);
  });
});

describe('SOCKS greetings', () => {
  let server: Server;
  let port: number;
  const failures: unknown[] = [];
  beforeAll(async () => {
    server = createServer((sock) => {
      sock.on('error', () => {});
      serveSocks(sock, () => Promise.reject(new Error('no target may be reached from this corpus')), { handshakeTimeoutMs: 300, hooks: { onFailed: (err) => failures.push(err) } });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each(entries('socks'))('%s: the right refusal, then the connection ends; the failure reported once', async (_name, path) => {
    const c = JSON.parse(readFileSync(path, 'utf8')) as { hex: string; reply: string; error: string };
    failures.length = 0;
    const reply = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const s = connect({ host: '127.0.0.1', port });
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', () => {});
      s.on('close', () => resolve(Buffer.concat(chunks).toString('hex')));
      s.on('connect', () => s.write(Buffer.from(c.hex, 'hex')));
    });
    expect(reply.startsWith(c.reply), `reply ${reply}`).toBe(true);
    expect(failures).toHaveLength(1);
    expect((failures[0] as Error).message).toContain(c.error);
    expect(server.listening).toBe(true);
  });
});

describe('contract payloads', () => {
  let service: EngineService;
  let stop: () => void;
  let deliver: (m: unknown) => void = () => {};
  const replies = new Map<number, (reply: unknown) => void>();

  beforeAll(() => {
    service = new EngineService({ configDir: join(dir, 'engine') });
    const port: MessagePortLike = {
      postMessage: (m) => {
        const id = (m as { id?: unknown }).id;
        if (typeof id === 'number') replies.get(id)?.(m);
      },
      onMessage: (listener) => {
        deliver = listener;
        return () => (deliver = () => {});
      },
    };
    stop = serveService(port, service);
  });
  afterAll(async () => {
    stop();
    await service.dispose();
  });

  it.each(entries('contract'))('%s: answered with a clear error (or a field-level refusal); the engine unharmed', async (_name, path) => {
    const c = JSON.parse(readFileSync(path, 'utf8')) as { message: { id: number }; expect?: string | null; review?: string[] };
    const before = await service.listProfiles();
    const reply = new Promise<Record<string, unknown>>((resolve) => replies.set(c.message.id, resolve as (r: unknown) => void));
    deliver(c.message);
    const r = await reply;
    replies.delete(c.message.id);
    if (c.review) {
      // A hostile import is reviewed, every dangerous field named, and nothing is saved by reviewing.
      expect(r).toMatchObject({ t: 'ret', ok: true, v: { ok: true } });
      const kinds = (r.v as { review: { entries: Array<{ findings: Array<{ kind: string }> }> } }).review.entries.flatMap((e) => e.findings.map((f) => f.kind));
      expect(kinds).toEqual(expect.arrayContaining(c.review));
    } else if (c.expect === null) {
      // Expected failures are data: ok:true with a refusal inside, never a thrown error.
      expect(r).toMatchObject({ t: 'ret', ok: true, v: { ok: false } });
      expect(JSON.stringify(r)).not.toMatch(UNREADABLE);
    } else {
      expect(r).toMatchObject({ t: 'ret', ok: false, e: { message: expect.any(String) } });
      const e = r.e as { message: string; code: string };
      expect(e.message.length).toBeGreaterThan(10);
      expect(e.message).toContain(c.expect);
      expect(e.message).not.toMatch(UNREADABLE);
    }
    expect(JSON.stringify(r)).not.toContain('b3BlbnNzaC1rZXkt');
    expect(await service.listProfiles()).toEqual(before);
  });
});

describe('damaged profile files', () => {
  it.each(entries('store'))('%s: the person is told, the original kept byte for byte, and the next save loses nothing', async (_name, path) => {
    const store = new ProfileStore(mkdtempSync(join(dir, 'store-')));
    copyFileSync(path, store.file);
    const original = readFileSync(path);
    const report = await store.load();
    expect(report.problem, 'a damaged file must be reported').toBeDefined();
    expect(report.problem!.message).toContain(store.file);
    expect(report.problem!.message).toContain(report.problem!.backup);
    expect(report.problem!.message).not.toMatch(UNREADABLE);
    expect(readFileSync(report.problem!.backup).equals(original)).toBe(true);
    // Saving what loaded (a person's next edit) writes a whole file, with the entries it could not
    // read kept as they were, and leaves the backup alone.
    await store.update((profiles) => profiles.length);
    const saved = JSON.parse(readFileSync(store.file, 'utf8')) as { profiles: unknown[] };
    expect(saved.profiles).toHaveLength(report.profiles.length + report.unreadable.length);
    expect(saved.profiles.slice(report.profiles.length)).toEqual(report.unreadable);
    expect(readFileSync(report.problem!.backup).equals(original)).toBe(true);
    expect(readdirSync(store.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
