// Every state a tunnel reports, with a cursor for waiting on them in order: timing is observed
// through the tunnel's own events, never through fixed sleeps.
import type { Tunnel, TunnelState } from '../../app/engine/tunnel.js';

export class States {
  readonly seen: Array<TunnelState & { at: number }> = [];
  private cursor = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly tunnel: Tunnel) {
    tunnel.on('state', (s) => {
      this.seen.push({ ...s, at: Date.now() });
      for (const w of [...this.waiting]) w();
    });
  }

  get names(): string[] {
    return this.seen.map((s) => s.state);
  }

  /** The first state after the one last returned that has this name and matches; rejects after timeoutMs. */
  next<K extends TunnelState['state']>(state: K, timeoutMs: number, where: (s: Extract<TunnelState, { state: K }>) => boolean = () => true): Promise<Extract<TunnelState, { state: K }> & { at: number }> {
    type Found = Extract<TunnelState, { state: K }> & { at: number };
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = this.cursor; i < this.seen.length; i++) {
          const s = this.seen[i]!;
          if (s.state === state && where(s as Found)) {
            this.cursor = i + 1;
            finish();
            resolve(s as Found);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no "${state}" state within ${timeoutMs} ms; states so far: ${JSON.stringify(this.seen)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiting.delete(check);
      };
      this.waiting.add(check);
      check();
    });
  }
}
