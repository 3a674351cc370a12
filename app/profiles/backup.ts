// One dated backup per distinct content of a file that could not be used: a damaged file read at
// every start must not leave a new copy each time, and the copy is private like the original.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The path of a backup of `file` holding exactly `content` (byte for byte: a file in another
 * encoding is kept as it was): an existing one, else a new `<file>.<kind>-<date>`.
 */
export async function keepBackup(file: string, content: Buffer | string, kind: string): Promise<string> {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  const dir = dirname(file);
  const prefix = `${basename(file)}.${kind}-`;
  for (const name of (await readdir(dir)).filter((n) => n.startsWith(prefix)).sort()) {
    if ((await readFile(join(dir, name)).catch(() => undefined))?.equals(bytes)) return join(dir, name);
  }
  const backup = join(dir, `${prefix}${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await writeFile(backup, bytes, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return backup;
}
