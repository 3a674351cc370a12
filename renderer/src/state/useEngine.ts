// The window's live view of the engine: the profile list, refreshed when profiles change, and the
// events folded in as they arrive.
import { useCallback, useEffect, useReducer } from 'react';
import type { TunnelClient } from '../../../app/shared/contract.js';
import { initialState, reduce, type AppState } from './reducer.js';

export function useEngine(client: TunnelClient, onError: (err: unknown) => void): [AppState, () => void] {
  const [state, dispatch] = useReducer(reduce, initialState);
  const refresh = useCallback(() => {
    client.listProfiles().then((views) => dispatch({ type: 'profiles', views, at: Date.now() }), onError);
  }, [client, onError]);

  useEffect(() => {
    const offs = [
      client.on('state', ({ profileId, state: s }) => dispatch({ type: 'state', profileId, state: s, at: Date.now() })),
      client.on('stats', ({ profileId, forwards }) => dispatch({ type: 'stats', profileId, forwards, at: Date.now() })),
      client.on('log', ({ profileId, entry }) => dispatch({ type: 'log', profileId, entry })),
      client.on('prompt', (request) => dispatch({ type: 'prompt', request })),
      client.on('promptDone', ({ id }) => dispatch({ type: 'promptDone', id })),
      client.on('profiles', refresh),
    ];
    refresh();
    return () => offs.forEach((off) => off());
  }, [client, refresh]);

  return [state, refresh];
}

/** The current time, ticking once a second while `ticking` (a countdown is on screen). */
export function useNow(ticking: boolean): number {
  const [now, setNow] = useReducer((_: number, t: number) => t, Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [ticking]);
  return ticking ? now : Date.now();
}
