// Which process holds a listening TCP port, where the OS tells (Linux /proc); used to say
// "127.0.0.1:13306 is in use by mysqld (pid 812)" instead of a bare EADDRINUSE.
import { readFile, readdir, readlink } from 'node:fs/promises';

const TCP_LISTEN = '0A';

const TABLES = { 4: '/proc/net/tcp', 6: '/proc/net/tcp6' } as const;

async function listeningInodes(port: number, tables: readonly string[]): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of tables) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== TCP_LISTEN) continue;
      if (parseInt(local.split(':')[1] ?? '', 16) === port && cols[9]) inodes.add(cols[9]);
    }
  }
  return inodes;
}

/**
 * `family`: the one whose bind failed, whose holders are looked for first; when a port is held on
 * 127.0.0.1 and on ::1 by different programs, the one named is the one in the way. A dual-stack
 * wildcard socket blocking 127.0.0.1 shows only in tcp6, hence the fallback to both tables.
 */
export async function findPortOwner(port: number, family?: 4 | 6): Promise<{ pid: number; command: string } | undefined> {
  if (family) {
    const owner = await ownerOf(await listeningInodes(port, [TABLES[family]]));
    if (owner) return owner;
  }
  return ownerOf(await listeningInodes(port, [TABLES[4], TABLES[6]]));
}

async function ownerOf(inodes: Set<string>): Promise<{ pid: number; command: string } | undefined> {
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) {
        const command = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
        return { pid: Number(pid), command };
      }
    }
  }
  return undefined;
}
