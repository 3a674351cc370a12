// The layering rules are lint rules; prove they fire, so a wrong import fails npm test.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

async function messagesFor(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering', () => {
  it('app/ may not import electron', async () => {
    expect(await messagesFor('app/engine/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toEqual([expect.stringContaining('app/ is Electron-free')]);
  });

  it.each([
    ["import { readFile } from 'node:fs';", 'renderer/ may not use Node built-ins'],
    ["import { readFile } from 'fs';", 'renderer/ may not use Node built-ins'],
    ["import { Client } from 'ssh2';", 'renderer/ talks to the engine only through the typed contract'],
    ["import { ipcRenderer } from 'electron';", 'renderer/ talks to main only through the preload contract'],
    ["import { Tunnel } from '../app/engine/tunnel.js';", 'renderer/ may import only app/shared contract types'],
  ])('renderer/ may not: %s', async (line, message) => {
    const messages = await messagesFor('renderer/src/x.tsx', `${line}\nexport const used = [${line.match(/\{ (\w+) \}/)![1]}];\n`);
    expect(messages).toEqual([expect.stringContaining(message)]);
  });

  it('renderer/ may use the shared contract', async () => {
    expect(await messagesFor('renderer/src/x.tsx', "import { METHOD_NAMES } from '../../app/shared/contract.js';\nexport const m = METHOD_NAMES;\n")).toEqual([]);
  });
});
