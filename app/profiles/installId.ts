// A random value made once per installation and kept 0600 in the config folder. References the app
// generates from public data (a Cloud Foundry login's: profile id, API, user) are mixed with it, so
// nobody who knows that data, a received profile included, can name another profile's secret.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'install-id';
const PATTERN = /^[0-9a-f]{64}$/;

/** The installation's value; the first caller creates it, and concurrent ones (another process) all read the same. */
export async function installId(configDir: string): Promise<string> {
  const file = join(configDir, FILE);
  const existing = await readId(file);
  if (existing) return existing;
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    // link() never replaces: whoever links first wins, and everyone reads that one.
    await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(tmp, { force: true });
  }
  const made = await readId(file);
  if (!made) throw new Error(`${file} does not hold an installation id; remove it and Tunnelvision makes a new one.`);
  return made;
}

async function readId(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return PATTERN.test(text) ? text : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
