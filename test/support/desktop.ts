// The desktop app's Node side, as main wires it, for tests: a real SecretStore over a stand-in
// safeStorage, an EngineHost running the real engine process, and captureSecrets. One harness per
// test file; its dispose() shuts every host down and ends whatever a failed test left running.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineHost, type EngineHostOptions } from '../../app/host/engineHost.js';
import { captureSecrets } from '../../app/host/secretCapture.js';
import { SecretStore } from '../../app/host/secretStore.js';
import type { TunnelClient } from '../../app/shared/contract.js';
import { FakeSafeStorage } from '../host/fakeSafeStorage.js';
import { forkSpawner, type ForkSpawner } from '../host/forkSpawner.js';
import { nextEvent } from './events.js';
import { freePort } from './net.js';
import { waitForExit } from './proc.js';
import type { TestSsh2Server } from './ssh2Server.js';

export const ENGINE_ENTRY = new URL('../../dist/app/service/engineProcess.js', import.meta.url).pathname;

export type Refusal = Parameters<NonNullable<EngineHostOptions['onRefusedSecret']>>[0];

export function desktopHarness(dir: () => string) {
  const hosts: EngineHost[] = [];
  const spawners: ForkSpawner[] = [];
  return {
    /** A fresh app: its own config folder, secret store, engine host and secret capture. */
    start(env: NodeJS.ProcessEnv = {}) {
      const configDir = mkdtempSync(join(dir(), 'cfg-'));
      const spawn = forkSpawner({ TUNNELVISION_CONFIG_DIR: configDir, ...env });
      spawners.push(spawn);
      const secrets = new SecretStore({ file: join(configDir, 'secrets.json'), safeStorage: new FakeSafeStorage(), confirmPlainStorage: async () => false });
      const refused: Refusal[] = [];
      const host = new EngineHost({ entry: ENGINE_ENTRY, spawn, secrets, onRefusedSecret: (r) => refused.push(r) });
      hosts.push(host);
      const stored: string[] = [];
      const capture = captureSecrets(host.client, secrets, (profileId, result) => result.stored && stored.push(profileId));
      return { host, client: host.client, secrets, refused, stored, capture, configDir };
    },
    async dispose() {
      await Promise.all(hosts.map((h) => h.shutdown()));
      for (const child of spawners.flatMap((s) => s.children)) {
        const exited = waitForExit(child);
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** A known_hosts file in `dir` that trusts exactly `server`'s key. */
export function knownHostsFor(dir: string, name: string, server: TestSsh2Server): string {
  const file = join(dir, name);
  writeFileSync(file, server.knownHostsLine());
  return file;
}

/** A profile that logs in to `server` as alice with the password stored under `passwordRef`. */
export async function passwordProfile(id: string, server: TestSsh2Server, passwordRef: string, knownHostsFile: string) {
  return {
    id,
    name: id,
    server: { host: '127.0.0.1', port: server.port, user: 'alice', auth: { method: 'password', passwordRef } },
    hostKey: { strict: 'yes', knownHostsFiles: [knownHostsFile] },
    forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: 9 }],
  };
}

/** Starts a profile, waits until it is open or failed, stops it, and says which. */
export async function runUntilSettled(client: TunnelClient, profileId: string): Promise<string> {
  const settled = nextEvent(client, 'state', (s) => s.profileId === profileId && ['open', 'failed'].includes(s.state.state));
  await client.start(profileId);
  const state = (await settled).state.state;
  await client.stop(profileId);
  return state;
}
