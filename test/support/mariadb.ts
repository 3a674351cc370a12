// A real MariaDB server for the tests: its own data directory, seeded with a database, a user and a
// row; on loopback, or inside a network namespace on an address only that namespace can reach.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.js';
import type { Netns } from './netns.js';
import { waitForExit } from './proc.js';

const run = promisify(execFile);

export interface MariaDbOptions {
  /** Run inside this namespace, listening on `host` (an address of that namespace). */
  netns?: Netns;
  host?: string;
  database?: string;
  user?: string;
  password?: string;
}

export class MariaDb {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly host: string,
    readonly port: number,
    readonly database: string,
    readonly user: string,
    readonly password: string,
    /** The seeded row: `SELECT greeting FROM items WHERE id = 1`. */
    readonly greeting: string,
  ) {}

  get socket(): string {
    return join(this.dir, 'mysqld.sock');
  }

  static async start(opts: MariaDbOptions = {}): Promise<MariaDb> {
    const dir = mkdtempSync(join(tmpdir(), 'tv-mariadb-'));
    const host = opts.host ?? '127.0.0.1';
    // Inside a namespace the port only has to be free there; on loopback, free here.
    const port = opts.netns ? 3306 : await freePort();
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=socket'], { timeout: 120_000 });
    const args = [
      '--no-defaults',
      `--datadir=${join(dir, 'data')}`,
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--port=${port}`,
      `--bind-address=${host}`,
      '--user=root',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
    ];
    const proc = opts.netns ? opts.netns.spawn('mariadbd', args, { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn('mariadbd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      proc.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (/ready for connections/.test(log)) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`mariadbd exited (${code}) before it was ready:\n${log}`)));
    });
    const database = opts.database ?? 'app';
    const user = opts.user ?? 'app';
    const password = opts.password ?? 'app-secret';
    const greeting = 'hello through the tunnel';
    await run('mariadb', [
      '--no-defaults',
      `--socket=${join(dir, 'mysqld.sock')}`,
      '-uroot',
      '-e',
      [
        `CREATE DATABASE \`${database}\``,
        `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`,
        `GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`,
        `CREATE TABLE \`${database}\`.items (id INT PRIMARY KEY, greeting VARCHAR(100))`,
        `INSERT INTO \`${database}\`.items VALUES (1, '${greeting}')`,
      ].join('; '),
    ]);
    return new MariaDb(proc, dir, host, port, database, user, password, greeting);
  }

  /** Runs a query with the real mariadb client over TCP at host:port (e.g. a tunnel's local end). */
  async query(sql: string, at: { host: string; port: number } = { host: this.host, port: this.port }): Promise<string> {
    const { stdout } = await run('mariadb', ['--no-defaults', '--protocol=TCP', '-h', at.host, '-P', String(at.port), '-u', this.user, `-p${this.password}`, '--batch', '--skip-column-names', '--connect-timeout=10', this.database, '-e', sql]);
    return stdout.trim();
  }

  async dispose(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = waitForExit(this.proc);
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
