// Live throughput from the engine's cumulative counters: each `stats` event is a sample, and the
// rate is the difference between two successive samples over the time between them.
import type { ProfileView } from '../../app/shared/contract.js';

type ForwardStats = ProfileView['stats'][number];

export interface StatsSample {
  /** When the sample arrived, in ms. */
  at: number;
  forwards: ForwardStats[];
}

export interface ForwardRate {
  /** Bytes/s from clients towards the target. */
  up: number;
  /** Bytes/s from the target back to clients. */
  down: number;
  active: number;
}

const perSecond = (delta: number, seconds: number) => (delta > 0 ? delta / seconds : 0);

/**
 * One rate per forward of `next`. With no earlier sample, or counters that went backwards (the
 * engine restarted the forward), the rate is 0 rather than a made-up spike.
 */
export function forwardRates(prev: StatsSample | undefined, next: StatsSample): ForwardRate[] {
  const seconds = prev ? (next.at - prev.at) / 1000 : 0;
  return next.forwards.map((f, i) => {
    const before = prev?.forwards[i];
    if (!before || seconds <= 0) return { up: 0, down: 0, active: f.active };
    return { up: perSecond(f.bytesToTarget - before.bytesToTarget, seconds), down: perSecond(f.bytesFromTarget - before.bytesFromTarget, seconds), active: f.active };
  });
}

export function totalRate(rates: readonly ForwardRate[]): ForwardRate {
  return rates.reduce((sum, r) => ({ up: sum.up + r.up, down: sum.down + r.down, active: sum.active + r.active }), { up: 0, down: 0, active: 0 });
}

export const bothWays = (r: ForwardRate): number => r.up + r.down;
