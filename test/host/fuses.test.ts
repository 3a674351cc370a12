// The packaged binary's fuses, read from electron-builder.yml. No YAML parser is installed, so the
// block is read strictly: a top-level `electronFuses:` key, then two-space `name: true|false` lines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const yml = readFileSync(new URL('../../electron-builder.yml', import.meta.url), 'utf8');

function fuses(text: string): Record<string, boolean> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^electronFuses:\s*$/.test(l));
  if (start < 0) throw new Error('electron-builder.yml has no top-level electronFuses block');
  const out: Record<string, boolean> = {};
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const m = /^ {2}([A-Za-z]+): (true|false)\s*$/.exec(line);
    if (!m) {
      if (/^\S/.test(line)) break;
      throw new Error(`unexpected line in electronFuses: ${line}`);
    }
    if (Object.hasOwn(out, m[1]!)) throw new Error(`${m[1]} appears twice`);
    out[m[1]!] = m[2] === 'true';
  }
  return out;
}

describe('electron-builder fuses', () => {
  it('turn off Node as a back door and load only the signed asar', () => {
    expect(fuses(yml)).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('asar stays on (onlyLoadAppFromAsar and integrity need it)', () => {
    expect(yml).not.toMatch(/^asar:\s*false/m);
  });
});
