// Everything a Cloud Foundry test needs: the fake foundation, a real MariaDB reachable only from
// the "container" (inside a network namespace where root and ip netns allow), an app bound to it,
// and a cf CLI home logged in to the foundation.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MariaDb } from '../mariadb.js';
import { Netns, canUseNetns } from '../netns.js';
import { Container } from './container.js';
import { FakeFoundation, type FakeApp } from './foundation.js';
import { makeTestTls, type TestTls } from './tls.js';

export const ORG = 'acme';
export const SPACE = 'dev';
export const APP = 'orders';
export const SERVICE = 'orders-db';

export interface CfWorld {
  dir: string;
  tls: TestTls;
  netns: Netns | undefined;
  db: MariaDb;
  container: Container;
  foundation: FakeFoundation;
  app: FakeApp;
  /** CF_HOME of a cf CLI logged in to the foundation. */
  cfHome: string;
  writeCfConfig(overrides?: Record<string, unknown>): void;
  dispose(): Promise<void>;
}

export async function startCfWorld(): Promise<CfWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'tv-cf-'));
  const tls = makeTestTls(dir);
  const netns = canUseNetns() ? Netns.create() : undefined;
  const disposers: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const dispose = async () => {
    for (const d of disposers.splice(0).reverse()) await d();
  };
  try {
    if (netns) disposers.push(() => netns.dispose());
    const db = await MariaDb.start(netns ? { netns, host: netns.privateAddress() } : {});
    disposers.push(() => db.dispose());
    const container = await Container.start(netns);
    disposers.push(() => container.dispose());
    const foundation = await FakeFoundation.start({ tls, container });
    disposers.push(() => foundation.dispose());
    const app = foundation.addApp({
      org: ORG,
      space: SPACE,
      name: APP,
      vcapServices: {
        'p.mysql': [{ name: SERVICE, instance_name: SERVICE, label: 'p.mysql', plan: 'db-small', tags: ['mysql'], credentials: { hostname: db.host, port: db.port, name: db.database, username: db.user, password: db.password, uri: `mysql://${db.user}:${db.password}@${db.host}:${db.port}/${db.database}?reconnect=true` } }],
        'user-provided': [{ name: 'audit-log', instance_name: 'audit-log', label: 'user-provided', tags: [], credentials: { uri: 'https://audit.example.com' } }],
      },
    });
    foundation.addApp({ org: ORG, space: SPACE, name: 'billing' });
    foundation.addApp({ org: ORG, space: 'prod', name: 'orders' });
    foundation.addApp({ org: 'globex', space: 'qa', name: 'shop' });
    const cfHome = join(dir, 'cfhome');
    const writeCfConfig = (overrides: Record<string, unknown> = {}) => {
      const { access, refresh } = foundation.login();
      mkdirSync(join(cfHome, '.cf'), { recursive: true });
      const config = {
        ConfigVersion: 4,
        Target: foundation.apiUrl,
        APIVersion: '3.180.0',
        AuthorizationEndpoint: foundation.uaaUrl,
        UaaEndpoint: foundation.uaaUrl,
        AccessToken: `bearer ${access}`,
        RefreshToken: refresh,
        SSHOAuthClient: 'ssh-proxy',
        SSLDisabled: false,
        OrganizationFields: { GUID: foundation.orgs[0]!.guid, Name: ORG },
        SpaceFields: { GUID: app.spaceGuid, Name: SPACE, AllowSSH: true },
        ...overrides,
      };
      writeFileSync(join(cfHome, '.cf', 'config.json'), JSON.stringify(config, null, 2), { mode: 0o600 });
    };
    writeCfConfig();
    return { dir, tls, netns, db, container, foundation, app, cfHome, writeCfConfig, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
