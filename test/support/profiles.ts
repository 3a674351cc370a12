import { parseProfile } from '../../app/profiles/validate.js';
import type { Profile } from '../../app/profiles/schema.js';
import type { Sshd } from './sshd.js';

/** A valid profile for a test sshd: key auth with the harness key, known_hosts from the harness. */
export function profileFor(sshd: Sshd, overrides: Record<string, unknown> = {}): Profile {
  const parsed = parseProfile({
    id: 'test',
    name: 'test',
    server: { host: sshd.host, port: sshd.port, user: sshd.user, auth: { method: 'key', keyFiles: [sshd.clientKey.path] } },
    hostKey: { strict: 'yes', knownHostsFiles: [sshd.writeKnownHosts()] },
    reconnect: { enabled: false },
    ...overrides,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}
