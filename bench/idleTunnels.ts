// Memory per open, idle tunnel: one engine process (this one, run with --expose-gc) opens tunnels
// one after another against the same sshd and reports how much resident memory each added. The
// first tunnel pays for loading ssh2 and friends; the figure is the average over the ones after it.
//   node --expose-gc out/bench/bench/idleTunnels.js SSH_PORT KEY USER KNOWN_HOSTS TARGET_PORT COUNT
// Prints one JSON line: {"firstMiB":…, "perTunnelMiB":…, "count":…}.
import { Tunnel } from '../app/engine/tunnel.js';
import { parseProfile } from '../app/profiles/validate.js';
import { freePort } from '../test/support/net.js';

const [sshPort, key, user, knownHosts, targetPort, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 20);
const gc = (globalThis as { gc?: () => void }).gc;

async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().rss;
}

function profile(i: number, port: number) {
  const parsed = parseProfile({
    kind: 'ssh',
    id: `idle-${i}`,
    name: `idle ${i}`,
    server: { host: '127.0.0.1', port: Number(sshPort), user, auth: { method: 'key', keyFiles: [key] } },
    hostKey: { strict: 'yes', knownHostsFiles: [knownHosts] },
    forwards: [{ type: 'local', bindHost: '127.0.0.1', bindPort: port, targetHost: '127.0.0.1', targetPort: Number(targetPort) }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

async function open(i: number): Promise<Tunnel> {
  const t = new Tunnel({ profile: profile(i, await freePort()), prompter: {} });
  t.start();
  await t.whenOpen();
  return t;
}

const tunnels: Tunnel[] = [];
const base = await settledRss();
tunnels.push(await open(0));
const afterFirst = await settledRss();
for (let i = 1; i <= count; i++) tunnels.push(await open(i));
const afterAll = await settledRss();
await Promise.all(tunnels.map((t) => t.stop()));
const MiB = 1 << 20;
process.stdout.write(`${JSON.stringify({ firstMiB: (afterFirst - base) / MiB, perTunnelMiB: (afterAll - afterFirst) / count / MiB, count })}\n`);
process.exit(0);
