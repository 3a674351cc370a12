// Attack: Cloud Foundry credentials over plain http. A foundation served over http, an https API
// whose answer points login or UAA at http, or one that redirects to http, must never receive the
// password, the refresh token or an access token: the tunnel fails with INSECURE_TRANSPORT before
// anything is sent. The fake foundation's plain-http mirror records every request it gets, so "never
// received" is observed, not assumed. With the profile's explicit opt-in it works, and warns on
// every connect, as the cf CLI does. Also through the real `tunnelvision cf` bin.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloudFoundryConnector } from '../app/cloudfoundry/connector.js';
import type { Prompter } from '../app/engine/prompts.js';
import { Tunnel, type LogEntry, type TunnelState } from '../app/engine/tunnel.js';
import type { CloudFoundryProfile } from '../app/profiles/schema.js';
import { formatErrors, parseProfile } from '../app/profiles/validate.js';
import { runCli, type CliRun } from './support/cli.js';
import { APP, ORG, SERVICE, SPACE, startCfWorld, type CfWorld } from './support/cf/world.js';
import { freePort } from './support/net.js';

const CF_HTTP_WARNING = 'Warning: Insecure http API endpoint detected: secure https API endpoints are recommended';

let world: CfWorld;
let dir: string;
const owned: Array<() => Promise<void>> = [];

beforeAll(async () => {
  world = await startCfWorld();
  dir = mkdtempSync(join(tmpdir(), 'tv-cfhttp-'));
}, 180_000);

afterEach(async () => {
  for (const d of owned.splice(0).reverse()) await d();
  world.foundation.advertise = {};
  world.foundation.redirectDiscoveryTo = undefined;
  world.foundation.plainRequests.length = 0;
  world.writeCfConfig();
});

