#!/usr/bin/env node
// `npm test`: everything a fresh machine needs, then every check and test, then one summary line
// `N passed, N failed, N skipped`. Dependency-free so it can run before `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SYSTEM_DEPS } from './system-deps.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function run(cmd, args, opts = {}) {
  console.log(`\n$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return r.status === 0;
}

function onPath(command) {
  if (command.includes('/')) return existsSync(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, command)));
}

function ensureSystemPackages() {
  const missing = [...new Set(SYSTEM_DEPS.filter((d) => !onPath(d.command)).map((d) => d.pkg))];
  if (missing.length === 0) return;
  const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const canApt = process.getuid?.() === 0 && onPath('apt-get');
  if (!canApt) {
    console.error(`The test suites need these system packages: ${missing.join(', ')}.\nInstall them with:\n  sudo apt-get update && sudo ${install}`);
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!run('apt-get', ['update', '-qq'], { env }) || !run('sh', ['-c', install], { env })) {
    console.error(`Installing ${missing.join(', ')} failed; run:\n  apt-get update && ${install}`);
    process.exit(1);
  }
}

function ensureNodeModules() {
  const marker = 'node_modules/.package-lock.json';
  const stale = !existsSync(marker) || statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs;
  if (stale && !run('npm', ['ci'])) process.exit(1);
}

ensureSystemPackages();
ensureNodeModules();

// Each check counts as one test in the summary. Vitest's global setup builds dist/ for the CLI tests.
const checks = [
  ['typecheck', 'npm', ['run', '--silent', 'typecheck']],
  ['lint', 'npm', ['run', '--silent', 'lint']],
];
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const [name, cmd, args] of checks) {
  if (run(cmd, args)) passed++;
  else { failed++; failures.push(name); }
}

mkdirSync('test-results', { recursive: true });
const report = 'test-results/vitest.json';
// A suite that cannot run here (the Electron suite without Electron's binary) lists itself in this
// file with its reason during the run; a stale list must not excuse anything, so it starts empty.
const skipList = 'test-results/skipped.json';
rmSync(skipList, { force: true });
run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
if (!existsSync(report)) {
  failed++;
  failures.push('vitest (no report written)');
} else {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  const excused = new Map(
    (existsSync(skipList) ? JSON.parse(readFileSync(skipList, 'utf8')) : [])
      // Only the Electron suites may excuse themselves: they alone depend on a binary this machine may lack.
      .filter((s) => typeof s?.suite === 'string' && s.suite.startsWith('test/electron/') && typeof s?.reason === 'string' && s.reason.trim())
      .map((s) => [s.suite, s.reason]),
  );
  const skips = new Map();
  for (const file of json.testResults) {
    const rel = file.name.replace(root, '');
    if (file.status === 'failed' && file.assertionResults.every((t) => t.status !== 'failed')) {
      // A failure outside any test (a hook, the leak check, an import error) fails the file.
      failed++;
      failures.push(`${rel}: ${(file.message || 'suite failed').split('\n')[0]}`);
    }
    for (const t of file.assertionResults) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') { failed++; failures.push(`${rel}: ${t.fullName}`); }
      else if (excused.has(rel)) {
        skipped++;
        skips.set(rel, (skips.get(rel) ?? 0) + 1);
      } else {
        // Nothing is skipped silently: a skip counts only from a suite that said why in skipped.json.
        failed++;
        failures.push(`${rel}: ${t.fullName} was ${t.status}, and ${skipList} gives no reason for ${rel}`);
      }
    }
  }
  if (skips.size) console.log(`\nSkipped:\n${[...skips].map(([rel, n]) => `  - ${rel} (${n}): ${excused.get(rel)}`).join('\n')}`);
}

if (failures.length) console.log(`\nFailed:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
