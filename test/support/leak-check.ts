// Runs in every test file (see vitest.config.ts): fails the file if it leaves a socket, server,
// pipe, child process or timer of its own behind. Each file runs in a fresh worker process, so
// the baseline taken before its first test is that file's starting point.
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

const WATCHED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap', 'ProcessWrap', 'UDPWrap', 'TTYWrap', 'ConnectWrap', 'Timeout', 'FSEventWrap', 'SignalWrap']);
const SETTLE_MS = 5_000;

function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) {
    if (WATCHED.has(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

function childPids(): number[] {
  const pids: number[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const text = readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    } catch {
      // A thread that ended between readdir and read has no children to report.
    }
  }
  return pids;
}

function describeCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '?';
  }
}

let baseline = new Map<string, number>();
let baselineChildren = new Set<number>();

function leaks(): string[] {
  const found: string[] = [];
  for (const [type, n] of handleCounts()) {
    const extra = n - (baseline.get(type) ?? 0);
    if (extra > 0) found.push(`${extra} × ${type}`);
  }
  for (const pid of childPids()) {
    if (!baselineChildren.has(pid)) found.push(`child process ${pid} (${describeCmd(pid)})`);
  }
  return found;
}

beforeAll(() => {
  baseline = handleCounts();
  baselineChildren = new Set(childPids());
});

afterAll(async () => {
  // Closing handles completes on later ticks; wait for them, not for a fixed time.
  const deadline = Date.now() + SETTLE_MS;
  let found = leaks();
  while (found.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    found = leaks();
  }
  if (found.length > 0) {
    throw new Error(`test file left resources open: ${found.join(', ')}`);
  }
});
