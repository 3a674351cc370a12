import { describe, expect, it } from 'vitest';
import { formatBytes, formatRate, secondsLeft, summarizeState } from '../../renderer/src/format.js';
import { forwardRates, totalRate } from '../../renderer/src/throughput.js';
import { stats, wire } from './fixtures.js';

describe('throughput', () => {
  it('is the byte difference between successive samples over the time between them', () => {
    const prev = { at: 1_000, forwards: [stats({ bytesToTarget: 100, bytesFromTarget: 1_000, active: 1 })] };
    const next = { at: 3_000, forwards: [stats({ bytesToTarget: 300, bytesFromTarget: 5_000, active: 2 })] };
    expect(forwardRates(prev, next)).toEqual([{ up: 100, down: 2_000, active: 2 }]);
  });

  it('is 0 for the first sample and when counters go backwards (a restarted forward)', () => {
    const next = { at: 2_000, forwards: [stats({ bytesToTarget: 500, active: 1 })] };
    expect(forwardRates(undefined, next)).toEqual([{ up: 0, down: 0, active: 1 }]);
    const prev = { at: 1_000, forwards: [stats({ bytesToTarget: 9_000 })] };
    expect(forwardRates(prev, next)[0]!.up).toBe(0);
  });

  it('is 0 for a forward the previous sample did not have, and for samples at the same instant', () => {
    const prev = { at: 1_000, forwards: [stats()] };
    expect(forwardRates(prev, { at: 2_000, forwards: [stats(), stats({ bytesToTarget: 50 })] })[1]).toEqual({ up: 0, down: 0, active: 0 });
    expect(forwardRates(prev, { at: 1_000, forwards: [stats({ bytesToTarget: 50 })] })[0]!.up).toBe(0);
  });

  it('adds forwards up for the SSH connection', () => {
    expect(totalRate([{ up: 1, down: 2, active: 1 }, { up: 3, down: 4, active: 2 }])).toEqual({ up: 4, down: 6, active: 3 });
  });
});

describe('formatting', () => {
  it('keeps rates to three significant digits in SI units', () => {
    expect(formatRate(0)).toBe('0 B/s');
    expect(formatRate(999)).toBe('999 B/s');
    expect(formatRate(1_234)).toBe('1.23 kB/s');
    expect(formatRate(12_345)).toBe('12.3 kB/s');
    expect(formatRate(123_456)).toBe('123 kB/s');
    expect(formatRate(999_999)).toBe('1.00 MB/s');
    expect(formatBytes(-5)).toBe('0 B');
  });

  it('counts down whole seconds to the next attempt, never below zero', () => {
    expect(secondsLeft(10_000, 7_100)).toBe(3);
    expect(secondsLeft(10_000, 12_000)).toBe(0);
  });

  it('summarizes each state for the list', () => {
    const err = wire('CONNECT_REFUSED', 'Connection refused by 127.0.0.1:2222.', '127.0.0.1:2222');
    expect(summarizeState({ state: 'stopped' }, 0)).toEqual({ tone: 'idle', label: 'stopped' });
    expect(summarizeState({ state: 'connecting', attempt: 1 }, 0).label).toBe('connecting');
    expect(summarizeState({ state: 'connecting', attempt: 3 }, 0).label).toBe('connecting (attempt 3)');
    expect(summarizeState({ state: 'reconnecting', attempt: 2, delayMs: 4_000, error: err }, 1_500, 5_000)).toEqual({
      tone: 'warning',
      label: 'reconnecting in 4 s',
      detail: 'Connection refused by 127.0.0.1:2222.',
    });
    expect(summarizeState({ state: 'failed', error: wire('AUTH_FAILED', 'Permission denied.') }, 0)).toEqual({
      tone: 'failed',
      label: 'failed: authentication failed',
      detail: 'Permission denied.',
    });
  });
});
