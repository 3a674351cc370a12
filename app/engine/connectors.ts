// Which Connector a profile gets, by its kind.
import { userInfo } from 'node:os';
import type { SshProfile } from '../profiles/schema.js';
import { cloudFoundryConnector } from '../cloudfoundry/connector.js';
import { openSession, type HopInfo } from './session.js';
import type { Connector, HopSummary, TunnelOptions } from './tunnel.js';

export function connectorFor(opts: TunnelOptions): Connector {
  const { profile } = opts;
  if (profile.kind === 'cloudfoundry') return cloudFoundryConnector(profile, { prompter: opts.prompter ?? {}, secrets: opts.secrets });
  return sshConnector(profile, opts);
}

/** An SSH server, directly or through jump hosts; its forwards' targets are fixed. */
export function sshConnector(profile: SshProfile, opts: Pick<TunnelOptions, 'prompter' | 'secrets' | 'defaultUser'>): Connector {
  return {
    forwards: profile.forwards,
    async connect(signal) {
      const session = await openSession(
        {
          server: profile.server,
          jumps: profile.jumps,
          hostKey: profile.hostKey,
          keepalive: profile.keepalive,
          connectTimeoutMs: profile.connectTimeoutSeconds * 1000,
          ciphers: profile.ciphers,
          prompter: opts.prompter ?? {},
          secrets: opts.secrets,
          defaultUser: opts.defaultUser ?? userInfo().username,
        },
        signal,
      );
      return { session, hops: session.hops.map(hopSummary), dialHop: session.hops.at(-1)!.label };
    },
  };
}

export function hopSummary(h: HopInfo): HopSummary {
  return { label: h.label, ...(h.hostKey ? { hostKey: { type: h.hostKey.type, fingerprint: h.hostKey.fingerprint } } : {}) };
}
