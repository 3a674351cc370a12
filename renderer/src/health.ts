// The health indicator of an open tunnel: which forward to probe, and how a probe's outcome reads.
// A probe runs when the tunnel opens (once per session) and when the person asks; never on a timer.
import type { Profile } from '../../app/profiles/schema.js';
import type { ProbeResult } from '../../app/shared/contract.js';
import { hintedForwardIndex } from './connectionStrings.js';
import { shortReason, type Tone } from './format.js';

export type Health =
  | { since: number; status: 'checking' }
  | { since: number; status: 'done'; result: ProbeResult }
  /** The probe itself could not run (the tunnel closed meanwhile, the engine went away). */
  | { since: number; status: 'error'; message: string };

/** The forward the indicator is about: the client hint's, else the first one this machine listens on. */
export function probedForwardIndex(profile: Profile): number | undefined {
  if (profile.kind === 'cloudfoundry') return 0;
  const hinted = hintedForwardIndex(profile);
  if (hinted >= 0 && profile.forwards[hinted]?.type === 'local') return hinted;
  const first = profile.forwards.findIndex((f) => f.type !== 'remote');
  return first >= 0 ? first : undefined;
}

export interface HealthSummary {
  tone: Tone;
  /** "Checking…", "MariaDB 10.11.6", "Reachable", "Failing: target refused". */
  label: string;
  /** "12 ms through 127.0.0.1:13306", or the full reason of a failure. */
  detail?: string;
  /** The server's own version string, for a tooltip. */
  title?: string;
}

const PROBE_REASONS: Partial<Record<string, string>> = {
  PROTOCOL: 'unexpected answer',
  CONNECT_TIMEOUT: 'no answer (timeout)',
};

export function summarizeHealth(health: Health | undefined): HealthSummary {
  if (!health || health.status === 'checking') return { tone: 'pending', label: 'Checking…' };
  if (health.status === 'error') return { tone: 'failed', label: 'Not checked', detail: health.message };
  const r = health.result;
  if (!r.ok) return { tone: 'failed', label: `Failing: ${PROBE_REASONS[r.error.code] ?? shortReason(r.error.code)}`, detail: r.error.message };
  const how = `${Math.round(r.ms)} ms through ${r.endpoint}`;
  if (r.check === 'mysql') return { tone: 'ok', label: r.server ?? 'MySQL answers', detail: how, ...(r.serverVersion ? { title: `Server version ${r.serverVersion}` } : {}) };
  return { tone: 'ok', label: 'Reachable', detail: `the tunnel carried a connection: ${how}` };
}
