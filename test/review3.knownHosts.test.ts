// Hostile review of known_hosts writes: a link inside ~/.ssh may stay in its folder, but the file it
// names must itself be one a host key may go into. Real files in a temp HOME; nothing else touched.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendKnownHost } from '../app/engine/hostKeys.js';
import { generateEd25519 } from '../app/engine/keygen.js';
import { TunnelError } from '../app/shared/errors.js';

let dir: string;
const attackerKey = Buffer.from(generateEd25519().public.split(' ')[1]!, 'base64');
const ownKey = generateEd25519().public.split(' ').slice(0, 2).join(' ');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tv-review3-kh-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh HOME whose ~/.ssh holds authorized_keys with `lines`, and `name` as a link to it. */
async function homeWithLink(name: string, lines: string): Promise<{ home: string; authorizedKeys: string }> {
  const home = await mkdtemp(join(dir, 'home-'));
  await mkdir(join(home, '.ssh'), { mode: 0o700 });
  const authorizedKeys = join(home, '.ssh', 'authorized_keys');
  await writeFile(authorizedKeys, lines);
  await symlink('authorized_keys', join(home, '.ssh', name));
  return { home, authorizedKeys };
}

async function appendAs(home: string, file: string): Promise<unknown> {
  const saved = process.env.HOME;
  process.env.HOME = home;
  try {
    return await appendKnownHost(file, 'no-pty', 22, attackerKey).then(
      () => undefined,
      (err: unknown) => err,
    );
  } finally {
    process.env.HOME = saved;
  }
}

describe('known_hosts writes through a link in ~/.ssh: breaks', () => {
  it('the default ~/.ssh/known_hosts, a link to authorized_keys in the same folder, gets no line written into authorized_keys', async () => {
    const lines = `${ownKey} me@laptop\n`;
    const { home, authorizedKeys } = await homeWithLink('known_hosts', lines);
    const err = await appendAs(home, '~/.ssh/known_hosts');
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('KNOWN_HOSTS_UNSAFE');
    expect(await readFile(authorizedKeys, 'utf8')).toBe(lines);
  });

  it('~/.ssh/known_hosts_work, a link to an authorized_keys whose lines all carry options, gets no line written into it', async () => {
    // `restrict ssh-ed25519 …` reads as a known_hosts line for the host "restrict".
    const lines = `restrict ${ownKey} me@laptop\n`;
    const { home, authorizedKeys } = await homeWithLink('known_hosts_work', lines);
    const err = await appendAs(home, '~/.ssh/known_hosts_work');
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('KNOWN_HOSTS_UNSAFE');
    expect(await readFile(authorizedKeys, 'utf8')).toBe(lines);
  });
});
