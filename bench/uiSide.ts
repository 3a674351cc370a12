// Plays the desktop app's main process for the benchmark: forks the real engine process, opens one
// tunnel through the contract, and measures its own event-loop delay while the benchmark saturates
// that tunnel from outside. Protocol on stdio: prints {"open":port}; reads "measure" then "report".
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createClient } from '../app/shared/rpc.js';

const [configDir, profileJson] = process.argv.slice(2);
const profile = JSON.parse(profileJson!) as { id: string; forwards: Array<{ bindPort: number }> };
// The real build of the engine (dist/), as the app runs it; this file is compiled to out/bench/bench/.
const engine = fork(new URL('../../../dist/app/service/engineProcess.js', import.meta.url).pathname, [], {
  env: { ...process.env, TUNNELVISION_CONFIG_DIR: configDir },
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
const client = createClient({
  postMessage: (m) => engine.send(m as object),
  onMessage: (listener) => {
    engine.on('message', listener);
    return () => engine.off('message', listener);
  },
});

await new Promise<void>((resolve) => engine.once('message', () => resolve()));
const saved = await client.saveProfile(profile);
if (!saved.ok) throw new Error(JSON.stringify(saved.errors));
const open = new Promise<void>((resolve) => {
  const off = client.on('state', (e) => {
    if (e.state.state === 'open') {
      off();
      resolve();
    }
  });
});
await client.start(profile.id);
await open;
// Like the app, keep consuming the engine's events (stats every second) while measuring.
client.on('stats', () => {});
process.stdout.write(`${JSON.stringify({ open: profile.forwards[0]!.bindPort })}\n`);

const histogram = monitorEventLoopDelay({ resolution: 1 });
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'measure') {
    histogram.reset();
    histogram.enable();
  } else if (line === 'report') {
    histogram.disable();
    process.stdout.write(`${JSON.stringify({ p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 })}\n`);
    await client.stop(profile.id);
    engine.send({ t: 'shutdown' });
    await new Promise((resolve) => engine.once('exit', resolve));
    client.dispose();
    process.exit(0);
  }
}
