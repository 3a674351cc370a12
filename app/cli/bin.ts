#!/usr/bin/env node
import { main } from './main.js';
import { EXIT_FAILED } from './run.js';
import { installCrashReport } from '../shared/crash.js';

// A bug that escapes main (a throw in a socket or timer callback while tunnels run) is reported
// without the secrets the run was given, and ends the run as a failure.
installCrashReport('tunnelvision', EXIT_FAILED);

process.exitCode = await main(process.argv.slice(2));
