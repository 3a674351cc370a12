// The window ⇄ main leg of the contract without Electron: main's handler (sender check, argument
// validation, envelope) and the preload's client (envelope unwrapped into coded errors, events
// validated on arrival), joined by a stand-in for Electron's IPC that copies every message with
// structured clone as Electron does. Behind main sits a real EngineService.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIpcClient, type IpcRendererLike } from '../../app/host/ipcClient.js';
import { createIpcHandler, forwardEvents, isAppUrl } from '../../app/host/ipcHandlers.js';
import { EngineService } from '../../app/service/engineService.js';
import { CHANNEL_PREFIX, eventChannel, type MethodName, type TunnelClient } from '../../app/shared/contract.js';
import { TunnelError } from '../../app/shared/errors.js';

const APP_URL = pathToFileURL('/opt/Tunnelvision/resources/app.asar/out/renderer/index.html').href;

let dir: string;
let engine: EngineService;
const answers: Array<[string, unknown]> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-ipc-'));
  engine = new EngineService({ configDir: dir });
});
afterAll(async () => {
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** One window: its URL, the IPC between it and main, and main's event relay into it. */
function windowAt(url: string) {
  const handler = createIpcHandler({ client: engine, appUrl: APP_URL, onAnswer: (id, a) => answers.push([id, a]) });
  const toWindow = new EventEmitter();
  const ipc: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      const method = channel.slice(`${CHANNEL_PREFIX}:call:`.length) as MethodName;
      return structuredClone(await handler(method, url, structuredClone(args)));
    },
    on: (channel, listener) => toWindow.on(channel, listener),
    removeListener: (channel, listener) => toWindow.removeListener(channel, listener),
  };
  const send = (channel: string, payload: unknown) => toWindow.emit(channel, {}, structuredClone(payload));
  const stopRelay = forwardEvents(engine, send);
  return { client: createIpcClient(ipc), send, toWindow, stopRelay, handler };
}

const profile = (id: string) => ({ id, name: `P ${id}`, server: { host: 'db.example' }, forwards: [{ type: 'local', bindPort: 15432, targetHost: 'db', targetPort: 5432 }] });

describe('IPC between window and main', () => {
  it('accepts calls from the app page only, whatever its route', () => {
    expect(isAppUrl(`${APP_URL}#/profiles/db`, APP_URL)).toBe(true);
    expect(isAppUrl(`${APP_URL}?x=1`, APP_URL)).toBe(true);
    expect(isAppUrl(pathToFileURL('/tmp/evil/index.html').href, APP_URL)).toBe(false);
    expect(isAppUrl('https://example.com/out/renderer/index.html', APP_URL)).toBe(false);
    expect(isAppUrl('about:blank', APP_URL)).toBe(false);
    expect(isAppUrl(undefined, APP_URL)).toBe(false);
    expect(isAppUrl('not a url', APP_URL)).toBe(false);
  });

  it('carries calls and results through envelopes, validated on both sides', async () => {
    const { client, stopRelay } = windowAt(APP_URL);
    expect(await client.listProfiles()).toEqual([]);
    const saved = await client.saveProfile(profile('db'));
    expect(saved).toMatchObject({ ok: true, profile: { id: 'db', forwards: [{ bindPort: 15432 }] } });
    const invalid = await client.saveProfile({ ...profile('bad'), forwards: [] });
    expect(invalid).toEqual({ ok: false, errors: [{ path: 'forwards', message: 'needs at least one forward' }] });
    expect((await client.listProfiles()).map((v) => v.profile.id)).toEqual(['db']);
    stopRelay();
  });

  it('turns failures into thrown errors that keep their code', async () => {
    const { client, stopRelay } = windowAt(APP_URL);
    const err = await client.start('no-such').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TunnelError);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', message: 'There is no saved profile "no-such".' });
    const raw = client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    await expect(raw.start!(42)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('Invalid arguments for start') });
    await expect(raw.deleteProfile!('x'.repeat(65))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(raw.answerPrompt!('id', { not: 'an answer' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    stopRelay();
  });

  it('refuses a sender that is not the app page, before looking at its arguments', async () => {
    const { client, handler, stopRelay } = windowAt('https://attacker.example/');
    await expect(client.listProfiles()).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: 'Calls are accepted from the Tunnelvision window only.' });
    expect(await handler('start', 'https://attacker.example/', [42])).toEqual({
      ok: false,
      error: { name: 'TunnelError', code: 'CONFIG_INVALID', message: 'Calls are accepted from the Tunnelvision window only.' },
    });
    expect(await handler('nope' as MethodName, APP_URL, [])).toMatchObject({ ok: false, error: { message: 'There is no operation "nope".' } });
    stopRelay();
  });

  it('shows valid prompt answers to main before the engine gets them', async () => {
    const { client, stopRelay } = windowAt(APP_URL);
    answers.length = 0;
    await expect(client.answerPrompt('unknown-id', 'secret')).rejects.toMatchObject({ message: 'That question was already answered or withdrawn.' });
    expect(answers).toEqual([['unknown-id', 'secret']]);
    stopRelay();
  });

  it('delivers events that fit the contract, drops those that do not, and unsubscribes', async () => {
    const { client, send, toWindow, stopRelay } = windowAt(APP_URL);
    const got: unknown[] = [];
    const off = (client as TunnelClient).on('profiles', (p) => got.push(p));
    await client.saveProfile(profile('cache'));
    expect(got).toEqual([{ ids: ['cache'] }]);
    send(eventChannel('profiles'), { ids: [42] });
    send(eventChannel('state'), { profileId: 'cache', state: { state: 'exploded' } });
    expect(got).toHaveLength(1);
    off();
    expect(toWindow.listenerCount(eventChannel('profiles'))).toBe(0);
    await client.deleteProfile('cache');
    expect(got).toHaveLength(1);
    expect(() => (client as TunnelClient).on('nope' as 'profiles', () => {})).toThrow(/no event/);
    stopRelay();
  });

  it('reports an answer from main that is not an envelope as a protocol error', async () => {
    const client = createIpcClient({ invoke: async () => 'surprise', on: () => {}, removeListener: () => {} });
    await expect(client.listProfiles()).rejects.toMatchObject({ code: 'PROTOCOL' });
    const wrongShape = createIpcClient({ invoke: async () => ({ ok: true, value: [{ nope: 1 }] }), on: () => {}, removeListener: () => {} });
    await expect(wrongShape.listProfiles()).rejects.toMatchObject({ code: 'PROTOCOL' });
  });
});
