#!/usr/bin/env node
// The package's bin: runs the compiled CLI (npm install builds it through the prepare script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/app/cli/bin.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('tunnelvision: not built yet. Run `npm install` (or `npm run build`) in the Tunnelvision folder.');
  process.exit(2);
}
await import(entry.href);
