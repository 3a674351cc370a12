// Which authentication attempts to make, in OpenSSH's order, producing ssh2 auth objects lazily so
// a passphrase or password is asked for only when the server gets that far.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, KeyboardInteractiveCallback, ParsedKey } from 'ssh2';
import type { Auth } from '../profiles/schema.js';
import type { SecretUse } from '../profiles/secretUse.js';
import { TunnelError } from '../shared/errors.js';
import { stripControls } from '../shared/terminalText.js';
import type { Prompter, SecretResolver } from './prompts.js';

const MAX_PASSPHRASE_TRIES = 3;
const MAX_PASSWORD_TRIES = 3;
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function expandHome(path: string): string {
  return path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

type Attempt =
  | { kind: 'agent'; socket: string }
  | { kind: 'key'; file: string; passphraseRef?: string | undefined; explicit: boolean }
  | { kind: 'keyboard-interactive' }
  | { kind: 'password'; passwordRef?: string | undefined };

const SSH_METHOD: Record<Attempt['kind'], AuthenticationType> = {
  agent: 'publickey',
  key: 'publickey',
  'keyboard-interactive': 'keyboard-interactive',
  password: 'password',
};

export function planAttempts(auth: Auth, env: NodeJS.ProcessEnv = process.env): Attempt[] {
  const agentSocket = ('agentSocket' in auth && auth.agentSocket) || env.SSH_AUTH_SOCK;
  switch (auth.method) {
    case 'agent':
      if (!agentSocket) throw new TunnelError('AUTH_FAILED', 'Agent authentication needs an SSH agent, but SSH_AUTH_SOCK is not set.');
      return [{ kind: 'agent', socket: agentSocket }];
    case 'key':
      return auth.keyFiles.map((file) => ({ kind: 'key', file: expandHome(file), passphraseRef: auth.passphraseRef, explicit: true }));
    case 'password':
      return [{ kind: 'password', passwordRef: auth.passwordRef }];
    case 'keyboard-interactive':
      return [{ kind: 'keyboard-interactive' }];
    case 'auto': {
      const keyFiles = auth.keyFiles.length
        ? auth.keyFiles.map((file) => ({ file: expandHome(file), explicit: true }))
        : DEFAULT_IDENTITIES.map((name) => ({ file: join(homedir(), '.ssh', name), explicit: false })).filter((k) => existsSync(k.file));
      return [
        ...(agentSocket ? [{ kind: 'agent' as const, socket: agentSocket }] : []),
        ...keyFiles.map((k) => ({ kind: 'key' as const, ...k })),
        { kind: 'keyboard-interactive' },
        { kind: 'password' },
      ];
    }
  }
}

export interface AuthContext {
  hop: string;
  user: string;
  prompter: Prompter;
  secrets?: SecretResolver | undefined;
  /**
   * Where this hop's secrets go, host key included: a stored one is served only if it was kept for
   * this. Undefined until the server has proved its host key; then nothing stored is asked for.
   */
  use: () => SecretUse | undefined;
  /** Called while a person is being asked, so the handshake timeout does not count their typing. */
  onPrompt: (asking: boolean) => void;
}

/**
 * Builds ssh2's `authHandler`. Also records what was tried, so an auth failure can say so.
 * A cancelled prompt aborts the attempt with PROMPT_CANCELLED (surfaced through `aborted`).
 */
export function makeAuthHandler(attempts: Attempt[], ctx: AuthContext) {
  const tried: string[] = [];
  let aborted: TunnelError | undefined;
  let index = 0;
  let passwordTries = 0;

  async function ask<T>(fn: () => Promise<T>): Promise<T> {
    ctx.onPrompt(true);
    try {
      return await fn();
    } finally {
      ctx.onPrompt(false);
    }
  }

  async function storedSecret(ref: string | undefined): Promise<string | undefined> {
    const use = ctx.use();
    return ref && use ? ctx.secrets?.(ref, use) : undefined;
  }

  async function loadKey(attempt: Extract<Attempt, { kind: 'key' }>): Promise<ParsedKey | undefined> {
    let data: Buffer;
    try {
      data = await readFile(attempt.file);
    } catch (err) {
      if (attempt.explicit) {
        throw new TunnelError('KEY_UNREADABLE', `Cannot read key file ${attempt.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, { hop: ctx.hop });
      }
      return undefined;
    }
    let parsed = ssh2.utils.parseKey(data);
    if (!(parsed instanceof Error)) return first(parsed);
    if (!/passphrase/i.test(parsed.message)) {
      throw new TunnelError('KEY_UNREADABLE', `${attempt.file} is not a private key ssh2 can read (${parsed.message}).`, { hop: ctx.hop });
    }
    const stored = await storedSecret(attempt.passphraseRef);
    if (stored !== undefined) {
      parsed = ssh2.utils.parseKey(data, stored);
      if (!(parsed instanceof Error)) return first(parsed);
    }
    for (let tryNo = 0; tryNo < MAX_PASSPHRASE_TRIES; tryNo++) {
      if (!ctx.prompter.passphrase) return undefined;
      const passphrase = await ask(() => ctx.prompter.passphrase!({ hop: ctx.hop, keyFile: attempt.file, retry: tryNo > 0 || stored !== undefined }));
      if (passphrase === null) throw new TunnelError('PROMPT_CANCELLED', `Passphrase for ${attempt.file} was not given.`, { hop: ctx.hop });
      parsed = ssh2.utils.parseKey(data, passphrase);
      if (!(parsed instanceof Error)) return first(parsed);
    }
    throw new TunnelError('KEY_UNREADABLE', `Wrong passphrase for ${attempt.file} (${MAX_PASSPHRASE_TRIES} tries).`, { hop: ctx.hop });
  }

  async function password(attempt: Extract<Attempt, { kind: 'password' }>): Promise<string | undefined> {
    if (passwordTries === 0 && attempt.passwordRef) {
      const stored = await storedSecret(attempt.passwordRef);
      if (stored !== undefined) return stored;
    }
    if (!ctx.prompter.password) return undefined;
    const answer = await ask(() => ctx.prompter.password!({ hop: ctx.hop, user: ctx.user, retry: passwordTries > 0 }));
    if (answer === null) throw new TunnelError('PROMPT_CANCELLED', 'Password was not given.', { hop: ctx.hop });
    return answer;
  }

  const keyboardInteractive = (name: string, instructions: string, _lang: string, prompts: Array<{ prompt: string; echo?: boolean }>, finish: KeyboardInteractiveCallback) => {
    // Servers send an empty round before and after the real questions; answer those without asking.
    if (prompts.length === 0) return finish([]);
    if (!ctx.prompter.keyboardInteractive) return finish([]);
    void ask(() =>
      ctx.prompter.keyboardInteractive!({
        hop: ctx.hop,
        name: stripControls(name),
        instructions: stripControls(instructions),
        prompts: prompts.map((p) => ({ prompt: stripControls(p.prompt), echo: p.echo ?? false })),
      }),
    ).then(
      (answers) => {
        if (answers === null) {
          aborted = new TunnelError('PROMPT_CANCELLED', 'Keyboard-interactive authentication was cancelled.', { hop: ctx.hop });
          finish([]);
        } else {
          finish(answers);
        }
      },
      () => finish([]),
    );
  };

  async function next(methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | false> {
    while (index < attempts.length) {
      const attempt = attempts[index]!;
      if (methodsLeft && !methodsLeft.includes(SSH_METHOD[attempt.kind])) {
        index++;
        continue;
      }
      switch (attempt.kind) {
        case 'agent':
          index++;
          tried.push('agent');
          return { type: 'agent', username: ctx.user, agent: attempt.socket };
        case 'key': {
          index++;
          const key = await loadKey(attempt);
          if (!key) continue;
          tried.push(`key ${attempt.file}`);
          return { type: 'publickey', username: ctx.user, key };
        }
        case 'keyboard-interactive':
          index++;
          if (!ctx.prompter.keyboardInteractive) continue;
          tried.push('keyboard-interactive');
          return { type: 'keyboard-interactive', username: ctx.user, prompt: keyboardInteractive };
        case 'password': {
          if (passwordTries >= MAX_PASSWORD_TRIES) {
            index++;
            continue;
          }
          const pw = await password(attempt);
          passwordTries++;
          if (pw === undefined) {
            index++;
            continue;
          }
          if (!tried.includes('password')) tried.push('password');
          return { type: 'password', username: ctx.user, password: pw };
        }
      }
    }
    return false;
  }

  const handler: AuthHandlerMiddleware = (methodsLeft, _partial, nextAuth) => {
    // ssh2 takes `false` for "no more methods"; its typings leave that out.
    const callback = nextAuth as (method: AnyAuthMethod | false) => void;
    if (aborted) return callback(false);
    next(methodsLeft).then(callback, (err: unknown) => {
      aborted = err instanceof TunnelError ? err : new TunnelError('AUTH_FAILED', String(err), { hop: ctx.hop });
      callback(false);
    });
  };

  return {
    handler,
    get tried() {
      return tried;
    },
    get aborted() {
      return aborted;
    },
  };
}

function first(key: ParsedKey | ParsedKey[]): ParsedKey {
  return Array.isArray(key) ? key[0]! : key;
}
