// Vitest global setup: the CLI tests run the real `tunnelvision` bin, which runs the bundled CLI
// (dist/cli, built from dist's sources by scripts/build-cli.mjs), as an installed copy does. Type
// errors are the typecheck step's to report (npm test fails on them there); tsc still emits, so a
// type error elsewhere does not stop every suite from running.
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.app.json'], { encoding: 'utf8' });
  if (tsc.status !== 0 && !/error TS\d+/.test(tsc.stdout)) throw new Error(`building dist/ failed:\n${tsc.stdout}${tsc.stderr}`);
  const bundle = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { encoding: 'utf8' });
  if (bundle.status !== 0) throw new Error(`bundling the CLI failed:\n${bundle.stdout}${bundle.stderr}`);
}
