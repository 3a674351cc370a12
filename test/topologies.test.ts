// Real networks built from namespaces, veth links and iptables: a server behind a firewall that
// admits only SSH, a host that can only dial out (published with -R), and a database on a private
// network behind a bastion. Only loopback and these namespaces' 10.231.0.0/16 addresses are used.
// Root only: CI runs as root, so without it this file fails rather than skipping.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliEvent, type CliRun } from './support/cli.js';
import { MariaDb } from './support/mariadb.js';
import { freePort } from './support/net.js';
import { Netns, canUseNetns } from './support/netns.js';
import { probeFrom, serverIn, type NsServer } from './support/nsServer.js';
import { sendAndHash } from './support/servers.js';
import { Sshd } from './support/sshd.js';

const SOON_MS = 20_000;

const disposers: Array<() => unknown> = [];
const runs: CliRun[] = [];
let dir: string;

beforeAll(() => {
  if (!canUseNetns()) {
    throw new Error('These topologies need root and `ip netns` (iproute2) to build network namespaces; run the suite as root (CI does).');
  }
  dir = mkdtempSync(join(tmpdir(), 'tv-topo-'));
  disposers.push(() => rmSync(dir, { recursive: true, force: true }));
});

afterAll(async () => {
  for (const run of runs) {
    if (run.proc.exitCode === null && run.proc.signalCode === null) run.proc.kill('SIGKILL');
    await run.exit;
  }
  // Last made, first gone: processes inside a namespace end before the namespace does.
  for (const dispose of disposers.reverse()) await dispose();
});

function track<T extends { dispose(): unknown }>(thing: T): T {
  disposers.push(() => thing.dispose());
  return thing;
}

function namespace(): Netns {
  return track(Netns.create());
}

/** An ssh_config that gives every host these keys and these known hosts, asking nothing. */
function sshConfig(name: string, servers: Sshd[]): string {
  const knownHosts = join(dir, `${name}_known_hosts`);
  writeFileSync(knownHosts, servers.map((s) => s.knownHostsLine()).join(''));
  const file = join(dir, `${name}_ssh_config`);
  writeFileSync(
    file,
    ['Host *', ...servers.map((s) => `  IdentityFile ${s.clientKey.path}`), `  UserKnownHostsFile ${knownHosts}`, '  StrictHostKeyChecking yes', '  BatchMode yes', ''].join('\n'),
  );
  return file;
}

function cli(args: string[], netns?: Netns): CliRun {
  const run = runCli(args, { SSH_AUTH_SOCK: '' }, netns);
  runs.push(run);
  return run;
}

function within(run: CliRun, pred: (e: CliEvent) => boolean, what: string, ms = SOON_MS): Promise<CliEvent> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    run.waitFor(pred, what),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; stdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function stop(run: CliRun): Promise<void> {
  run.proc.kill('SIGINT');
  expect((await run.exit).code).toBe(0);
}

/** How a TCP connection from this host ends: `connected`, an errno code, or TIMEOUT. */
function probeHere(host: string, port: number, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (result: string) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('TIMEOUT'), timeoutMs);
    sock.once('connect', () => done('connected'));
    sock.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).once('error', reject);
  });
}

