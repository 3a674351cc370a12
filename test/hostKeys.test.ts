// Host-key checking against real OpenSSH keys and files: ssh-keygen makes the keys, hashes the
// names and reads back what we write, so "OpenSSH semantics" is checked against OpenSSH itself.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  checkHostKey,
  decideHostKey,
  defaultKnownHostsFiles,
  describeKey,
  isOpenedAt,
  knownHostsName,
  lookupHostKey,
  type HostKeyCheck,
  type HostKeyInfo,
  type HostKeyQuestion,
  type KnownHostsLookup,
} from '../app/engine/hostKeys.js';
import type { HostKeyPolicy } from '../app/profiles/schema.js';
import { TunnelError } from '../app/shared/errors.js';

const run = promisify(execFile);

interface TestKey {
  info: HostKeyInfo;
  /** `keytype base64`, ready to follow host patterns on a known_hosts line. */
  line: string;
  pubFile: string;
}

let dir: string;
let fileCount = 0;
let ed: TestKey; // the key the server offers in most tests
let ed2: TestKey; // a different key of the same type: the "changed" key
let rsa: TestKey;
let ecdsa: TestKey;

async function makeKey(type: 'ed25519' | 'rsa' | 'ecdsa', name: string): Promise<TestKey> {
  const file = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'test', '-f', file]);
  const pubFile = `${file}.pub`;
  const [keyType = '', base64 = ''] = (await readFile(pubFile, 'utf8')).trim().split(' ');
  const info = describeKey(Buffer.from(base64, 'base64'));
  return { info, line: `${keyType} ${base64}`, pubFile };
}

/** A fresh known_hosts file with these lines, so tests never share state. */
async function knownHosts(...lines: string[]): Promise<string> {
  const file = join(dir, `known_hosts_${++fileCount}`);
  await writeFile(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/** Runs `body` with HOME set to `home` (made if missing): ~/.ssh is the one folder where a known_hosts file may be created. */
async function withHome<T>(home: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env.HOME;
  await mkdir(home, { recursive: true });
  process.env.HOME = home;
  try {
    return await body();
  } finally {
    process.env.HOME = saved;
  }
}

function policy(strict: HostKeyPolicy['strict'], files: string[], pinnedFingerprint?: string): HostKeyPolicy {
  return { strict, knownHostsFiles: files, allowSha1Rsa: false, ...(pinnedFingerprint ? { pinnedFingerprint } : {}) };
}

async function rejection(promise: Promise<unknown>): Promise<TunnelError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TunnelError)) throw new Error(`expected a TunnelError, got ${String(err)}`);
  return err;
}

