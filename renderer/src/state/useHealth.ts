// Health of open tunnels: one probe when a session opens (keyed by its `since`), and one more each
// time the person asks. No timer: a window left open does not keep knocking on a database.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { TunnelClient } from '../../../app/shared/contract.js';
import { probedForwardIndex, type Health } from '../health.js';
import type { AppState } from './reducer.js';

export function useHealth(client: TunnelClient, state: AppState): [Record<string, Health>, (profileId: string) => void] {
  const [health, setHealth] = useState<Record<string, Health>>({});
  /** The session each profile was last probed for, so a re-render never probes again. */
  const probedFor = useRef(new Map<string, number>());

  const probe = useCallback(
    (profileId: string, since: number, index: number) => {
      probedFor.current.set(profileId, since);
      setHealth((h) => ({ ...h, [profileId]: { since, status: 'checking' } }));
      const keep = (next: Health) => setHealth((h) => (h[profileId]?.since === since ? { ...h, [profileId]: next } : h));
      client.probe(profileId, index).then(
        (result) => keep({ since, status: 'done', result }),
        (err: unknown) => keep({ since, status: 'error', message: err instanceof Error ? err.message : String(err) }),
      );
    },
    [client],
  );

  useEffect(() => {
    for (const id of state.order) {
      const entry = state.entries[id]!;
      if (entry.state.state !== 'open') {
        probedFor.current.delete(id);
        continue;
      }
      if (probedFor.current.get(id) === entry.state.since) continue;
      const index = probedForwardIndex(entry.profile);
      if (index !== undefined) probe(id, entry.state.since, index);
    }
  }, [state.order, state.entries, probe]);

  const recheck = useCallback(
    (profileId: string) => {
      const entry = state.entries[profileId];
      if (entry?.state.state !== 'open') return;
      const index = probedForwardIndex(entry.profile);
      if (index !== undefined) probe(profileId, entry.state.since, index);
    },
    [state.entries, probe],
  );

  return [health, recheck];
}
