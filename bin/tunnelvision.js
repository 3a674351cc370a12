#!/usr/bin/env node
// The package's bin. Start-up is most of the time to a tunnel's "open" (BENCHMARKS.md), so it runs
// the CLI bundled into one script (dist/cli/tunnelvision.cjs, scripts/build-cli.mjs) and compiles it
// from a V8 code cache kept next to it; Node 20 has no compile cache of its own. The tsc output
// (dist/app) runs instead when the bundle is missing or older than it: `tsc` alone (as the tests'
// build does) must never leave an older bundle in charge.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const bundle = fileURLToPath(new URL('../dist/cli/tunnelvision.cjs', import.meta.url));
const compiled = fileURLToPath(new URL('../dist/app/cli/bin.js', import.meta.url));
const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;

const bundleTime = mtime(bundle);
const compiledTime = mtime(compiled);
if (bundleTime !== undefined && !(compiledTime > bundleTime)) {
  runBundle();
} else if (compiledTime !== undefined) {
  await import(new URL('../dist/app/cli/bin.js', import.meta.url).href);
} else {
  console.error('tunnelvision: not built yet. Run `npm install` (or `npm run build`) in the Tunnelvision folder.');
  process.exit(2);
}

function runBundle() {
  const source = readFileSync(bundle, 'latin1');
  const cacheFile = `${bundle}.cache`;
  // V8 checks its own version and flags but, for the source, only its length: the key ties a cache
  // to this exact bundle, and the digest keeps a damaged file from being deserialised.
  const key = `${source.length}:${bundleTime}:${process.version}:${process.arch}`;
  const cached = readCache(cacheFile, key);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cached ? { cachedData: cached } : {}),
  });
  if (!cached || script.cachedDataRejected) writeCacheLater(script, cacheFile, key);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}

function digest(data) {
  return createHash('sha1').update(data).digest('hex');
}

function readCache(file, key) {
  try {
    const buf = readFileSync(file);
    const newline = buf.indexOf(10);
    const [fileKey, sum] = buf.toString('latin1', 0, newline).split(' ');
    const data = buf.subarray(newline + 1);
    return fileKey === key && sum === digest(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cache holds what V8 has compiled by the time it is made, so it is made late: once a tunnel
 * command has been running a while (its connect path compiled), or at exit for a short command.
 * Where the folder is not writable, every start compiles from source, as without a cache.
 */
function writeCacheLater(script, file, key) {
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      const data = script.createCachedData();
      writeFileSync(tmp, Buffer.concat([Buffer.from(`${key} ${digest(data)}\n`, 'latin1'), data]));
      renameSync(tmp, file);
    } catch {
      // Unwritable folder or full disk: the next start compiles from source again.
      rmSync(tmp, { force: true });
    }
  };
  setTimeout(write, 5000).unref();
  process.once('exit', write);
}
