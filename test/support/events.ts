// The first contract event that matches: what tests await instead of sleeping.
import type { EventName, EventPayload, TunnelEvents } from '../../app/shared/contract.js';

export function nextEvent<E extends EventName>(client: TunnelEvents, event: E, pred: (p: EventPayload<E>) => boolean): Promise<EventPayload<E>> {
  return new Promise((resolve) => {
    const off = client.on(event, (p) => {
      if (pred(p)) {
        off();
        resolve(p);
      }
    });
  });
}