afterAll(async () => {
  await world?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function profile(overrides: Record<string, unknown> = {}): Promise<CloudFoundryProfile> {
  const parsed = parseProfile({
    kind: 'cloudfoundry',
    id: 'orders-db',
    name: 'Orders DB',
    api: world.foundation.apiUrl,
    org: ORG,
    space: SPACE,
    app: APP,
    service: SERVICE,
    local: { bindPort: await freePort() },
    login: { method: 'cf-cli', cfHome: world.cfHome },
    reconnect: { enabled: false },
    ...overrides,
  });
  if (!parsed.ok || parsed.value.kind !== 'cloudfoundry') throw new Error(parsed.ok ? 'not a CF profile' : formatErrors(parsed.errors));
  return parsed.value;
}

/** The engine reached without the schema (as a profile that slipped past it would): its own checks must hold. */
async function unchecked(overrides: Record<string, unknown>): Promise<CloudFoundryProfile> {
  return { ...(await profile({ ...overrides, allowInsecureHttp: true })), allowInsecureHttp: false };
}

interface Run {
  tunnel: Tunnel;
  logs: LogEntry[];
  settled: Promise<TunnelState>;
}

function start(p: CloudFoundryProfile, prompter: Prompter = {}): Run {
  const logs: LogEntry[] = [];
  const connector = cloudFoundryConnector(p, { prompter, ca: world.tls.ca, log: (level, message) => logs.push({ time: Date.now(), level, message }) });
  const tunnel = new Tunnel({ profile: p, connector });
  tunnel.on('log', (l) => logs.push(l));
  const settled = new Promise<TunnelState>((resolve) => tunnel.on('state', (s) => (s.state === 'open' || s.state === 'failed') && resolve(s)));
  owned.push(() => tunnel.stop());
  tunnel.start();
  return { tunnel, logs, settled };
}

/** Nothing secret reached plain http: no password, no token, no authorization header. */
function expectNothingSentInClear(): void {
  const sent = JSON.stringify(world.foundation.plainRequests);
  expect(sent).not.toContain(world.foundation.password);
  expect(world.foundation.plainRequests.filter((r) => r.authorization || r.body)).toEqual([]);
}

/** A cf CLI home logged in to the http mirror, as `cf login -a http://…` leaves it. */
function plainCfHome(): string {
  const home = join(dir, 'cf-plain');
  mkdirSync(join(home, '.cf'), { recursive: true });
  const { access, refresh } = world.foundation.login();
  const url = world.foundation.plainUrl;
  writeFileSync(join(home, '.cf', 'config.json'), JSON.stringify({ ConfigVersion: 3, Target: url, AuthorizationEndpoint: url, UaaEndpoint: url, AccessToken: `bearer ${access}`, RefreshToken: refresh, SSLDisabled: false }), { mode: 0o600 });
  return home;
}

describe('the engine refuses plain http for Cloud Foundry credentials', () => {
  it('an http:// API: nothing at all is sent to it, INSECURE_TRANSPORT names the opt-in', async () => {
    const asked: string[] = [];
    const p = await unchecked({ api: world.foundation.plainUrl, login: { method: 'password', username: world.foundation.user } });
    const state = await start(p, { password: async (q) => (asked.push(q.user), world.foundation.password) }).settled;
    expect(state).toMatchObject({ state: 'failed', error: { code: 'INSECURE_TRANSPORT', message: expect.stringContaining('allowInsecureHttp') } });
    expect(asked).toEqual([]);
    expect(world.foundation.plainRequests).toEqual([]);
  });

  it('an https API that points login and UAA at http: the password is never asked for nor sent', async () => {
    world.foundation.advertise = { login: world.foundation.plainUrl, uaa: world.foundation.plainUrl };
    const asked: string[] = [];
    const state = await start(await profile({ login: { method: 'password', username: world.foundation.user } }), { password: async (q) => (asked.push(q.user), world.foundation.password) }).settled;
    expect(state).toMatchObject({ state: 'failed', error: { code: 'INSECURE_TRANSPORT', message: expect.stringContaining(world.foundation.plainUrl) } });
    expect(asked).toEqual([]);
    expectNothingSentInClear();
    expect(world.foundation.plainRequests).toEqual([]);
  });

  it('an https API that points only UAA at http: the cf CLI\'s tokens never go there', async () => {
    world.foundation.advertise = { uaa: world.foundation.plainUrl };
    const state = await start(await profile()).settled;
    expect(state).toMatchObject({ state: 'failed', error: { code: 'INSECURE_TRANSPORT', message: expect.stringMatching(/UAA endpoint .* is plain http/) } });
    expect(world.foundation.plainRequests).toEqual([]);
  });

  it('an https API that redirects to http: refused, and nothing follows it', async () => {
    world.foundation.redirectDiscoveryTo = world.foundation.plainUrl;
    const state = await start(await profile()).settled;
    expect(state).toMatchObject({ state: 'failed', error: { code: 'INSECURE_TRANSPORT', message: expect.stringContaining(`${world.foundation.plainUrl}/`) } });
    expect(world.foundation.plainRequests).toEqual([]);
  });

  it('the cf CLI\'s login for an http target is not used without the opt-in', async () => {
    const state = await start(await unchecked({ api: world.foundation.plainUrl, login: { method: 'cf-cli', cfHome: plainCfHome() } })).settled;
    expect(state).toMatchObject({ state: 'failed', error: { code: 'INSECURE_TRANSPORT' } });
    expect(world.foundation.plainRequests).toEqual([]);
  });

  it('with allowInsecureHttp the http foundation works, and every connect warns', async () => {
    const p = await profile({ api: world.foundation.plainUrl, allowInsecureHttp: true, login: { method: 'password', username: world.foundation.user }, reconnect: { enabled: true, initialDelaySeconds: 0.2, maxDelaySeconds: 1 } });
    const run = start(p, { password: async () => world.foundation.password });
    expect(await run.settled).toMatchObject({ state: 'open' });
    // It really went over http: the mirror saw the login.
    expect(world.foundation.plainRequests.some((r) => r.url === '/oauth/token')).toBe(true);
    const warnings = () => run.logs.filter((l) => l.level === 'warn' && l.message.includes(CF_HTTP_WARNING));
    expect(warnings().length).toBeGreaterThan(0);
    const first = warnings().length;
    const reopened = new Promise<void>((resolve) => {
      let dropped = false;
      run.tunnel.on('state', (s) => {
        if (s.state === 'reconnecting') dropped = true;
        else if (s.state === 'open' && dropped) resolve();
      });
    });
    world.foundation.restage(world.app);
    await reopened;
    expect(warnings().length).toBeGreaterThan(first);
  });

  it('with skipSslValidation the tunnel opens unverified, and says so in a warning', async () => {
    const logs: LogEntry[] = [];
    const p = await profile({ skipSslValidation: true });
    const connector = cloudFoundryConnector(p, { prompter: {}, log: (level, message) => logs.push({ time: Date.now(), level, message }) });
    const tunnel = new Tunnel({ profile: p, connector });
    owned.push(() => tunnel.stop());
    tunnel.start();
    await tunnel.whenOpen();
    // Once per origin it used: the API and UAA.
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      expect.stringMatching(new RegExp(`^Warning: TLS certificate verification is off for ${world.foundation.apiUrl} \\(skipSslValidation\\)`)),
      expect.stringMatching(new RegExp(`^Warning: TLS certificate verification is off for ${world.foundation.uaaUrl} \\(skipSslValidation\\)`)),
    ]);
  });
});

