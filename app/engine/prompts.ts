// What the engine may ask a person while connecting. The host decides how to ask: the CLI on its
// TTY or through SSH_ASKPASS, the desktop app in a modal dialog. Resolving null means "cancelled".
import type { SecretUse } from '../profiles/secretUse.js';
import type { HostKeyQuestion } from './hostKeys.js';

export interface KeyboardInteractiveQuestion {
  hop: string;
  name: string;
  instructions: string;
  prompts: Array<{ prompt: string; echo: boolean }>;
}

export interface Prompter {
  hostKey?(q: HostKeyQuestion): Promise<boolean>;
  passphrase?(q: { hop: string; keyFile: string; retry: boolean }): Promise<string | null>;
  password?(q: { hop: string; user: string; retry: boolean }): Promise<string | null>;
  keyboardInteractive?(q: KeyboardInteractiveQuestion): Promise<string[] | null>;
}

/**
 * Looks up a secret by the reference a profile holds, for the use it is about to be sent to
 * (desktop: safeStorage, which answers only when the secret was stored for that same use).
 */
export type SecretResolver = (ref: string, use: SecretUse) => Promise<string | undefined>;

/**
 * Keeps a secret the engine obtained by itself (a Cloud Foundry refresh token) under a reference
 * (desktop: safeStorage, through main). `stored: false` says why it lives in memory only.
 */
export interface SecretKeeper {
  set(ref: string, value: string, use: SecretUse): Promise<{ stored: true } | { stored: false; reason: string }>;
  delete(ref: string): Promise<void>;
}