describe('a server behind a firewall that admits only SSH', () => {
  let server: Netns;
  let address: string;
  let sshd: Sshd;

  beforeAll(async () => {
    server = namespace();
    [address] = server.link();
    // Inbound: loopback, replies, and new connections to port 22; anything else is rejected here,
    // so the host gets its answer at once instead of waiting out a timeout.
    server.iptables('-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT');
    server.iptables('-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
    server.iptables('-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT');
    server.iptables('-A', 'INPUT', '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited');
    track(await serverIn(server, 'http', '0.0.0.0', 80));
    sshd = track(await Sshd.start({ netns: server, listenAddress: address }));
  });

  it('port 80 is unreachable from the host, port 22 is open', async () => {
    expect(await probeHere(address, 80)).toBe('EHOSTUNREACH');
    expect(await probeHere(address, 22)).toBe('connected');
  });

  it('-L <port>:127.0.0.1:80 through its sshd serves the page (the real CLI)', async () => {
    const port = await freePort();
    const run = cli(['connect', '--json', '-N', '-F', sshConfig('fw', [sshd]), '-L', `${port}:127.0.0.1:80`, `${sshd.user}@${address}`]);
    const open = await within(run, (e) => e.state === 'open', 'open');
    expect(open.hops).toMatchObject([{ label: `${sshd.user}@${address}:22` }]);
    expect(await httpGet(port)).toBe('hello from behind the firewall\n');
    await stop(run);
  });
});

describe('a host that can only dial out, published with -R', () => {
  let hidden: Netns;
  let hiddenAddress: string;
  let hostAddress: string;
  let sshd: Sshd;
  let service: NsServer;

  beforeAll(async () => {
    hidden = namespace();
    [hiddenAddress, hostAddress] = hidden.link();
    // No new connection gets in; its own connections out, and their replies, pass.
    hidden.iptables('-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT');
    hidden.iptables('-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP');
    service = track(await serverIn(hidden, 'hash', '127.0.0.1', 0));
    // The host's sshd listens on the host's end of the link: the one address the hidden host can dial.
    sshd = track(await Sshd.start({ listenAddress: hostAddress }));
  });

  it('the host cannot open a connection into it (its packets are dropped)', async () => {
    expect(await probeHere(hiddenAddress, service.port, 1_500)).toBe('TIMEOUT');
    expect(await probeFrom(hidden, hostAddress, sshd.port)).toBe('connected');
  });

  it('tunnelvision connect -R, run inside it, publishes its service on the sshd side', async () => {
    const remotePort = await freePort();
    const run = cli(['connect', '--json', '-N', '-F', sshConfig('ro', [sshd]), '-R', `${remotePort}:127.0.0.1:${service.port}`, '-p', String(sshd.port), `${sshd.user}@${hostAddress}`], hidden);
    const open = await within(run, (e) => e.state === 'open', 'open');
    expect(open.forwards).toMatchObject([{ type: 'remote', bindPort: remotePort }]);
    const results = await Promise.all([1, 70_000, 1_000_000].map((size) => sendAndHash(remotePort, size)));
    for (const r of results) expect(r.reply).toBe(r.sent);
    await stop(run);
  });
});

describe('a database on a private network behind a bastion', () => {
  let client: Netns;
  let bastionNs: Netns;
  let privateNs: Netns;
  let bastionAddress: string;
  let privateAddress: string;
  let bastion: Sshd;
  let inner: Sshd;
  let db: MariaDb;

  beforeAll(async () => {
    client = namespace();
    bastionNs = namespace();
    privateNs = namespace();
    // The bastion has two legs: one towards the client, one into the private network. It does not
    // route between them (a new namespace has forwarding off), so only SSH carries anything across.
    [, bastionAddress] = client.link(bastionNs);
    [, privateAddress] = bastionNs.link(privateNs);
    expect(bastionNs.exec('sysctl', ['-n', 'net.ipv4.ip_forward']).trim()).toBe('0');
    // DEBUG1: the bastion logs each direct-tcpip target, which shows what it carried.
    [bastion, inner] = await Promise.all([Sshd.start({ netns: bastionNs, listenAddress: bastionAddress, config: ['LogLevel DEBUG1'] }), Sshd.start({ netns: privateNs, listenAddress: privateAddress })]);
    track(bastion);
    track(inner);
    db = track(await MariaDb.start({ netns: privateNs, host: '127.0.0.1' }));
  }, 120_000);

  it('there is no direct route from the client to the private network', async () => {
    expect(await probeFrom(client, privateAddress, 22)).toBe('ENETUNREACH');
    expect(await probeFrom(client, bastionAddress, 22)).toBe('connected');
  });

  it('-J bastion -L reaches MariaDB: a real mariadb client in the client namespace runs a SELECT', async () => {
    const port = await freePort();
    const run = cli(
      ['connect', '--json', '-N', '-F', sshConfig('bastion', [bastion, inner]), '-J', `${bastion.user}@${bastionAddress}`, '-L', `${port}:127.0.0.1:${db.port}`, `${inner.user}@${privateAddress}`],
      client,
    );
    const open = await within(run, (e) => e.state === 'open', 'open');
    expect((open.hops as Array<{ label: string }>).map((h) => h.label)).toEqual([`${bastion.user}@${bastionAddress}:22`, `${inner.user}@${privateAddress}:22`]);
    const query = await client.run('mariadb', ['--no-defaults', '--protocol=TCP', '-h', '127.0.0.1', '-P', String(port), '-u', db.user, `-p${db.password}`, '--batch', '--skip-column-names', '--connect-timeout=10', db.database, '-e', 'SELECT greeting FROM items WHERE id = 1']);
    expect(query).toMatchObject({ code: 0, stdout: `${db.greeting}\n` });
    // The bastion only carried SSH to the inner server; the inner server dialled the database.
    expect(bastion.log).toContain(`target ${privateAddress} port 22`);
    await stop(run);
  });
});
