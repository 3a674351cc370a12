#!/usr/bin/env node
import { main } from './main.js';
import { EXIT_FAILED } from './run.js';
import { installCrashReport } from '../shared/crash.js';

// A bug that escapes main (a throw in a socket or timer callback while tunnels run) is reported
// without the secrets the run was given, and ends the run as a failure.
installCrashReport('tunnelvision', EXIT_FAILED);

// No top-level await: scripts/build-cli.mjs bundles this file as a CommonJS script (the CLI's entry).
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
