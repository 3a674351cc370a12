// Test hosts in network namespaces that the tests create and remove themselves (root only), for
// proving what crosses a network: a database only reachable from "inside", a bastion with two legs.
// Addresses come from 10.231.0.0/16 and exist only inside these namespaces and their veth links.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

let counter = 0;

export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A /30 for this process's n-th link: parallel test files (separate processes) never collide. */
function subnet(): [string, string] {
  const n = (process.pid % 200) * 64 + (counter % 64);
  const base = n * 4;
  const third = Math.floor(base / 256) % 256;
  const fourth = base % 256;
  return [`10.231.${third}.${fourth + 1}`, `10.231.${third}.${fourth + 2}`];
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * The host's default route leads off this machine, and a gateway there may even answer. So the
 * whole test range is made unreachable on the host first: a connection to a namespace-only address
 * then fails here (EHOSTUNREACH), and no packet ever leaves. veth /30 routes are more specific and
 * still work. The route is left in place: other test processes may be using the range.
 */
function fenceTestRange(): void {
  ip('route', 'replace', 'unreachable', TEST_RANGE);
}

export const TEST_RANGE = '10.231.0.0/16';

export class Netns {
  private readonly links: string[] = [];

  private constructor(readonly name: string) {}

  static create(): Netns {
    fenceTestRange();
    const name = `tv${process.pid}n${counter++}`;
    ip('netns', 'add', name);
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    return new Netns(name);
  }

  /**
   * A veth link from this namespace to `peer` (another namespace, or the host when omitted).
   * Returns [address here, address on the peer side].
   */
  link(peer?: Netns): [string, string] {
    const [mine, theirs] = subnet();
    counter++;
    const a = `tva${process.pid % 10000}x${counter}`;
    const b = `tvb${process.pid % 10000}x${counter}`;
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    ip('link', 'set', a, 'netns', this.name);
    ip('netns', 'exec', this.name, 'ip', 'addr', 'add', `${mine}/30`, 'dev', a);
    ip('netns', 'exec', this.name, 'ip', 'link', 'set', a, 'up');
    if (peer) {
      ip('link', 'set', b, 'netns', peer.name);
      ip('netns', 'exec', peer.name, 'ip', 'addr', 'add', `${theirs}/30`, 'dev', b);
      ip('netns', 'exec', peer.name, 'ip', 'link', 'set', b, 'up');
    } else {
      ip('addr', 'add', `${theirs}/30`, 'dev', b);
      ip('link', 'set', b, 'up');
      this.links.push(b);
    }
    return [mine, theirs];
  }

  /** An address on this namespace's own loopback: reachable inside it only (nothing routes to it). */
  privateAddress(): string {
    const [address] = subnet();
    counter++;
    ip('netns', 'exec', this.name, 'ip', 'addr', 'add', `${address}/32`, 'dev', 'lo');
    return address;
  }

  /** Runs a command inside the namespace. */
  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  exec(command: string, args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.name, command, ...args], { encoding: 'utf8' });
  }

  /** Runs a command inside the namespace without blocking the test's event loop; never rejects. */
  run(command: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', this.name, command, ...args], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** An iptables rule change inside the namespace: it goes away with the namespace, never touching the host's tables. */
  iptables(...args: string[]): void {
    execFileSync('ip', ['netns', 'exec', this.name, 'iptables', '-w', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /**
   * Replaces /etc/<file> for programs started in this namespace from now on (`ip netns exec`
   * bind-mounts /etc/netns/<name>/<file> over it); removed with the namespace.
   */
  etcFile(file: string, text: string): void {
    mkdirSync(`/etc/netns/${this.name}`, { recursive: true });
    writeFileSync(`/etc/netns/${this.name}/${file}`, text);
  }

  /** Removes the namespace; its interfaces (and the host ends of its veth links) go with it. */
  dispose(): void {
    try {
      ip('netns', 'del', this.name);
    } catch {
      // Already gone.
    }
    rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
    for (const link of this.links) {
      try {
        ip('link', 'del', link);
      } catch {
        // Removed with the namespace's end.
      }
    }
  }
}
