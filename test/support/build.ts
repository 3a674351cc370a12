// Vitest global setup: the CLI tests run the real `tunnelvision` bin, which runs dist/. Type errors
// are the typecheck step's to report (npm test fails on them there); tsc still emits, so a type
// error elsewhere does not stop every suite from running.
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.app.json'], { encoding: 'utf8' });
  if (r.status !== 0 && !/error TS\d+/.test(r.stdout)) throw new Error(`building dist/ failed:\n${r.stdout}${r.stderr}`);
}
