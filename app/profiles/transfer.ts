// Import and export of profiles as JSON. Export carries no secrets (nor references to them: they
// mean nothing on another machine); import merges by id and says what it did with every entry.
import { PROFILE_FILE_VERSION, type Profile, type ProfileFile, type Auth } from './schema.js';
import { formatErrors, parseProfile } from './validate.js';

export interface ImportReport {
  added: string[];
  updated: string[];
  unchanged: string[];
  skipped: Array<{ entry: string; reason: string }>;
}

export function exportProfiles(profiles: readonly Profile[]): ProfileFile {
  return { version: PROFILE_FILE_VERSION, profiles: profiles.map(withoutSecrets) };
}

function withoutSecrets(p: Profile): Profile {
  if (p.kind === 'cloudfoundry') {
    // A refresh token is a login: it stays on the machine that made it.
    if (p.login.method === 'cf-cli') return p;
    const { refreshTokenRef: _dropped, ...login } = p.login;
    return { ...p, login };
  }
  const strip = <E extends { auth: Auth }>(e: E): E => {
    const auth = { ...e.auth } as Record<string, unknown>;
    delete auth.passwordRef;
    delete auth.passphraseRef;
    return { ...e, auth: auth as Auth };
  };
  return { ...p, server: strip(p.server), jumps: p.jumps.map(strip) };
}

/** Entries of a profile file, a bare array of profiles, or one profile. */
function entriesOf(data: unknown): unknown[] | undefined {
  if (Array.isArray(data)) return data;
  if (typeof data === 'object' && data !== null) {
    const obj = data as Record<string, unknown>;
    if (Array.isArray(obj.profiles)) return obj.profiles;
    if ('server' in obj || 'forwards' in obj || 'kind' in obj) return [obj];
  }
  return undefined;
}

/** Merges `text` (JSON) into `existing`; returns the new list and what happened to each entry. */
export function importProfiles(existing: readonly Profile[], text: string): { profiles: Profile[]; report: ImportReport } | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}` };
  }
  const entries = entriesOf(data);
  if (!entries) return { error: 'Not a Tunnelvision export: expected {"version":1,"profiles":[…]}, an array of profiles, or one profile.' };
  const byId = new Map(existing.map((p) => [p.id, p]));
  const report: ImportReport = { added: [], updated: [], unchanged: [], skipped: [] };
  entries.forEach((raw, i) => {
    const parsed = parseProfile(raw);
    const label = describeEntry(raw, i);
    if (!parsed.ok) {
      report.skipped.push({ entry: label, reason: formatErrors(parsed.errors).replace(/\n/g, '; ') });
      return;
    }
    const p = parsed.value;
    const before = byId.get(p.id);
    if (!before) report.added.push(p.id);
    else if (JSON.stringify(before) === JSON.stringify(p)) report.unchanged.push(p.id);
    else report.updated.push(p.id);
    byId.set(p.id, p);
  });
  return { profiles: [...byId.values()], report };
}

function describeEntry(raw: unknown, i: number): string {
  const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const name = typeof obj.id === 'string' ? obj.id : typeof obj.name === 'string' ? obj.name : undefined;
  return name ? `#${i + 1} (${name})` : `#${i + 1}`;
}