describe('tunnelvision cf over http', () => {
  const cfArgs = (api: string, port: number, extra: string[] = []) => ['cf', '--api', api, '--org', ORG, '--space', SPACE, '--app', APP, '--service', SERVICE, '-L', String(port), ...extra];
  const env = (cfHome = world.cfHome) => ({ CF_HOME: cfHome, NODE_EXTRA_CA_CERTS: world.tls.caFile, TUNNELVISION_CONFIG_DIR: join(dir, 'config'), SSH_ASKPASS_REQUIRE: 'never' });
  const cli = (args: string[], environment: NodeJS.ProcessEnv): CliRun => {
    const run = runCli(args, environment);
    owned.push(async () => {
      run.proc.kill('SIGTERM');
      await run.exit;
    });
    return run;
  };
  const stderrHas = (run: CliRun, text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => run.stderr().includes(text) && (run.proc.stderr.off('data', check), resolve());
      run.proc.stderr.on('data', check);
      check();
      void run.exit.then(() => check() || reject(new Error(`exited without printing "${text}":\n${run.stdout()}\n${run.stderr()}`)));
    });

  it('an http --api is a usage error naming --allow-insecure-http; nothing is sent', async () => {
    const run = cli(cfArgs(world.foundation.plainUrl, await freePort()), env(plainCfHome()));
    expect((await run.exit).code).toBe(2);
    expect(run.stderr()).toMatch(/--api: .*--allow-insecure-http/);
    expect(world.foundation.plainRequests).toEqual([]);
  });

  it('an https API whose login is http: exit 255, INSECURE_TRANSPORT said plainly, nothing sent in clear', async () => {
    world.foundation.advertise = { login: world.foundation.plainUrl, uaa: world.foundation.plainUrl };
    const run = cli(cfArgs(world.foundation.apiUrl, await freePort()), env());
    expect((await run.exit).code).toBe(255);
    expect(run.stderr()).toContain(world.foundation.plainUrl);
    expect(run.stderr()).toContain('--allow-insecure-http');
    expect(world.foundation.plainRequests).toEqual([]);
  });

  it('--allow-insecure-http opens the tunnel and prints the cf CLI\'s warning on stderr', async () => {
    const run = cli(cfArgs(world.foundation.plainUrl, await freePort(), ['--allow-insecure-http']), env(plainCfHome()));
    await stderrHas(run, CF_HTTP_WARNING);
    await new Promise<void>((resolve, reject) => {
      const check = () => run.stdout().includes('Press Ctrl-C') && (run.proc.stdout.off('data', check), resolve());
      run.proc.stdout.on('data', check);
      check();
      void run.exit.then(() => check() || reject(new Error(`exited before opening:\n${run.stdout()}\n${run.stderr()}`)));
    });
    run.proc.kill('SIGTERM');
    expect((await run.exit).code).toBe(0);
  });
});
