import { describe, expect, it } from 'vitest';
import { LOG_LIMIT, facets, initialState, matches, reduce, type AppState } from '../../renderer/src/state/reducer.js';
import { profile, stats, wire } from './fixtures.js';

const db = profile({ group: 'Shop', tags: ['prod'] });
const web = profile({ id: 'web', name: 'Web admin', server: { host: 'web-bastion' }, tags: ['staging', 'prod'], forwards: [{ type: 'local', bindPort: 8080, targetHost: 'w', targetPort: 80 }] });

function loaded(): AppState {
  return reduce(initialState, {
    type: 'profiles',
    at: 0,
    views: [
      { profile: db, state: { state: 'stopped' }, stats: [stats()] },
      { profile: web, state: { state: 'stopped' }, stats: [stats()] },
    ],
  });
}

describe('window state', () => {
  it('computes throughput from successive stats events and forgets it on a state change', () => {
    let s = loaded();
    s = reduce(s, { type: 'state', profileId: 'db', at: 0, state: { state: 'open', since: 0, hops: [], forwards: [] } });
    s = reduce(s, { type: 'stats', profileId: 'db', at: 1_000, forwards: [stats({ bytesFromTarget: 1_000, active: 1 })] });
    s = reduce(s, { type: 'stats', profileId: 'db', at: 2_000, forwards: [stats({ bytesFromTarget: 5_000, active: 1 })] });
    expect(s.entries.db!.rates).toEqual([{ up: 0, down: 4_000, active: 1 }]);
    s = reduce(s, { type: 'state', profileId: 'db', at: 3_000, state: { state: 'reconnecting', attempt: 1, delayMs: 1_000, error: wire('CONNECTION_LOST', 'lost') } });
    expect(s.entries.db!.rates).toEqual([{ up: 0, down: 0, active: 0 }]);
    expect(s.entries.db!.sample).toBeUndefined();
    expect(s.entries.db!.stateAt).toBe(3_000);
  });

  it('keeps the countdown start when a refreshed list repeats the same state', () => {
    const reconnecting = { state: 'reconnecting' as const, attempt: 1, delayMs: 4_000, error: wire('CONNECTION_LOST', 'lost') };
    let s = reduce(loaded(), { type: 'state', profileId: 'db', at: 500, state: reconnecting });
    s = reduce(s, { type: 'profiles', at: 900, views: [{ profile: db, state: reconnecting, stats: [stats()] }] });
    expect(s.entries.db!.stateAt).toBe(500);
    expect(s.order).toEqual(['db']);
  });

  it('ignores events for profiles it does not know', () => {
    const s = loaded();
    expect(reduce(s, { type: 'state', profileId: 'gone', at: 0, state: { state: 'stopped' } })).toBe(s);
    expect(reduce(s, { type: 'stats', profileId: 'gone', at: 0, forwards: [] })).toBe(s);
  });

  it('keeps the last log lines only', () => {
    let s = loaded();
    for (let i = 0; i < LOG_LIMIT + 5; i++) s = reduce(s, { type: 'log', profileId: 'db', entry: { time: i, level: 'info', message: `line ${i}` } });
    expect(s.logs.db).toHaveLength(LOG_LIMIT);
    expect(s.logs.db![0]!.message).toBe('line 5');
  });

  it('queues prompts once each and drops them when done', () => {
    const prompt = { kind: 'password' as const, id: 'p1', profileId: 'db', hop: 'bastion:22', user: 'me', retry: false };
    let s = reduce(loaded(), { type: 'prompt', request: prompt });
    s = reduce(s, { type: 'prompt', request: prompt });
    expect(s.prompts).toHaveLength(1);
    s = reduce(s, { type: 'promptDone', id: 'p1' });
    expect(s.prompts).toEqual([]);
  });
});

describe('filters', () => {
  it('lists groups and tags in use', () => {
    expect(facets(loaded())).toEqual({ groups: ['Shop'], tags: ['prod', 'staging'] });
  });

  it('matches search words against names, hosts and ports, and filters by group and tag', () => {
    const none = { search: '', group: '', tag: '' };
    expect(matches(web, { ...none, search: 'admin 8080' })).toBe(true);
    expect(matches(web, { ...none, search: 'bastion' })).toBe(true);
    expect(matches(web, { ...none, search: 'mysql' })).toBe(false);
    expect(matches(web, { ...none, group: 'Shop' })).toBe(false);
    expect(matches(db, { ...none, group: 'Shop', tag: 'prod' })).toBe(true);
    expect(matches(db, { ...none, tag: 'staging' })).toBe(false);
  });
});
