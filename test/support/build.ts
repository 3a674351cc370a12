// Vitest global setup: the CLI tests run the real `tunnelvision` bin, which runs dist/.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.app.json'], { stdio: 'inherit' });
}
