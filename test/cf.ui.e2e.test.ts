// A Cloud Foundry tunnel made and used in the window, in Debian's Chromium, against the fake
// foundation (Cloud Controller, UAA, ssh-proxy) and a real MariaDB that only the app's "container"
// can reach (in a network namespace where root allows). The engine runs in-process behind the UI
// bridge, so the foundation's test CA is handed to it as the engine's `ca` option: TLS stays verified.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES } from '../app/shared/contract.js';
import { APP, ORG, SERVICE, SPACE, startCfWorld, type CfWorld } from './support/cf/world.js';
import { freePort } from './support/net.js';
import { startUiBridge, type UiBridge } from './support/uiBridge.js';

const SHOTS = 'test-results/screenshots';
const UI_TIMEOUT = 30_000;

let world: CfWorld;
let bridge: UiBridge;
let context: BrowserContext;
let page: Page;
let localPort: number;
const temp = mkdtempSync(join(tmpdir(), 'tv-cf-ui-'));
/** Every event the engine sent, as JSON: the password must never be in one. */
const wire: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function expectAccessible(what: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${what}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

const node = (id: string) => page.locator(`[data-node="${id}"]`);
const clipboard = () => page.evaluate<string>('navigator.clipboard.readText()');

function directConnect(host: string, port: number): Promise<string> {
  return new Promise((done) => {
    const sock = connect({ host, port, timeout: 2_000 });
    sock.once('connect', () => (sock.destroy(), done('connected')));
    sock.once('timeout', () => (sock.destroy(), done('timeout')));
    sock.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

beforeAll(async () => {
  // Built into a folder of its own, so the other browser test's build cannot change files under this one.
  const out = join(temp, 'renderer');
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'vite.renderer.config.ts', '--outDir', resolve(out), '--emptyOutDir'], { stdio: 'inherit' });
  world = await startCfWorld();
  bridge = await startUiBridge({ root: out, configDir: join(temp, 'config'), ca: world.tls.ca });
  for (const name of EVENT_NAMES) bridge.engine.on(name, ((payload: unknown) => wire.push(JSON.stringify(payload))) as never);
  context = await chromium.launchPersistentContext(join(temp, 'chromium'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 760 },
    colorScheme: 'light',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(bridge.url).origin });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(UI_TIMEOUT);
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(bridge.url);
  expect(problems).toEqual([]);
}, 240_000);

afterAll(async () => {
  await context?.close();
  await bridge?.close();
  await world?.dispose();
  rmSync(temp, { recursive: true, force: true });
}, 60_000);

describe('a Cloud Foundry tunnel made in the window', () => {
  it('is created in its own editor, checked by the profile schema, with warnings for risky settings', async () => {
    localPort = await freePort();
    await page.getByRole('button', { name: 'New Cloud Foundry tunnel' }).first().click();
    await page.getByRole('heading', { name: 'New Cloud Foundry tunnel' }).waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByLabel('API endpoint', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.getByText('must be the API endpoint URL, e.g. https://api.sys.example.com').isVisible()).toBe(true);

    await page.getByLabel('Name', { exact: true }).fill('Orders DB');
    await page.getByLabel('API endpoint', { exact: true }).fill(world.foundation.apiUrl);
    await page.getByLabel('Org', { exact: true }).fill(ORG);
    await page.getByLabel('Space', { exact: true }).fill(SPACE);
    await page.getByLabel('App', { exact: true }).fill(APP);
    await page.getByLabel('Instance', { exact: true }).fill('0');
    await page.getByLabel('Service instance', { exact: true }).fill(SERVICE);
    await page.getByLabel('Local port', { exact: true }).fill('99999');
    await expect.poll(() => page.getByText('must be 1–65535').isVisible()).toBe(true);
    await page.getByLabel('Local port', { exact: true }).fill(String(localPort));
    await page.getByLabel('Listen on', { exact: true }).fill('0.0.0.0');
    await expect.poll(() => page.getByText(/other machines on your network/).isVisible()).toBe(true);
    await page.getByLabel(/Skip TLS certificate verification/).check();
    await expect.poll(() => page.getByRole('note').textContent()).toMatch(/will not check who answers/);
    await page.getByLabel('cf CLI home (CF_HOME)').fill(world.cfHome);
    await page.getByLabel('Org', { exact: true }).scrollIntoViewIfNeeded();
    await shot('cf-editor');
    await expectAccessible('Cloud Foundry editor');

    // The choices that go: the lab CA is trusted by the engine, so verification stays on.
    await page.getByLabel(/Skip TLS certificate verification/).uncheck();
    await page.getByLabel('Listen on', { exact: true }).fill('127.0.0.1');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Orders DB', exact: true }).waitFor();
    const saved = (await bridge.engine.listProfiles()).find((v) => v.profile.id === 'orders-db')!.profile;
    expect(saved).toMatchObject({ kind: 'cloudfoundry', api: world.foundation.apiUrl, org: ORG, space: SPACE, app: APP, instance: 0, service: SERVICE, skipSslValidation: false, local: { bindHost: '127.0.0.1', bindPort: localPort }, login: { method: 'cf-cli', cfHome: world.cfHome } });
  }, 90_000);

  it('opens with one click; the diagram goes green through the ssh-proxy and the app container to the service', async () => {
    await page.getByRole('switch', { name: 'Orders DB tunnel' }).click();
    for (const id of ['f0-listener', 'hop-0', 'hop-1']) await node(id).and(page.locator('[data-tone="ok"]')).waitFor();
    expect(await node('hop-0').locator('.hop-title').textContent()).toBe('SSH proxy');
    expect(await node('hop-0').locator('.hop-sub').textContent()).toBe(world.foundation.sshEndpoint);
    expect(await node('hop-1').locator('.hop-title').textContent()).toBe('App container');
    expect(await node('hop-1').locator('.hop-sub').textContent()).toBe(`${APP}/0`);
    expect(await node('f0-target').locator('.hop-title').textContent()).toBe(`Service ${SERVICE}`);
    expect(await node('f0-target').locator('.hop-sub').textContent()).toBe(`${world.db.host}:${world.db.port}`);

    // The real mariadb client gets the seeded row through the local port; from here the database itself is out of reach.
    expect(await world.db.query('SELECT greeting FROM items WHERE id = 1', { host: '127.0.0.1', port: localPort })).toBe(world.db.greeting);
    if (world.netns) expect(await directConnect(world.db.host, world.db.port)).not.toBe('connected');
    await node('f0-target').and(page.locator('[data-tone="ok"]')).waitFor();
    const version = await world.db.query('SELECT VERSION()', { host: '127.0.0.1', port: localPort });
    await expect.poll(() => page.locator('.health [role="status"]').textContent()).toBe(`MariaDB ${/^\d+\.\d+\.\d+/.exec(version)![0]}`);

    const strings = await page.locator('.conn-value').allTextContents();
    expect(strings).toEqual([
      `mysql -h 127.0.0.1 -P ${localPort} -u ${world.db.user} -p ${world.db.database}`,
      `mysql://${world.db.user}@127.0.0.1:${localPort}/${world.db.database}`,
      `jdbc:mysql://127.0.0.1:${localPort}/${world.db.database}?user=${world.db.user}`,
    ]);
    await shot('cf-diagram-open');
    await expectAccessible('open Cloud Foundry tunnel');
  }, 90_000);

  it('copies without the password, and with it only on the explicit click', async () => {
    const { password } = world.db;
    await page.getByRole('button', { name: 'Copy mysql command', exact: true }).click();
    await expect.poll(clipboard).toBe(`mysql -h 127.0.0.1 -P ${localPort} -u ${world.db.user} -p ${world.db.database}`);
    expect(await page.locator('body').innerText()).not.toContain(password);

    await page.getByRole('button', { name: 'Copy mysql command with password' }).click();
    await expect.poll(clipboard).toBe(`mysql -h 127.0.0.1 -P ${localPort} -u ${world.db.user} -p${password} ${world.db.database}`);
    await page.getByRole('button', { name: 'Copy MySQL URL with password' }).click();
    await expect.poll(clipboard).toBe(`mysql://${world.db.user}:${password}@127.0.0.1:${localPort}/${world.db.database}`);
    await page.getByRole('button', { name: 'Copy JDBC URL with password' }).click();
    await expect.poll(clipboard).toBe(`jdbc:mysql://127.0.0.1:${localPort}/${world.db.database}?user=${world.db.user}&password=${password}`);
    // The notice says what was copied, not the secret; the page never shows it; no event ever carried it.
    await expect.poll(() => page.getByText('Copied the JDBC URL with the password').isVisible()).toBe(true);
    expect(await page.locator('body').innerText()).not.toContain(password);
    expect(await page.content()).not.toContain(password);
    expect(wire.length).toBeGreaterThan(0);
    expect(wire.filter((w) => w.includes(password))).toEqual([]);
  }, 90_000);

  it('gives the password to nobody once the tunnel is closed', async () => {
    await page.getByRole('switch', { name: 'Orders DB tunnel' }).click();
    await page.getByRole('switch', { name: 'Orders DB tunnel', checked: false }).waitFor();
    await expect(bridge.engine.revealServicePassword('orders-db')).rejects.toThrow(/only while a Cloud Foundry tunnel to a service is open/);
    expect(await page.getByRole('button', { name: 'Copy mysql command with password' }).count()).toBe(0);
  }, 90_000);

  it('edits in the same editor, filled from the saved profile', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit Orders DB' }).waitFor();
    expect(await page.getByLabel('API endpoint', { exact: true }).inputValue()).toBe(world.foundation.apiUrl);
    expect(await page.getByLabel('Service instance', { exact: true }).inputValue()).toBe(SERVICE);
    expect(await page.getByLabel('Local port', { exact: true }).inputValue()).toBe(String(localPort));
    await page.getByLabel('Instance', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Orders DB', exact: true }).waitFor();
    await expect.poll(async () => (await bridge.engine.listProfiles()).find((v) => v.profile.id === 'orders-db')!.profile).toMatchObject({ instance: 1, service: SERVICE });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel(/Skip TLS certificate verification/).check();
    await page.getByLabel('Org', { exact: true }).scrollIntoViewIfNeeded();
    await shot('cf-editor-dark');
    await expectAccessible('Cloud Foundry editor, dark');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.emulateMedia({ colorScheme: 'light' });
  }, 90_000);
});
