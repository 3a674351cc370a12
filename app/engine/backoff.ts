import type { ReconnectPolicy } from '../profiles/schema.js';

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so many tunnels
 * dropped by one network blip do not all reconnect in the same instant, and none waits near zero.
 */
export function nextDelayMs(attempt: number, policy: ReconnectPolicy, random: () => number): number {
  const step = Math.min(policy.maxDelaySeconds, policy.initialDelaySeconds * 2 ** (attempt - 1)) * 1000;
  return Math.round(step / 2 + (step / 2) * random());
}
