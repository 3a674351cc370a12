// Remembers a password or key passphrase the person typed into a prompt, under the secret reference
// the profile names for that hop, but only once the tunnel opened with it: a mistyped password is
// never stored. It is stored for that hop's host, port and user and the host key that server proved,
// and served to nothing else. Where the store declines (no keyring, no consent) the secret served
// this connection only.
import { userInfo } from 'node:os';
import { sshSecretUse, type SecretUse } from '../profiles/secretUse.js';
import { hopLabel } from '../shared/address.js';
import type { EventPayload, PromptAnswer, TunnelClient } from '../shared/contract.js';
import type { SetResult } from './secretStore.js';

export interface SecretSink {
  set(ref: string, value: string, use: SecretUse): Promise<SetResult>;
}

type Typed = { kind: 'password' | 'passphrase'; hop: string; value: string };

export interface SecretCapture {
  /** Called with every prompt answer the window sends, before the engine gets it. */
  answered(promptId: string, answer: PromptAnswer): void;
  dispose(): void;
}

/** `defaultUser`: who a hop without a user logs in as; the engine, run by the same account, uses the same. */
export function captureSecrets(client: TunnelClient, sink: SecretSink, onResult: (profileId: string, result: SetResult) => void, defaultUser = userInfo().username): SecretCapture {
  const prompts = new Map<string, { profileId: string; kind: Typed['kind']; hop: string }>();
  const typed = new Map<string, Typed>();

  const offPrompt = client.on('prompt', (p) => {
    if (p.kind === 'password' || p.kind === 'passphrase') prompts.set(p.id, { profileId: p.profileId, kind: p.kind, hop: p.hop });
  });
  const offDone = client.on('promptDone', ({ id }) => prompts.delete(id));
  const offState = client.on('state', ({ profileId, state }) => {
    const secret = typed.get(profileId);
    if (!secret) return;
    if (state.state === 'open') {
      typed.delete(profileId);
      void remember(profileId, secret, state);
    } else if (state.state !== 'connecting' && state.state !== 'reconnecting') {
      typed.delete(profileId);
    }
  });

  async function remember(profileId: string, secret: Typed, open: Extract<EventPayload<'state'>['state'], { state: 'open' }>): Promise<void> {
    const profile = (await client.listProfiles()).find((v) => v.profile.id === profileId)?.profile;
    // Only SSH profiles name secrets per hop; other kinds keep theirs their own way.
    if (!profile || !('server' in profile)) return;
    // Hops are reported first jump first, server last: the same order as the profile's endpoints.
    // A prompt names its hop only by label, and two hops can share one (a jump host's network may
    // call another machine by the same user@host:port): then nobody can tell which one it was typed for.
    const matching = open.hops.flatMap((h, i) => (h.label === secret.hop ? [i] : []));
    if (matching.length !== 1) return;
    const index = matching[0]!;
    const endpoint = [...profile.jumps, profile.server][index];
    // The key this server proved in the connection the secret was typed in; without one, nobody could later tell this server from another.
    const hostKey = open.hops[index]?.hostKey?.fingerprint;
    const auth = endpoint?.auth;
    const ref = secret.kind === 'password' ? (auth?.method === 'password' ? auth.passwordRef : undefined) : auth?.method === 'key' ? auth.passphraseRef : undefined;
    // The profile may have been saved again since the tunnel started: keep the secret only if this endpoint is still the hop it was typed for.
    if (!endpoint || hopLabel({ ...endpoint, user: endpoint.user ?? defaultUser }) !== secret.hop) return;
    if (ref && hostKey) onResult(profileId, await sink.set(ref, secret.value, sshSecretUse(endpoint, defaultUser, hostKey)));
  }

  return {
    answered(promptId, answer) {
      const prompt = prompts.get(promptId);
      if (prompt && typeof answer === 'string') typed.set(prompt.profileId, { kind: prompt.kind, hop: prompt.hop, value: answer });
    },
    dispose() {
      offPrompt();
      offDone();
      offState();
      typed.clear();
    },
  };
}
