// `tunnelvision cf` and saved Cloud Foundry profiles through `up`, as a person runs them: the real
// bin as a subprocess trusting the fake foundation's CA through NODE_EXTRA_CA_CERTS, the cf CLI's
// login reused from CF_HOME, and the real mariadb client through the local port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './support/cli.js';
import { APP, ORG, SERVICE, SPACE, startCfWorld, type CfWorld } from './support/cf/world.js';
import { freePort } from './support/net.js';

let world: CfWorld;
let configDir: string;
const QUERY = 'SELECT greeting FROM items WHERE id = 1';

beforeAll(async () => {
  world = await startCfWorld();
  configDir = mkdtempSync(join(tmpdir(), 'tv-cfcli-'));
}, 180_000);

afterAll(async () => {
  await world?.dispose();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

const env = () => ({ CF_HOME: world.cfHome, NODE_EXTRA_CA_CERTS: world.tls.caFile, TUNNELVISION_CONFIG_DIR: configDir, SSH_ASKPASS_REQUIRE: 'never' });
const cfArgs = (port: number, extra: string[] = []) => ['cf', '--api', world.foundation.apiUrl, '--org', ORG, '--space', SPACE, '--app', APP, '--service', SERVICE, '-L', String(port), ...extra];

/** Resolves once stdout holds `text` (already, or as lines arrive); rejects if the process exits first. */
function untilPrinted(run: CliRun, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!run.stdout().includes(text)) return false;
      run.proc.stdout.off('data', onData);
      resolve();
      return true;
    };
    // readline's line handler (registered first) has updated stdout() by the time this runs.
    const onData = () => void check();
    run.proc.stdout.on('data', onData);
    check();
    void run.exit.then(() => check() || reject(new Error(`exited before printing "${text}":\n${run.stdout()}\n${run.stderr()}`)));
  });
}

async function stop(run: CliRun): Promise<number | null> {
  run.proc.kill('SIGTERM');
  return (await run.exit).code;
}

describe('tunnelvision cf', () => {
  it('opens the service through the app container; the mariadb client reads the seeded row', async () => {
    const port = await freePort();
    const run = runCli(cfArgs(port, ['--json']), env());
    const open = await run.waitFor((e) => e.state === 'open' || e.state === 'failed', 'open');
    expect(open).toMatchObject({ state: 'open', forwards: [{ bindPort: port, service: { command: `mysql -h 127.0.0.1 -P ${port} -u ${world.db.user} -p ${world.db.database}` } }] });
    expect(await world.db.query(QUERY, { host: '127.0.0.1', port })).toBe(world.db.greeting);
    expect(await stop(run)).toBe(0);
    expect(run.stdout()).not.toContain(world.db.password);
  });

  it('prints the connection details, with the password only under --show-password', async () => {
    const port = await freePort();
    const run = runCli(cfArgs(port, ['--show-password']), env());
    await untilPrinted(run, 'Press Ctrl-C');
    const out = run.stdout();
    expect(out).toContain(`-L 127.0.0.1:${port} → ${world.db.host}:${world.db.port}   (service ${SERVICE} at ${world.db.host})`);
    expect(out).toContain(`mysql -h 127.0.0.1 -P ${port} -u ${world.db.user} -p${world.db.password} ${world.db.database}`);
    expect(out).toContain(`mysql://${world.db.user}:${world.db.password}@127.0.0.1:${port}/${world.db.database}`);
    expect(out).toContain(`jdbc:mysql://127.0.0.1:${port}/${world.db.database}?user=${world.db.user}&password=${world.db.password}`);
    expect(await stop(run)).toBe(0);
  });

  it('logs in with --username and a password from SSH_ASKPASS when there is no cf CLI login', async () => {
    const askpass = join(configDir, 'askpass.sh');
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${world.foundation.password}'\n`, { mode: 0o700 });
    const port = await freePort();
    const run = runCli(cfArgs(port, ['--json', '--username', world.foundation.user]), { ...env(), CF_HOME: join(configDir, 'no-cf-here'), SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' });
    expect(await run.waitFor((e) => e.state === 'open' || e.state === 'failed', 'open')).toMatchObject({ state: 'open' });
    expect(await world.db.query(QUERY, { host: '127.0.0.1', port })).toBe(world.db.greeting);
    expect(await stop(run)).toBe(0);
  });

  it('a typo\'d app: exit 255 and the apps that exist', async () => {
    const run = runCli(['cf', '--api', world.foundation.apiUrl, '--org', ORG, '--space', SPACE, '--app', 'ordres', '--service', SERVICE, '-L', String(await freePort())], env());
    expect((await run.exit).code).toBe(255);
    expect(run.stderr()).toContain('Space "dev" has no app "ordres". Its apps: "billing", "orders"');
  });

  it('usage errors: exit 2, one line per problem', async () => {
    const run = runCli(['cf', '--api', world.foundation.apiUrl, '--app', APP, '-L', '13306'], env());
    expect((await run.exit).code).toBe(2);
    expect(run.stderr()).toContain('--org: is required');
    expect(run.stderr()).toContain('--service: is required');
  });
});

describe('saved Cloud Foundry profiles', () => {
  it('are imported, listed and opened with up', async () => {
    const port = await freePort();
    const file = join(configDir, 'export.json');
    writeFileSync(file, JSON.stringify({ version: 1, profiles: [{ kind: 'cloudfoundry', id: 'orders-db', name: 'Orders DB', api: world.foundation.apiUrl, org: ORG, space: SPACE, app: APP, service: SERVICE, local: { bindPort: port } }] }));
    const imported = runCli(['import', file, '--yes', '--config-dir', configDir], env());
    expect((await imported.exit).code).toBe(0);
    const list = runCli(['list', '--config-dir', configDir], env());
    await list.exit;
    expect(list.stdout()).toContain(`cf ${APP}/0 in ${ORG}/${SPACE} at ${world.foundation.apiUrl}  -L 127.0.0.1:${port} → service ${SERVICE}`);
    const up = runCli(['up', 'orders-db', '--json', '--config-dir', configDir], env());
    await up.waitFor((e) => e.state === 'open', 'open');
    expect(await world.db.query(QUERY, { host: '127.0.0.1', port })).toBe(world.db.greeting);
    expect(await stop(up)).toBe(0);
  });
});