function refusal(decision: ReturnType<typeof decideHostKey>): TunnelError {
  if (decision.action !== 'refuse') throw new Error(`expected a refusal, got ${decision.action}`);
  return decision.error;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tunnelvision-hostkeys-'));
  [ed, ed2, rsa, ecdsa] = await Promise.all([makeKey('ed25519', 'ed'), makeKey('ed25519', 'ed2'), makeKey('rsa', 'rsa'), makeKey('ecdsa', 'ecdsa')]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('describeKey', () => {
  it('reads the type and gives the fingerprint ssh-keygen -lf prints, for every key type', async () => {
    for (const [key, type] of [
      [ed, 'ssh-ed25519'],
      [rsa, 'ssh-rsa'],
      [ecdsa, 'ecdsa-sha2-nistp256'],
    ] as const) {
      const { stdout } = await run('ssh-keygen', ['-lf', key.pubFile]);
      expect(key.info.type).toBe(type);
      expect(key.info.fingerprint).toBe(stdout.split(' ')[1]);
    }
  });

  it('refuses a blob that is not an SSH public key', () => {
    expect(() => describeKey(Buffer.from('nonsense'))).toThrow(TunnelError);
  });
});

describe('knownHostsName and default files', () => {
  it('brackets non-standard ports and lowercases, as OpenSSH writes them', () => {
    expect(knownHostsName('Example.COM', 22)).toBe('example.com');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('defaults to ~/.ssh/known_hosts and known_hosts2', () => {
    const home = process.env.HOME;
    process.env.HOME = '/home/someone';
    try {
      expect(defaultKnownHostsFiles()).toEqual(['/home/someone/.ssh/known_hosts', '/home/someone/.ssh/known_hosts2']);
    } finally {
      process.env.HOME = home;
    }
  });
});

describe('lookupHostKey', () => {
  it('matches a plain entry and reports its file and line', async () => {
    const file = await knownHosts('# a comment', '', `example.com ${ed.line}`);
    expect(await lookupHostKey([file], 'example.com', 22, ed.info.blob)).toEqual({ status: 'match', file, line: 3 });
  });

  it('keeps ports apart: [host]:port entries match only that port', async () => {
    const file = await knownHosts(`[127.0.0.1]:2222 ${ed.line}`);
    expect(await lookupHostKey([file], '127.0.0.1', 2222, ed.info.blob)).toMatchObject({ status: 'match' });
    expect(await lookupHostKey([file], '127.0.0.1', 22, ed.info.blob)).toEqual({ status: 'unknown', otherTypes: [] });
    expect(await lookupHostKey([file], '127.0.0.1', 2200, ed.info.blob)).toEqual({ status: 'unknown', otherTypes: [] });
  });

  it('matches names hashed by ssh-keygen -H, including [host]:port', async () => {
    const file = await knownHosts(`example.com ${ed.line}`, `[127.0.0.1]:2222 ${rsa.line}`);
    await run('ssh-keygen', ['-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('example.com');
    expect(text).toContain('|1|');
    expect(await lookupHostKey([file], 'example.com', 22, ed.info.blob)).toEqual({ status: 'match', file, line: 1 });
    expect(await lookupHostKey([file], '127.0.0.1', 2222, rsa.info.blob)).toEqual({ status: 'match', file, line: 2 });
    expect(await lookupHostKey([file], 'example.org', 22, ed.info.blob)).toEqual({ status: 'unknown', otherTypes: [] });
  });

  it('matches * and ? wildcards', async () => {
    const file = await knownHosts(`*.example.com ${ed.line}`, `10.0.0.? ${rsa.line}`);
    expect(await lookupHostKey([file], 'db.eu.example.com', 22, ed.info.blob)).toMatchObject({ status: 'match', line: 1 });
    expect(await lookupHostKey([file], 'example.com', 22, ed.info.blob)).toMatchObject({ status: 'unknown' });
    expect(await lookupHostKey([file], '10.0.0.7', 22, rsa.info.blob)).toMatchObject({ status: 'match', line: 2 });
    expect(await lookupHostKey([file], '10.0.0.70', 22, rsa.info.blob)).toMatchObject({ status: 'unknown' });
  });

  it('lets a negated pattern exclude the whole line', async () => {
    const file = await knownHosts(`*.example.com,!secret.example.com ${ed.line}`);
    expect(await lookupHostKey([file], 'www.example.com', 22, ed.info.blob)).toMatchObject({ status: 'match' });
    expect(await lookupHostKey([file], 'secret.example.com', 22, ed.info.blob)).toEqual({ status: 'unknown', otherTypes: [] });
  });

  it('matches any of several comma-separated patterns, case-insensitively', async () => {
    const file = await knownHosts(`alpha,Bravo.example.com,192.0.2.10 ${ed.line}`);
    for (const host of ['alpha', 'bravo.example.com', 'BRAVO.example.com', '192.0.2.10']) {
      expect(await lookupHostKey([file], host, 22, ed.info.blob)).toMatchObject({ status: 'match' });
    }
    expect(await lookupHostKey([file], 'charlie', 22, ed.info.blob)).toMatchObject({ status: 'unknown' });
  });

  it('reports a revoked key even when another line trusts it', async () => {
    const file = await knownHosts(`example.com ${ed.line}`, `@revoked * ${ed.line}`);
    expect(await lookupHostKey([file], 'example.com', 22, ed.info.blob)).toEqual({ status: 'revoked', file, line: 2 });
  });

  it('applies @revoked only where its host pattern matches, as OpenSSH does', async () => {
    const file = await knownHosts(`@revoked other.example.com ${ed.line}`, `example.com ${ed.line}`);
    expect(await lookupHostKey([file], 'example.com', 22, ed.info.blob)).toMatchObject({ status: 'match', line: 2 });
    expect(await lookupHostKey([file], 'other.example.com', 22, ed.info.blob)).toMatchObject({ status: 'revoked', line: 1 });
  });

  it('ignores @cert-authority lines', async () => {
    const file = await knownHosts(`@cert-authority *.example.com ${ed.line}`, `@cert-authority *.example.com ${ed2.line}`);
    expect(await lookupHostKey([file], 'www.example.com', 22, ed.info.blob)).toEqual({ status: 'unknown', otherTypes: [] });
  });

  it('reports a different key of the same type as a mismatch, with every file:line', async () => {
    const first = await knownHosts(`example.com ${ed2.line}`);
    const second = await knownHosts('# old', `example.com ${rsa.line}`, `*.com ${ed2.line}`);
    const lookup = await lookupHostKey([first, second], 'example.com', 22, ed.info.blob);
    expect(lookup).toEqual({
      status: 'mismatch',
      known: [
        { ...ed2.info, file: first, line: 1 },
        { ...ed2.info, file: second, line: 3 },
      ],
    });
  });

  it('treats keys of other types only as unknown, listing them', async () => {
    const file = await knownHosts(`example.com ${rsa.line}`, `example.com ${ecdsa.line}`, `example.com ${rsa.line}`);
    const lookup = await lookupHostKey([file], 'example.com', 22, ed.info.blob);
    expect(lookup).toEqual({ status: 'unknown', otherTypes: [rsa.info, ecdsa.info] });
  });

  it('skips malformed lines without throwing', async () => {
    const [edType, edBase64 = ''] = ed.line.split(' ');
    const file = await knownHosts(
      'garbage',
      'example.com',
      `example.com ${edType}`,
      `example.com ${edType} not*base64`,
      `example.com ssh-rsa ${edBase64}`,
      `@bogus example.com ${ed.line}`,
      `@revoked @revoked example.com ${ed.line}`,
      `|1|bad|hash ${ed.line}`,
      '   # indented comment',
      `\texample.com  ${ed.line}  trailing comment\r`,
    );
    expect(await lookupHostKey([file], 'example.com', 22, ed.info.blob)).toEqual({ status: 'match', file, line: 10 });
  });

  it('treats missing files as empty and reads every file given', async () => {
    const file = await knownHosts(`example.com ${ed.line}`);
    const missing = join(dir, 'no-such-dir', 'known_hosts');
    expect(await lookupHostKey([missing], 'example.com', 22, ed.info.blob)).toEqual({ status: 'unknown', otherTypes: [] });
    expect(await lookupHostKey([missing, file], 'example.com', 22, ed.info.blob)).toEqual({ status: 'match', file, line: 1 });
  });

  it('expands ~ in file paths to the home directory', async () => {
    const file = await knownHosts(`example.com ${ed.line}`);
    const home = process.env.HOME;
    process.env.HOME = dir;
    try {
      expect(await lookupHostKey([`~/${file.slice(dir.length + 1)}`], 'example.com', 22, ed.info.blob)).toMatchObject({ status: 'match', file });
    } finally {
      process.env.HOME = home;
    }
  });
});

describe('appendKnownHost', () => {
  it('creates ~/.ssh (0700) and the file (0600), in a form ssh-keygen -F finds', async () => {
    const file = join(dir, 'fresh', '.ssh', 'known_hosts');
    await withHome(join(dir, 'fresh'), () => appendKnownHost(file, '127.0.0.1', 2222, ed.info.blob));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'fresh', '.ssh'))).mode & 0o777).toBe(0o700);
    const { stdout } = await run('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file]);
    expect(stdout).toContain(`[127.0.0.1]:2222 ${ed.line}`);
    expect(await lookupHostKey([file], '127.0.0.1', 2222, ed.info.blob)).toEqual({ status: 'match', file, line: 1 });
  });

  it('appends without touching existing content, adding a missing final newline first', async () => {
    const file = join(dir, 'known_hosts_no_final_newline');
    const before = `# keep me\nexample.com ${rsa.line}`;
    await writeFile(file, before);
    await appendKnownHost(file, 'example.com', 22, ed.info.blob);
    await appendKnownHost(file, 'example.org', 2200, ecdsa.info.blob);
    expect(await readFile(file, 'utf8')).toBe(`${before}\nexample.com ${ed.line}\n[example.org]:2200 ${ecdsa.line}\n`);
  });
});

describe('appendKnownHost refuses files that are not known_hosts files', () => {
  async function refused(file: string, host = 'example.com'): Promise<TunnelError> {
    const error = await rejection(appendKnownHost(file, host, 22, ed.info.blob));
    expect(error.code).toBe('KNOWN_HOSTS_UNSAFE');
    return error;
  }

  it('a name that does not start with known_hosts, before creating or reading it', async () => {
    const file = join(dir, 'authorized_keys');
    expect((await refused(file)).message).toContain(`${file}: its name does not start with "known_hosts"`);
    await expect(stat(file)).rejects.toThrow();
  });

  it('a known_hosts-named file holding anything but known_hosts lines, without quoting it', async () => {
    const file = join(dir, 'known_hosts_not_really');
    const before = `example.com ${ed.line}
${ed2.line} someone@laptop
`;
    await writeFile(file, before);
    const error = await refused(file);
    expect(error.message).toContain('line 2 is not a known_hosts line');
    expect(error.message).not.toContain(ed2.line.split(' ')[1]);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('accepts comments, blank lines, hashed names and markers', async () => {
    const { stdout: hashedLine } = await run('sh', ['-c', `f=$(mktemp); echo 'h.example ${ed2.line}' > $f; ssh-keygen -H -f $f >/dev/null 2>&1; grep -v '^#' $f; rm -f $f $f.old`]);
    const file = await knownHosts('# team', '', hashedLine.trim(), `@revoked old.example ${rsa.line}`, `@cert-authority *.example ${ecdsa.line}`);
    await appendKnownHost(file, 'example.com', 22, ed.info.blob);
    expect(await lookupHostKey([file], 'example.com', 22, ed.info.blob)).toMatchObject({ status: 'match', line: 6 });
  });

  it('a host name that is a pattern, whatever the file', async () => {
    for (const host of ['*', 'a,b', '!x', '|1|x|y', 'a b', 'x\ny']) await refused(join(dir, 'known_hosts_patterns'), host);
    await expect(stat(join(dir, 'known_hosts_patterns'))).rejects.toThrow();
  });

  it('writes nothing for /dev/null (UserKnownHostsFile none) and takes the default file as it is', async () => {
    await appendKnownHost('/dev/null', 'example.com', 22, ed.info.blob);
    await withHome(join(dir, 'home-default'), async () => {
      const file = join(dir, 'home-default', '.ssh', 'known_hosts');
      await appendKnownHost('~/.ssh/known_hosts', 'example.com', 22, ed.info.blob);
      expect(await readFile(file, 'utf8')).toBe(`example.com ${ed.line}\n`);
    });
  });

  it('hashes the name when asked, in the form ssh-keygen -F finds', async () => {
    const file = join(dir, 'hashed', '.ssh', 'known_hosts');
    await withHome(join(dir, 'hashed'), () => appendKnownHost(file, '127.0.0.1', 2222, ed.info.blob, { hash: true }));
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ssh-ed25519 /);
    expect(text).not.toContain('127.0.0.1');
    const { stdout } = await run('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file]);
    expect(stdout).toContain(ed.line);
  });
});

describe('appendKnownHost creates a known_hosts file only in ~/.ssh', () => {
  it('refuses to create one (or its folder) anywhere else, saying it must exist first: a folder a shell sources, fish\'s conf.d, a folder under ~/.ssh', async () => {
    const home = join(dir, 'create-home');
    await withHome(home, async () => {
      for (const [file, folder] of [
        [join(home, '.bashrc.d', 'known_hosts'), join(home, '.bashrc.d')],
        [join(home, '.config', 'fish', 'conf.d', 'known_hosts.fish'), join(home, '.config')],
        [join(home, '.ssh', 'config.d', 'known_hosts'), join(home, '.ssh', 'config.d')],
      ] as const) {
        const error = await rejection(appendKnownHost(file, 'exit', 22, ed.info.blob));
        expect(error.code).toBe('KNOWN_HOSTS_UNSAFE');
        expect(error.message).toContain(`will not create the known_hosts file ${file}: outside ~/.ssh a known_hosts file must already exist`);
        await expect(stat(folder)).rejects.toThrow();
      }
      // An existing folder changes nothing: the file itself must exist.
      await mkdir(join(home, '.bashrc.d'));
      expect((await rejection(appendKnownHost(join(home, '.bashrc.d', 'known_hosts'), 'exit', 22, ed.info.blob))).code).toBe('KNOWN_HOSTS_UNSAFE');
      await expect(stat(join(home, '.bashrc.d', 'known_hosts'))).rejects.toThrow();
    });
  });

  it('creates known_hosts, known_hosts2, known_hosts_team and known_hosts.work directly in ~/.ssh, as ssh would', async () => {
    const home = join(dir, 'create-ssh');
    await withHome(home, async () => {
      for (const name of ['known_hosts', 'known_hosts2', 'known_hosts_team', 'known_hosts.work']) {
        await appendKnownHost(`~/.ssh/${name}`, 'example.com', 22, ed.info.blob);
        expect(await readFile(join(home, '.ssh', name), 'utf8')).toBe(`example.com ${ed.line}\n`);
      }
    });
  });

  it('writes an existing known_hosts file outside ~/.ssh, once it exists', async () => {
    const file = join(dir, 'shared-existing', 'known_hosts');
    await mkdir(join(dir, 'shared-existing'));
    await writeFile(file, '');
    await appendKnownHost(file, 'example.com', 22, ed.info.blob);
    expect(await readFile(file, 'utf8')).toBe(`example.com ${ed.line}\n`);
  });
});

describe('appendKnownHost checks, after opening, that it opened the file it checked', () => {
  it('refuses, writing nothing, when a folder on the path is swapped for a link between the check and the open', async () => {
    const race = join(dir, 'race');
    await mkdir(join(race, 'shared'), { recursive: true });
    await mkdir(join(race, 'elsewhere'));
    await writeFile(join(race, 'shared', 'known_hosts'), '');
    // The file the swap leads to: it exists and holds only known_hosts lines, so only the post-open check can tell.
    await writeFile(join(race, 'elsewhere', 'known_hosts'), '');
    const swap = async () => {
      await rename(join(race, 'shared'), join(race, 'shared.old'));
      await symlink(join(race, 'elsewhere'), join(race, 'shared'));
    };
    const error = await rejection(appendKnownHost(join(race, 'shared', 'known_hosts'), 'example.com', 22, ed.info.blob, { beforeOpen: swap }));
    expect(error.code).toBe('KNOWN_HOSTS_UNSAFE');
    expect(error.message).toContain('replaced by a symbolic link while it was being opened');
    expect(await readFile(join(race, 'elsewhere', 'known_hosts'), 'utf8')).toBe('');
    expect(await readFile(join(race, 'shared.old', 'known_hosts'), 'utf8')).toBe('');
  });

  it('isOpenedAt tells a file opened through a linked folder from the file at the path', async () => {
    const real = await realpath(await mkdtemp(join(dir, 'opened-')));
    await mkdir(join(real, 'folder'));
    await writeFile(join(real, 'folder', 'known_hosts'), '');
    await mkdir(join(real, 'other'));
    await writeFile(join(real, 'other', 'known_hosts'), '');
    await symlink(join(real, 'other'), join(real, 'link'));
    const direct = await open(join(real, 'folder', 'known_hosts'), 'r');
    const throughLink = await open(join(real, 'link', 'known_hosts'), 'r');
    try {
      expect(await isOpenedAt(direct, join(real, 'folder', 'known_hosts'))).toBe(true);
      expect(await isOpenedAt(throughLink, join(real, 'folder', 'known_hosts'))).toBe(false);
      expect(await isOpenedAt(throughLink, join(real, 'link', 'known_hosts'))).toBe(false);
    } finally {
      await direct.close();
      await throughLink.close();
    }
  });
});

describe('decideHostKey', () => {
  const base = { host: 'example.com', port: 22, hop: 'example.com:22', checkPinned: false };
  const unknown: KnownHostsLookup = { status: 'unknown', otherTypes: [] };
  const match: KnownHostsLookup = { status: 'match', file: '/kh', line: 1 };
  const modes = ['yes', 'accept-new', 'ask', 'no'] as const;

  it('acts on an unknown key by StrictHostKeyChecking mode', () => {
    const actions = modes.map((strict) => decideHostKey({ ...base, policy: policy(strict, []), lookup: unknown, key: ed.info }).action);
    expect(actions).toEqual(['refuse', 'accept-and-save', 'ask', 'accept-and-save']);
  });

  it('explains a refusal under "yes": key type, fingerprint, the mode, and how to add it', () => {
    const error = refusal(decideHostKey({ ...base, policy: policy('yes', []), lookup: { status: 'unknown', otherTypes: [rsa.info] }, key: ed.info }));
    expect(error.code).toBe('HOST_KEY_REJECTED');
    expect(error.hop).toBe('example.com:22');
    expect(error.message).toContain('ssh-ed25519');
    expect(error.message).toContain(ed.info.fingerprint);
    expect(error.message).toContain('StrictHostKeyChecking');
    expect(error.message).toContain('"yes"');
    expect(error.message).toContain('`ssh example.com`');
    expect(error.message).toContain(rsa.info.fingerprint);
  });

  it('accepts a known key in every mode', () => {
    for (const strict of modes) {
      expect(decideHostKey({ ...base, policy: policy(strict, []), lookup: match, key: ed.info })).toEqual({ action: 'accept' });
    }
  });

  it('refuses a changed key in every mode, even "no", saying what to check and how to fix it', () => {
    const lookup: KnownHostsLookup = { status: 'mismatch', known: [{ ...ed2.info, file: '/home/me/.ssh/known_hosts', line: 7 }] };
    for (const strict of modes) {
      const error = refusal(decideHostKey({ ...base, port: 2222, hop: 'example.com:2222', policy: policy(strict, []), lookup, key: ed.info }));
      expect(error.code).toBe('HOST_KEY_CHANGED');
      expect(error.hop).toBe('example.com:2222');
      for (const part of ['[example.com]:2222', 'ssh-ed25519', ed.info.fingerprint, ed2.info.fingerprint, '/home/me/.ssh/known_hosts:7', "ssh-keygen -R '[example.com]:2222'"]) {
        expect(error.message).toContain(part);
      }
    }
  });

  it('refuses a revoked key, naming the line, even when it is pinned', () => {
    const error = refusal(decideHostKey({ ...base, checkPinned: true, policy: policy('no', [], ed.info.fingerprint), lookup: { status: 'revoked', file: '/kh', line: 3 }, key: ed.info }));
    expect(error.code).toBe('HOST_KEY_REVOKED');
    expect(error.hop).toBe('example.com:22');
    expect(error.message).toContain('/kh:3');
    expect(error.message).toContain(ed.info.fingerprint);
  });

  it('lets a pinned fingerprint outrank known_hosts, when pins are checked', () => {
    const mismatch: KnownHostsLookup = { status: 'mismatch', known: [{ ...ed2.info, file: '/kh', line: 1 }] };
    const pinnedEd = policy('yes', [], ed.info.fingerprint);
    const pinnedEd2 = policy('no', [], ed2.info.fingerprint);
    expect(decideHostKey({ ...base, checkPinned: true, policy: pinnedEd, lookup: mismatch, key: ed.info })).toEqual({ action: 'accept' });
    expect(decideHostKey({ ...base, checkPinned: true, policy: pinnedEd, lookup: unknown, key: ed.info })).toEqual({ action: 'accept' });
    const error = refusal(decideHostKey({ ...base, checkPinned: true, policy: pinnedEd2, lookup: match, key: ed.info }));
    expect(error.code).toBe('HOST_KEY_CHANGED');
    expect(error.message).toContain(ed.info.fingerprint);
    expect(error.message).toContain(ed2.info.fingerprint);
    // A jump host is not the pinned server: its known_hosts verdict stands.
    expect(refusal(decideHostKey({ ...base, policy: pinnedEd, lookup: mismatch, key: ed.info })).code).toBe('HOST_KEY_CHANGED');
  });
});

describe('checkHostKey', () => {
  function check(strict: HostKeyPolicy['strict'], files: string[], extra: Partial<HostKeyCheck> = {}): HostKeyCheck {
    // Never this machine's /etc/ssh: no global files, names written plainly.
    const knownHosts = { globalFiles: [], hashNames: () => Promise.resolve(false) };
    return { host: '127.0.0.1', port: 2222, hop: '127.0.0.1:2222', policy: policy(strict, files), checkPinned: false, knownHosts, ...extra };
  }

  it('accept-new trusts and saves a new key to the first file, then recognises it', async () => {
    const first = join(dir, 'accept-new', '.ssh', 'known_hosts_team');
    const second = await knownHosts(`other.example ${rsa.line}`);
    await expect(withHome(join(dir, 'accept-new'), () => checkHostKey(check('accept-new', [first, second]), ed.info.blob))).resolves.toEqual(ed.info);
    expect(await lookupHostKey([first], '127.0.0.1', 2222, ed.info.blob)).toEqual({ status: 'match', file: first, line: 1 });
    await expect(checkHostKey(check('yes', [first, second]), ed.info.blob)).resolves.toEqual(ed.info);
  });

  it('accept-new and no refuse a new key type for a host known by another type (no silent downgrade to an impostor\'s key)', async () => {
    const file = await knownHosts(`[127.0.0.1]:2222 ${rsa.line}`);
    for (const mode of ['accept-new', 'no'] as const) {
      const error = await rejection(checkHostKey(check(mode, [file]), ed.info.blob));
      expect(error.code).toBe('HOST_KEY_CHANGED');
      expect(error.message).toContain(ed.info.fingerprint);
      expect(error.message).toContain(rsa.info.fingerprint);
    }
    expect(await lookupHostKey([file], '127.0.0.1', 2222, ed.info.blob)).toMatchObject({ status: 'unknown' });
  });

  it('"no" saves new keys too, but still refuses a changed one', async () => {
    const file = join(dir, 'mode-no', '.ssh', 'known_hosts');
    await expect(withHome(join(dir, 'mode-no'), () => checkHostKey(check('no', [file]), ed.info.blob))).resolves.toEqual(ed.info);
    const error = await rejection(checkHostKey(check('no', [file]), ed2.info.blob));
    expect(error.code).toBe('HOST_KEY_CHANGED');
    expect(error.hop).toBe('127.0.0.1:2222');
    expect(error.message).toContain(`${file}:1`);
  });

  it('"yes" refuses an unknown key and saves nothing', async () => {
    const file = join(dir, 'mode-yes', 'known_hosts');
    const error = await rejection(checkHostKey(check('yes', [file]), ed.info.blob));
    expect(error.code).toBe('HOST_KEY_REJECTED');
    expect(error.hop).toBe('127.0.0.1:2222');
    await expect(stat(file)).rejects.toThrow();
  });

  it('"ask" asks with the key and the other known types, and saves when accepted', async () => {
    const file = await knownHosts(`[127.0.0.1]:2222 ${rsa.line}`);
    const questions: HostKeyQuestion[] = [];
    const ask = (q: HostKeyQuestion) => {
      questions.push(q);
      return Promise.resolve(true);
    };
    await expect(checkHostKey(check('ask', [file], { ask }), ed.info.blob)).resolves.toEqual(ed.info);
    expect(questions).toEqual([{ hop: '127.0.0.1:2222', host: '127.0.0.1', port: 2222, key: ed.info, otherTypes: [rsa.info] }]);
    expect(await lookupHostKey([file], '127.0.0.1', 2222, ed.info.blob)).toEqual({ status: 'match', file, line: 2 });
  });

  it('"ask" refuses when the person says no, and saves nothing', async () => {
    const file = join(dir, 'ask-no', 'known_hosts');
    const error = await rejection(checkHostKey(check('ask', [file], { ask: () => Promise.resolve(false) }), ed.info.blob));
    expect(error.code).toBe('HOST_KEY_REJECTED');
    expect(error.hop).toBe('127.0.0.1:2222');
    expect(error.message).toContain('rejected by you');
    await expect(stat(file)).rejects.toThrow();
  });

  it('"ask" refuses when there is nobody to ask', async () => {
    const error = await rejection(checkHostKey(check('ask', [join(dir, 'ask-nobody')]), ed.info.blob));
    expect(error.code).toBe('HOST_KEY_REJECTED');
    expect(error.message).toContain('nobody could be asked');
  });

  it('refuses rather than trust a key it cannot read known_hosts for, or cannot save', async () => {
    const unreadable = await rejection(checkHostKey(check('accept-new', [dir]), ed.info.blob));
    expect(unreadable.code).toBe('CONFIG_INVALID');
    expect(unreadable.hop).toBe('127.0.0.1:2222');
    expect(unreadable.message).toContain(dir);
    // A home that is a file: ~/.ssh cannot be made, an error of the system rather than of the file's kind.
    const underAFile = join(ed.pubFile, '.ssh', 'known_hosts');
    const saved = process.env.HOME;
    process.env.HOME = ed.pubFile;
    const unsaved = await rejection(checkHostKey(check('accept-new', [underAFile]), ed.info.blob)).finally(() => {
      process.env.HOME = saved;
    });
    expect(unsaved.code).toBe('CONFIG_INVALID');
    expect(unsaved.hop).toBe('127.0.0.1:2222');
    expect(unsaved.message).toContain(underAFile);
  });

  it('"ask" answered yes still refuses a file that is not a known_hosts file, and trusts nothing', async () => {
    const file = join(dir, 'ask-yes-rc');
    await writeFile(file, 'export PATH\n');
    const error = await rejection(checkHostKey(check('ask', [file], { ask: () => Promise.resolve(true) }), ed.info.blob));
    expect(error.code).toBe('KNOWN_HOSTS_UNSAFE');
    expect(error.hop).toBe('127.0.0.1:2222');
    expect(await readFile(file, 'utf8')).toBe('export PATH\n');
  });

  it('reads the global files (never writing them), revocations included', async () => {
    const global = await knownHosts(`[127.0.0.1]:2222 ${ed.line}`);
    const revoking = await knownHosts(`@revoked * ${ed.line}`);
    const user = join(dir, 'global-user', 'known_hosts');
    const withGlobal = (files: string[]) => ({ knownHosts: { globalFiles: files, hashNames: () => Promise.resolve(false) } });
    await expect(checkHostKey(check('yes', [user], withGlobal([global])), ed.info.blob)).resolves.toEqual(ed.info);
    expect((await rejection(checkHostKey(check('accept-new', [user], withGlobal([global, revoking])), ed.info.blob))).code).toBe('HOST_KEY_REVOKED');
    await expect(stat(user)).rejects.toThrow();
  });

  it('refuses a revoked key whatever the mode', async () => {
    const file = await knownHosts(`@revoked [127.0.0.1]:2222 ${ed.line}`);
    const error = await rejection(checkHostKey(check('no', [file]), ed.info.blob));
    expect(error.code).toBe('HOST_KEY_REVOKED');
    expect(error.hop).toBe('127.0.0.1:2222');
  });

  it('checks the pin only when asked to', async () => {
    const file = await knownHosts(`[127.0.0.1]:2222 ${ed.line}`);
    const pinned = { ...policy('yes', [file], ed2.info.fingerprint) };
    const error = await rejection(checkHostKey(check('yes', [file], { policy: pinned, checkPinned: true }), ed.info.blob));
    expect(error.code).toBe('HOST_KEY_CHANGED');
    await expect(checkHostKey(check('yes', [file], { policy: pinned }), ed.info.blob)).resolves.toEqual(ed.info);
  });
});
