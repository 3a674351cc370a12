// Import and export of profiles as JSON. Export carries no secrets (nor references to them: they
// mean nothing on another machine). Import trusts nothing it is handed: a received profile never
// brings a secret reference (it could name another profile's stored password and send it to its
// own host) and never starts by itself. It merges by id and says what it did with every entry.
import { jsonErrorPosition } from './jsonPosition.js';
import { PROFILE_FILE_VERSION, type Profile, type ProfileFile, type Auth, type Endpoint } from './schema.js';
import { formatErrors, parseProfile } from './validate.js';

export type ImportAction = 'add' | 'update' | 'unchanged';

export interface ImportReport {
  added: string[];
  updated: string[];
  unchanged: string[];
  skipped: Array<{ entry: string; reason: string }>;
  /** Per imported profile, the fields import cleared (`server.auth.passwordRef`, `autoStart`). */
  cleared: Array<{ id: string; fields: string[] }>;
}

/** One incoming profile as it will be saved, and what saving it does. */
export interface PlannedProfile {
  profile: Profile;
  action: ImportAction;
  /** Fields the file set that import cleared. */
  cleared: string[];
}

export interface ImportPlan {
  entries: PlannedProfile[];
  skipped: ImportReport['skipped'];
}

export function exportProfiles(profiles: readonly Profile[]): ProfileFile {
  return { version: PROFILE_FILE_VERSION, profiles: profiles.map((p) => withoutReferences(p).profile) };
}

function endpointWithoutReferences(e: Endpoint, field: string, cleared: string[]): Endpoint {
  const auth = { ...e.auth } as Record<string, unknown>;
  for (const key of ['passwordRef', 'passphraseRef']) {
    if (key in auth) {
      cleared.push(`${field}.auth.${key}`);
      delete auth[key];
    }
  }
  return { ...e, auth: auth as Auth };
}

/** The profile with every secret reference removed, and the fields that had one. */
function withoutReferences(p: Profile): { profile: Profile; cleared: string[] } {
  const cleared: string[] = [];
  if (p.kind === 'cloudfoundry') {
    // A refresh token is a login: it stays on the machine that made it.
    if (p.login.method === 'cf-cli' || p.login.refreshTokenRef === undefined) return { profile: p, cleared };
    const { refreshTokenRef: _dropped, ...login } = p.login;
    cleared.push('login.refreshTokenRef');
    return { profile: { ...p, login }, cleared };
  }
  const server = endpointWithoutReferences(p.server, 'server', cleared);
  const jumps = p.jumps.map((j, i) => endpointWithoutReferences(j, `jumps[${i}]`, cleared));
  return { profile: { ...p, server, jumps }, cleared };
}

/** What a received profile may bring: no references, and it starts only when the person starts it. */
export function sanitizeImported(p: Profile): { profile: Profile; cleared: string[] } {
  const { profile, cleared } = withoutReferences(p);
  if (!profile.autoStart) return { profile, cleared };
  return { profile: { ...profile, autoStart: false }, cleared: [...cleared, 'autoStart'] };
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

function parseJson(text: string): { data: unknown } | { error: string } {
  try {
    return { data: JSON.parse(text) as unknown };
  } catch {
    // JSON.parse's message quotes the text; the position is all a person needs to find the fault.
    const at = jsonErrorPosition(text);
    return { error: at ? `Not valid JSON: line ${at.line}, column ${at.column}.` : 'Not valid JSON.' };
  }
}

const same = (a: Profile, b: Profile) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What importing `text` (JSON) into `existing` would do, entry by entry, without doing it. An
 * existing profile that differs only by the fields import clears is left as it is (unchanged);
 * any other difference replaces it whole, so it keeps none of its references.
 */
export function planImport(existing: readonly Profile[], text: string): ImportPlan | { error: string } {
  const json = parseJson(text);
  if ('error' in json) return json;
  const entries = entriesOf(json.data);
  if (!entries) return { error: 'Not a Tunnelvision export: expected {"version":1,"profiles":[…]}, an array of profiles, or one profile.' };
  const byId = new Map(existing.map((p) => [p.id, p]));
  const planned = new Map<string, PlannedProfile>();
  const skipped: ImportReport['skipped'] = [];
  entries.forEach((raw, i) => {
    const parsed = parseProfile(raw);
    if (!parsed.ok) {
      skipped.push({ entry: describeEntry(raw, i), reason: formatErrors(parsed.errors).replace(/\n/g, '; ') });
      return;
    }
    const { profile, cleared } = sanitizeImported(parsed.value);
    const before = byId.get(profile.id);
    const action: ImportAction = !before ? 'add' : same(sanitizeImported(before).profile, profile) ? 'unchanged' : 'update';
    // A later entry with the same id wins, as it would have when saved one after another.
    planned.delete(profile.id);
    planned.set(profile.id, { profile: action === 'unchanged' ? before! : profile, action, cleared });
  });
  return { entries: [...planned.values()], skipped };
}

/** The saved list after `plan`, and what happened to each entry. */
export function applyPlan(existing: readonly Profile[], plan: ImportPlan): { profiles: Profile[]; report: ImportReport } {
  const byId = new Map(existing.map((p) => [p.id, p]));
  const report: ImportReport = { added: [], updated: [], unchanged: [], skipped: plan.skipped, cleared: [] };
  for (const { profile, action, cleared } of plan.entries) {
    ({ add: report.added, update: report.updated, unchanged: report.unchanged })[action].push(profile.id);
    if (cleared.length > 0) report.cleared.push({ id: profile.id, fields: cleared });
    byId.set(profile.id, profile);
  }
  return { profiles: [...byId.values()], report };
}

/**
 * What a plan does to the saved profiles: each incoming id, its action, and the saved profile it
 * would replace. A review is applied only while this is unchanged, so what the person confirmed is
 * what is saved, even if another window or the CLI saved a profile while they read it.
 */
export function planBasis(existing: readonly Profile[], plan: ImportPlan): string {
  const byId = new Map(existing.map((p) => [p.id, p]));
  return JSON.stringify(plan.entries.map((e) => [e.profile.id, e.action, byId.get(e.profile.id) ?? null]));
}

export const STALE_REVIEW = 'Your saved profiles changed since this import was reviewed, so it was not applied: review it again.';

/**
 * Merges `text` (JSON) into `existing`; returns the new list and what happened to each entry. With
 * `reviewed` (the basis the person saw), refuses if the merge would now do something else.
 */
export function importProfiles(existing: readonly Profile[], text: string, reviewed?: string): { profiles: Profile[]; report: ImportReport } | { error: string } {
  const plan = planImport(existing, text);
  if ('error' in plan) return plan;
  if (reviewed !== undefined && planBasis(existing, plan) !== reviewed) return { error: STALE_REVIEW };
  return applyPlan(existing, plan);
}

/** `#2 (db)`: the entry's id only when it is a valid id, so a skipped entry never echoes arbitrary text. */
function describeEntry(raw: unknown, i: number): string {
  const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  return typeof obj.id === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(obj.id) ? `#${i + 1} (${obj.id})` : `#${i + 1}`;
}
