// Numbers and states as people read them. Every formatter returns text of a stable shape, so the
// fixed-width, tabular-nums slots they fill never jump while the numbers change.
import type { ProfileView } from '../../app/shared/contract.js';

type TunnelState = ProfileView['state'];

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** SI units, like network tools: 1 kB = 1000 B. Three significant digits at most. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 99.95 ? 0 : value >= 9.995 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export const formatRate = (bytesPerSecond: number): string => `${formatBytes(bytesPerSecond)}/s`;

export const formatConnections = (n: number): string => `${n} conn`;

/** Whole seconds left, never below 0: "reconnecting in 0 s" reads better than a negative number. */
export function secondsLeft(until: number, now: number): number {
  return Math.max(0, Math.ceil((until - now) / 1000));
}

export function formatClock(time: number): string {
  const d = new Date(time);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export type Tone = 'idle' | 'pending' | 'ok' | 'warning' | 'failed';

export interface StateSummary {
  tone: Tone;
  /** Short, for a badge. */
  label: string;
  /** The reason, when the state has one. */
  detail?: string;
}

/**
 * `reconnectAt` is when the backoff ends, taken from when the state arrived; `now` drives the
 * countdown.
 */
export function summarizeState(state: TunnelState, now: number, reconnectAt?: number): StateSummary {
  switch (state.state) {
    case 'stopped':
    case 'closed':
      return { tone: 'idle', label: 'stopped' };
    case 'connecting':
      return { tone: 'pending', label: state.attempt > 1 ? `connecting (attempt ${state.attempt})` : 'connecting' };
    case 'open':
      return { tone: 'ok', label: 'open' };
    case 'reconnecting':
      return {
        tone: 'warning',
        label: `reconnecting in ${secondsLeft(reconnectAt ?? now + state.delayMs, now)} s`,
        detail: state.error.message,
      };
    case 'failed':
      return { tone: 'failed', label: `failed: ${shortReason(state.error.code)}`, detail: state.error.message };
  }
}

const REASONS: Record<string, string> = {
  AUTH_FAILED: 'authentication failed',
  HOST_KEY_CHANGED: 'host key changed',
  HOST_KEY_REVOKED: 'host key revoked',
  HOST_KEY_REJECTED: 'host key rejected',
  BIND_NOT_PERMITTED: 'bind not permitted',
  PORT_IN_USE: 'port in use',
  CONFIG_INVALID: 'invalid settings',
  PROMPT_CANCELLED: 'cancelled',
  KEY_UNREADABLE: 'key unreadable',
  DNS: 'DNS lookup failed',
  CONNECT_REFUSED: 'connection refused',
  CONNECT_TIMEOUT: 'timed out',
  HOST_UNREACHABLE: 'unreachable',
  CONNECTION_LOST: 'connection lost',
  PROTOCOL: 'SSH protocol error',
  CHANNEL_REFUSED: 'channel refused',
  REMOTE_FORWARD_REFUSED: 'remote forward refused',
  TARGET_REFUSED: 'target refused',
  INTERNAL: 'internal error',
};

/** A few words for an error code; the full message goes next to it where there is room. */
export function shortReason(code: string): string {
  return REASONS[code] ?? code.toLowerCase().replaceAll('_', ' ');
}

export function isActive(state: TunnelState): boolean {
  return state.state === 'connecting' || state.state === 'open' || state.state === 'reconnecting';
}
