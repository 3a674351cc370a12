// Everything the window knows about the engine, as one immutable value updated by one pure
// function: the profile list from listProfiles, then the live events. The countdown and the
// throughput need arrival times, so every action carries its own `at`.
import type { EventPayload, ProfileView, PromptRequest } from '../../../app/shared/contract.js';
import type { Profile } from '../../../app/profiles/schema.js';
import { forwardRates, type ForwardRate, type StatsSample } from '../throughput.js';

export type TunnelState = ProfileView['state'];
export type ForwardStats = ProfileView['stats'][number];
export type LogEntry = EventPayload<'log'>['entry'];

export interface ProfileEntry {
  profile: Profile;
  state: TunnelState;
  /** When `state` arrived: a reconnect countdown runs from here. */
  stateAt: number;
  stats: ForwardStats[];
  sample?: StatsSample;
  rates: ForwardRate[];
}

export interface AppState {
  loaded: boolean;
  /** Profile ids in the engine's order. */
  order: string[];
  entries: Record<string, ProfileEntry>;
  logs: Record<string, LogEntry[]>;
  /** Open questions, oldest first; the first one is on screen. */
  prompts: PromptRequest[];
}

export type Action =
  | { type: 'profiles'; views: ProfileView[]; at: number }
  | { type: 'state'; profileId: string; state: TunnelState; at: number }
  | { type: 'stats'; profileId: string; forwards: ForwardStats[]; at: number }
  | { type: 'log'; profileId: string; entry: LogEntry }
  | { type: 'prompt'; request: PromptRequest }
  | { type: 'promptDone'; id: string };

/** Enough to read what just happened; older lines go, so a chatty tunnel cannot grow the window. */
export const LOG_LIMIT = 500;

export const initialState: AppState = { loaded: false, order: [], entries: {}, logs: {}, prompts: [] };

const sameState = (a: TunnelState, b: TunnelState) => JSON.stringify(a) === JSON.stringify(b);

function withState(entry: ProfileEntry, state: TunnelState, at: number): ProfileEntry {
  if (sameState(entry.state, state)) return entry;
  // Rates are differences between samples of one session; a new state starts them afresh.
  const fresh = state.state === 'open' ? {} : { rates: entry.rates.map((r) => ({ ...r, up: 0, down: 0, active: 0 })) };
  const { sample: _dropped, ...rest } = entry;
  return { ...rest, ...fresh, state, stateAt: at };
}

export function reduce(s: AppState, a: Action): AppState {
  switch (a.type) {
    case 'profiles': {
      const entries: Record<string, ProfileEntry> = {};
      for (const v of a.views) {
        const old = s.entries[v.profile.id];
        entries[v.profile.id] = old
          ? { ...withState(old, v.state, a.at), profile: v.profile, stats: v.stats }
          : { profile: v.profile, state: v.state, stateAt: a.at, stats: v.stats, rates: v.stats.map((f) => ({ up: 0, down: 0, active: f.active })) };
      }
      return { ...s, loaded: true, order: a.views.map((v) => v.profile.id), entries };
    }
    case 'state': {
      const entry = s.entries[a.profileId];
      if (!entry) return s;
      return { ...s, entries: { ...s.entries, [a.profileId]: withState(entry, a.state, a.at) } };
    }
    case 'stats': {
      const entry = s.entries[a.profileId];
      if (!entry) return s;
      const sample = { at: a.at, forwards: a.forwards };
      const next = { ...entry, stats: a.forwards, sample, rates: forwardRates(entry.sample, sample) };
      return { ...s, entries: { ...s.entries, [a.profileId]: next } };
    }
    case 'log': {
      const lines = [...(s.logs[a.profileId] ?? []), a.entry].slice(-LOG_LIMIT);
      return { ...s, logs: { ...s.logs, [a.profileId]: lines } };
    }
    case 'prompt':
      return s.prompts.some((p) => p.id === a.request.id) ? s : { ...s, prompts: [...s.prompts, a.request] };
    case 'promptDone':
      return { ...s, prompts: s.prompts.filter((p) => p.id !== a.id) };
  }
}

/** Every group and tag in use, sorted, for the filters. */
export function facets(s: AppState): { groups: string[]; tags: string[] } {
  const groups = new Set<string>();
  const tags = new Set<string>();
  for (const id of s.order) {
    const p = s.entries[id]!.profile;
    if (p.group) groups.add(p.group);
    p.tags.forEach((t) => tags.add(t));
  }
  const sorted = (set: Set<string>) => [...set].sort((x, y) => x.localeCompare(y));
  return { groups: sorted(groups), tags: sorted(tags) };
}

export interface Filter {
  search: string;
  group: string;
  tag: string;
}

/** Search matches name, id, group, tags, hosts and forward ports, case-insensitively. */
export function matches(p: Profile, f: Filter): boolean {
  if (f.group && p.group !== f.group) return false;
  if (f.tag && !p.tags.includes(f.tag)) return false;
  const q = f.search.trim().toLowerCase();
  if (!q) return true;
  const where = p.kind === 'ssh' ? [p.server.host, ...p.jumps.map((j) => j.host), ...p.forwards.map((fw) => String(fw.bindPort))] : [p.app, p.org, p.space, p.service ?? '', String(p.local.bindPort)];
  const hay = [p.name, p.id, p.group ?? '', ...p.tags, ...where]
    .join('\n')
    .toLowerCase();
  return q.split(/\s+/).every((word) => hay.includes(word));
}
