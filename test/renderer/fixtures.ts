// Profiles for the view-logic tests, parsed by the real schema so defaults are as the engine sees them.
import type { SshProfile } from '../../app/profiles/schema.js';
import { parseProfile } from '../../app/profiles/validate.js';
import type { ErrorCode } from '../../app/shared/errors.js';

export function profile(input: Record<string, unknown>): SshProfile {
  const parsed = parseProfile({ kind: 'ssh', id: 'db', name: 'Database', server: { host: 'bastion.example.com' }, forwards: [{ type: 'local', bindPort: 13306, targetHost: '10.0.4.12', targetPort: 3306 }], ...input });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  if (parsed.value.kind !== 'ssh') throw new Error('not an SSH profile');
  return parsed.value;
}

export const wire = (code: ErrorCode, message: string, hop?: string) => ({ name: 'TunnelError', code, message, ...(hop ? { hop } : {}) });

export const stats = (over: Partial<{ active: number; total: number; failed: number; bytesToTarget: number; bytesFromTarget: number; lastError: ReturnType<typeof wire> }> = {}) => ({
  active: 0,
  total: 0,
  failed: 0,
  bytesToTarget: 0,
  bytesFromTarget: 0,
  ...over,
});
