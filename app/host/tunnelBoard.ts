// What the tray and the notifications show, kept apart from Electron: every saved profile with its
// current state, and a notice when a tunnel drops, comes back, or fails for good.
import type { EventPayload, TunnelClient } from '../shared/contract.js';
import { Emitter } from '../shared/emitter.js';
import { describeError } from '../shared/errors.js';

type State = EventPayload<'state'>['state'];

export interface BoardItem {
  profileId: string;
  name: string;
  state: State['state'];
  /** One line for a menu: the name and what the tunnel is doing. */
  label: string;
  /** Checked in the menu: toggling it stops the tunnel; unchecked, toggling starts it. */
  running: boolean;
}

export interface Notice {
  kind: 'drop' | 'recover' | 'fail';
  profileId: string;
  title: string;
  body: string;
}

const RUNNING = new Set<State['state']>(['connecting', 'open', 'reconnecting']);

export function describeState(state: State): string {
  switch (state.state) {
    case 'stopped':
      return 'stopped';
    case 'connecting':
      return 'connecting…';
    case 'open':
      return `open (${state.forwards.map((f) => f.bindPort).join(', ')})`;
    case 'reconnecting':
      return `reconnecting in ${Math.ceil(state.delayMs / 1000)} s`;
    case 'failed':
      return `failed: ${state.error.code}`;
    case 'closed':
      return 'closed';
  }
}

/**
 * The notice a change from `prev` to `next` deserves, if any. `dropped` says the tunnel went down
 * after being open and has not been open since: only then is an `open` a recovery, however many
 * connecting/reconnecting states came between.
 */
export function noticeFor(profileId: string, name: string, prev: State | undefined, next: State, dropped: boolean): Notice | undefined {
  if (next.state === 'reconnecting' && prev?.state === 'open') {
    return { kind: 'drop', profileId, title: `${name} dropped`, body: `${describeError(next.error)} Reconnecting.` };
  }
  if (next.state === 'open' && dropped) {
    return { kind: 'recover', profileId, title: `${name} is back`, body: `Open again on ${next.forwards.map((f) => `${f.bindHost}:${f.bindPort}`).join(', ')}.` };
  }
  if (next.state === 'failed') return { kind: 'fail', profileId, title: `${name} failed`, body: describeError(next.error) };
  return undefined;
}

export class TunnelBoard extends Emitter<{ changed: () => void; notice: (notice: Notice) => void }> {
  private readonly names = new Map<string, string>();
  private readonly states = new Map<string, State>();
  private readonly dropped = new Set<string>();
  private readonly offs: Array<() => void>;

  constructor(private readonly client: TunnelClient) {
    super();
    this.offs = [
      client.on('state', ({ profileId, state }) => {
        const notice = noticeFor(profileId, this.names.get(profileId) ?? profileId, this.states.get(profileId), state, this.dropped.has(profileId));
        this.states.set(profileId, state);
        if (notice?.kind === 'drop') this.dropped.add(profileId);
        else if (!RUNNING.has(state.state) || state.state === 'open') this.dropped.delete(profileId);
        this.emit('changed');
        if (notice) this.emit('notice', notice);
      }),
      client.on('profiles', () => void this.refresh().catch(() => {})),
    ];
  }

  /** Reads every profile and its state again (at start, and when profiles change). */
  async refresh(): Promise<void> {
    const views = await this.client.listProfiles();
    this.names.clear();
    for (const v of views) this.names.set(v.profile.id, v.profile.name);
    for (const id of this.states.keys()) if (!this.names.has(id)) this.states.delete(id);
    for (const v of views) this.states.set(v.profile.id, v.state);
    this.emit('changed');
  }

  items(): BoardItem[] {
    return [...this.names].map(([profileId, name]) => {
      const state = this.states.get(profileId) ?? { state: 'stopped' as const };
      return { profileId, name, state: state.state, label: `${name} — ${describeState(state)}`, running: RUNNING.has(state.state) };
    });
  }

  dispose(): void {
    for (const off of this.offs) off();
  }
}
