// Reusing the cf CLI's login: `cf login` leaves tokens in $CF_HOME/.cf/config.json (CF_HOME
// defaults to the home directory), so someone already logged in needs no password here.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../profiles/store.js';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CfCliLogin {
  file: string;
  target: string;
  accessToken?: string;
  refreshToken: string;
}

export type CfCliLookup = { ok: true; login: CfCliLogin } | { ok: false; reason: string };

const SUPPORTED_VERSIONS = new Set([3, 4]);

export function cfConfigFile(cfHome?: string): string {
  return join(cfHome ?? process.env.CF_HOME ?? homedir(), '.cf', 'config.json');
}

/** `https://API.example.com/` and `https://api.example.com` are the same target. */
export function sameApi(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u);
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
    } catch {
      return u.replace(/\/+$/, '').toLowerCase();
    }
  };
  return norm(a) === norm(b);
}

/** The cf CLI's login for `api`, or why it cannot be used (said so a person knows what to run). */
export async function findCfCliLogin(api: string, cfHome?: string): Promise<CfCliLookup> {
  const file = cfConfigFile(cfHome);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? `the cf CLI has never logged in here (no ${file}): run \`cf login -a ${api}\`, or log in with a user name and password` : `cannot read ${file} (${code ?? String(err)})` };
  }
  let config: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    config = parsed as Record<string, unknown>;
  } catch (err) {
    // Not JSON.parse's message: it quotes the text around the fault, which may be part of a token.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    return { ok: false, reason: `${file} is not valid JSON${at ? ` (at character ${at})` : ''}` };
  }
  if (!SUPPORTED_VERSIONS.has(config.ConfigVersion as number)) {
    return { ok: false, reason: `${file} has ConfigVersion ${JSON.stringify(config.ConfigVersion)}; Tunnelvision reads versions 3 and 4 (cf CLI 6 to 8)` };
  }
  const target = typeof config.Target === 'string' ? config.Target : '';
  if (!target || !sameApi(target, api)) {
    return { ok: false, reason: `the cf CLI is logged in to ${target || 'no API'}, not ${api}: run \`cf login -a ${api}\`, or log in with a user name and password` };
  }
  const refreshToken = typeof config.RefreshToken === 'string' ? config.RefreshToken : '';
  if (!refreshToken) return { ok: false, reason: `the cf CLI is logged out of ${api}: run \`cf login -a ${api}\`` };
  const access = typeof config.AccessToken === 'string' ? config.AccessToken.replace(/^bearer\s+/i, '') : '';
  return { ok: true, login: { file, target, refreshToken, ...(access ? { accessToken: access } : {}) } };
}

/**
 * After UAA rotated the refresh token, writes the new tokens back as the cf CLI itself does after a
 * refresh; otherwise the cf CLI would be left holding a voided token. Left alone when the file no
 * longer holds the token we started from (someone ran `cf login` meanwhile). True when written.
 */
export async function updateCfCliTokens(file: string, previousRefresh: string, tokens: { refresh: string; access: string }): Promise<boolean> {
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  if (config.RefreshToken !== previousRefresh) return false;
  config.RefreshToken = tokens.refresh;
  config.AccessToken = `bearer ${tokens.access}`;
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
  return true;
}
