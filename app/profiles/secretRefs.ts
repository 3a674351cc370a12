// A secret reference stays with the hop it was stored for. When a profile is saved over its previous
// version, a reference the previous version held survives only on an endpoint with the same host,
// port and user as the one that held it (a Cloud Foundry login: the same API and user). An edit that
// points a hop elsewhere, or moves hops around, then never sends one hop's secret to another.
import type { CloudFoundryProfile, Endpoint, Profile, SshProfile } from './schema.js';
import { cloudFoundrySecretUse, sameSecretUse, sameSshDestination } from './secretUse.js';

/** `next` with every reference removed that `previous` held for another destination. */
export function keepRefsInPlace<P extends Profile>(previous: Profile | undefined, next: P): P {
  if (!previous) return next;
  if (next.kind === 'cloudfoundry') return keepLoginRef(previous, next) as P;
  return keepHopRefs(previous, next) as P;
}

const endpoints = (p: Profile): Endpoint[] => (p.kind === 'ssh' ? [...p.jumps, p.server] : []);

function refsOf(e: Endpoint): string[] {
  const auth = e.auth;
  return auth.method === 'password' && auth.passwordRef ? [auth.passwordRef] : auth.method === 'key' && auth.passphraseRef ? [auth.passphraseRef] : [];
}

function keepHopRefs(previous: Profile, next: SshProfile): SshProfile {
  const holders = new Map<string, Endpoint[]>();
  for (const e of endpoints(previous)) for (const ref of refsOf(e)) holders.set(ref, [...(holders.get(ref) ?? []), e]);
  // A reference the previous version did not hold is new here: where it may be used is for the secret store to say.
  const allowed = (ref: string, e: Endpoint) => !holders.has(ref) || holders.get(ref)!.some((h) => sameSshDestination(h, e));
  const fix = (e: Endpoint): Endpoint => {
    const auth = e.auth;
    if (auth.method === 'password' && auth.passwordRef && !allowed(auth.passwordRef, e)) {
      const { passwordRef: _dropped, ...rest } = auth;
      return { ...e, auth: rest };
    }
    if (auth.method === 'key' && auth.passphraseRef && !allowed(auth.passphraseRef, e)) {
      const { passphraseRef: _dropped, ...rest } = auth;
      return { ...e, auth: rest };
    }
    return e;
  };
  return { ...next, server: fix(next.server), jumps: next.jumps.map(fix) };
}

function keepLoginRef(previous: Profile, next: CloudFoundryProfile): CloudFoundryProfile {
  const login = next.login;
  if (login.method !== 'password' || !login.refreshTokenRef || previous.kind !== 'cloudfoundry') return next;
  if (previous.login.method !== 'password' || previous.login.refreshTokenRef !== login.refreshTokenRef) return next;
  const before = cloudFoundrySecretUse(previous)!;
  if (sameSecretUse(before, cloudFoundrySecretUse(next)!)) return next;
  const { refreshTokenRef: _dropped, ...rest } = login;
  return { ...next, login: rest };
}
