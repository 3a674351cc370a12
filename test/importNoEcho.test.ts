// The page never sends a path, and nothing on the import path echoes what it was given: a private
// key or a file of secrets handed to import (as JSON or as ssh_config) comes back as "line N: …",
// never as one of its lines, in any result, error or event. Real key made by ssh-keygen.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIpcHandler } from '../app/host/ipcHandlers.js';
import { importSshConfigText } from '../app/profiles/sshConfig.js';
import { EngineService } from '../app/service/engineService.js';
import type { TunnelClient } from '../app/shared/contract.js';
import { makeKey } from './support/sshd.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-noecho-'));
let engine: EngineService;
const events: unknown[] = [];
const offs: Array<() => void> = [];

beforeAll(() => {
  engine = new EngineService({ configDir: join(dir, 'config') });
  const record = (p: unknown) => void events.push(p);
  offs.push(engine.on('profiles', record), engine.on('log', record), engine.on('state', record), engine.on('prompt', record));
});
afterAll(async () => {
  offs.forEach((off) => off());
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const SECRETS = ['DB_PASSWORD=correct-horse-battery-staple', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'export GITHUB_TOKEN=ghp_0123456789abcdefABCDEF0123456789abcd', 'Password hunter2-but-longer', ''].join('\n');

function files(): Array<[string, string]> {
  const key = makeKey(dir, 'id_ed25519');
  return [
    ['a private key', readFileSync(key.path, 'utf8')],
    ['a file of secrets', SECRETS],
  ];
}

/** Every line of the file worth hiding (the short ones are words like "export"), and its pieces. */
function leaks(text: string, seen: unknown): string[] {
  const haystack = JSON.stringify(seen);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length >= 8);
  const pieces = lines.flatMap((l) => l.split(/[\s=]+/)).filter((p) => p.length >= 12);
  return [...lines, ...pieces].filter((l) => haystack.includes(l) || haystack.includes(JSON.stringify(l).slice(1, -1)));
}

describe('a file picked by mistake', () => {
  it.each(files())('%s, reviewed and imported as JSON and as ssh_config: refused by line, no line of it in any result or event', async (_what, text) => {
    events.length = 0;
    const results = [await engine.reviewImport({ kind: 'profiles', text }), await engine.reviewImport({ kind: 'sshConfig', text })];
    expect(leaks(text, { results, events })).toEqual([]);
    expect(results[0]).toEqual({ ok: false, error: expect.stringMatching(/^Not valid JSON: line \d+, column \d+\.$/) });
    // Nothing saved, nothing announced.
    expect(await engine.listProfiles()).toEqual([]);
  });

  it('a private key as ssh_config names the line, not its content', () => {
    const key = readFileSync(makeKey(dir, 'id_other').path, 'utf8');
    const result = importSshConfigText(key);
    expect(result).toEqual({ ok: false, errors: [{ path: '', message: 'the ssh_config file: line 2: keyword without a value' }] });
  });

  it('a received ssh_config\'s Include lines are not followed, and the review says so', async () => {
    const included = join(dir, 'included.conf');
    writeFileSync(included, 'Host from-include\n  HostName 10.9.9.9\n  LocalForward 19999 db:5432\n');
    const text = `Include ${included}\nHost mine\n  HostName 10.1.1.1\n  LocalForward 18888 db:5432\n`;
    const reviewed = await engine.reviewImport({ kind: 'sshConfig', text });
    expect(reviewed).toMatchObject({ ok: true, review: { entries: [{ id: 'mine', action: 'add' }], notes: [expect.stringMatching(/^1 Include line was not followed/)] } });
    expect(await engine.listProfiles()).toEqual([]);
  });
});

describe('the page never sends a path', () => {
  const handler = () => createIpcHandler({ client: engine as unknown as TunnelClient, appUrl: 'file:///app/index.html' });

  it.each([
    ['reviewImport', ['/root/.ssh/id_ed25519']],
    ['reviewImport', [{ kind: 'sshConfig', path: '/root/.ssh/id_ed25519' }]],
    ['reviewImport', [{ kind: 'sshConfig', text: 'Host a', path: '/root/.ssh/id_ed25519' }]],
    ['reviewImport', [{ kind: 'ownSshConfig', path: '/root/.ssh/id_ed25519' }]],
    ['applyImport', [{ path: '/root/.ssh/id_ed25519' }]],
  ] as const)('%s(%j) is refused by argument validation', async (method, args) => {
    const r = await handler()(method, 'file:///app/index.html', [...args]);
    expect(r).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', message: expect.stringMatching(new RegExp(`^Invalid arguments for ${method}`)) } });
    expect(JSON.stringify(r)).not.toContain('PRIVATE KEY');
  });

  it('applyImport takes a review id, not content: a path there reads nothing', async () => {
    const r = await handler()('applyImport', 'file:///app/index.html', ['/root/.ssh/id_ed25519']);
    expect(r).toMatchObject({ ok: true, value: { ok: false, error: expect.stringMatching(/^This import review is no longer open/) } });
    expect(await engine.listProfiles()).toEqual([]);
  });
});
