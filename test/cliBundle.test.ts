// The bundled CLI (scripts/build-cli.mjs) and the code cache bin/tunnelvision.js keeps for it, in a
// copy of the package's layout: the tests' own build is tsc's, which the bin prefers when newer.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../app/shared/version.js';
import { freePort } from './support/net.js';
import { waitForExit } from './support/proc.js';

const root = new URL('..', import.meta.url).pathname;
let dir: string;
let bin: string;
let bundle: string;
let cache: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-bundle-'));
  mkdirSync(join(dir, 'bin'));
  bin = join(dir, 'bin', 'tunnelvision.js');
  copyFileSync(join(root, 'bin', 'tunnelvision.js'), bin);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  bundle = join(dir, 'dist', 'cli', 'tunnelvision.cjs');
  cache = `${bundle}.cache`;
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs'), bundle], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build-cli failed:\n${built.stdout}${built.stderr}`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
}

function expectVersion(r: ReturnType<typeof run>): void {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe(VERSION);
}

/** Whether the cache file is as the bin writes it: "key digest\n" then V8's data. */
function cacheHeader(): string {
  const buf = readFileSync(cache);
  return buf.toString('latin1', 0, buf.indexOf(10));
}

describe('the bundled CLI', () => {
  it('runs, writes its code cache once, and uses it the next time', () => {
    rmSync(cache, { force: true });
    expectVersion(run(['--version']));
    const written = statSync(cache);
    expect(cacheHeader()).toMatch(/^\d+:[\d.]+:v[\d.]+:\w+ [0-9a-f]{40}$/);
    expectVersion(run(['--version']));
    expect(statSync(cache).mtimeMs).toBe(written.mtimeMs);
  });

  it('ignores a damaged cache and replaces it', () => {
    expectVersion(run(['--version']));
    const good = readFileSync(cache);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 100]! ^= 0xff;
    for (const damaged of [flipped, good.subarray(0, good.length / 2), Buffer.from('not a cache\n\0\0\0'), Buffer.alloc(0)]) {
      writeFileSync(cache, damaged);
      expectVersion(run(['--version']));
      expect(readFileSync(cache).equals(damaged)).toBe(false);
      expect(cacheHeader()).toMatch(/ [0-9a-f]{40}$/);
    }
  });

  it('does not take a cache made for another build of the bundle', () => {
    expectVersion(run(['--version']));
    const before = cacheHeader();
    const later = new Date(statSync(bundle).mtimeMs + 1000);
    utimesSync(bundle, later, later);
    expectVersion(run(['--version']));
    expect(cacheHeader()).not.toBe(before);
  });

  it('runs without a cache where none can be written', () => {
    rmSync(cache, { force: true });
    mkdirSync(cache);
    try {
      expectVersion(run(['--version']));
      expect(statSync(cache).isDirectory()).toBe(true);
      expect(readdirSync(join(dir, 'dist', 'cli')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('gives way to the tsc output when that is newer, and takes over again once rebuilt', () => {
    const compiled = join(dir, 'dist', 'app', 'cli', 'bin.js');
    mkdirSync(join(dir, 'dist', 'app', 'cli'), { recursive: true });
    writeFileSync(compiled, "process.stdout.write('tsc output\\n');\n");
    try {
      const bundleTime = statSync(bundle).mtimeMs;
      utimesSync(compiled, new Date(bundleTime + 1000), new Date(bundleTime + 1000));
      expect(run(['--version']).stdout).toBe('tsc output\n');
      utimesSync(compiled, new Date(bundleTime - 1000), new Date(bundleTime - 1000));
      expectVersion(run(['--version']));
    } finally {
      rmSync(join(dir, 'dist', 'app'), { recursive: true, force: true });
    }
  });

  it('loads ssh2 with its native binding and carries a page through a tunnel', async () => {
    const logger = join(dir, 'log-native.cjs');
    writeFileSync(
      logger,
      [
        "const Module = require('node:module');",
        'const load = Module._load;',
        'Module._load = function (request, ...rest) {',
        '  const loaded = load.call(this, request, ...rest);',
        "  if (String(request).endsWith('sshcrypto.node')) process.stderr.write('native binding loaded\\n');",
        '  return loaded;',
        '};',
      ].join('\n'),
    );
    const port = await freePort();
    const proc = spawn(process.execPath, [bin, 'demo', '--json', '--port', String(port)], {
      env: { ...process.env, NODE_OPTIONS: `--require ${logger}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = waitForExit(proc);
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: proc.stdout }).on('line', (line) => {
          if (line.includes('"state":"open"')) resolve();
        });
        proc.once('exit', () => reject(new Error(`exited before open:\n${err}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(await res.text()).toContain('this page came through an SSH tunnel');
    } finally {
      proc.kill('SIGINT');
      await exited;
    }
    expect(proc.exitCode).toBe(0);
    expect(err).toContain('native binding loaded');
  });
});
