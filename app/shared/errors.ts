// Errors that cross process boundaries as plain data. An expected failure (a person can act on it:
// wrong password, port taken, host key changed) has a code and reads well; anything else is a bug
// and travels as INTERNAL with its message, never as a stack in front of the user.

export const ERROR_CODES = {
  // Fatal: retrying cannot help until a person changes something.
  AUTH_FAILED: { fatal: true },
  HOST_KEY_CHANGED: { fatal: true },
  HOST_KEY_REVOKED: { fatal: true },
  HOST_KEY_REJECTED: { fatal: true },
  BIND_NOT_PERMITTED: { fatal: true },
  PORT_IN_USE: { fatal: true },
  CONFIG_INVALID: { fatal: true },
  PROMPT_CANCELLED: { fatal: true },
  KEY_UNREADABLE: { fatal: true },
  /** A jump host refuses to forward to the next hop (AllowTcpForwarding, PermitOpen). */
  FORWARDING_FORBIDDEN: { fatal: true },
  /** A known_hosts file the engine may not write to (not a known_hosts file, or a link out of its folder). */
  KNOWN_HOSTS_UNSAFE: { fatal: true },
  /** Plain http or unverified TLS where credentials would travel, without the profile's explicit opt-in. */
  INSECURE_TRANSPORT: { fatal: true },
  // Transient: the network or the server may come back.
  DNS: { fatal: false },
  CONNECT_REFUSED: { fatal: false },
  CONNECT_TIMEOUT: { fatal: false },
  HOST_UNREACHABLE: { fatal: false },
  CONNECTION_LOST: { fatal: false },
  PROTOCOL: { fatal: false },
  CHANNEL_REFUSED: { fatal: false },
  REMOTE_FORWARD_REFUSED: { fatal: false },
  TARGET_REFUSED: { fatal: false },
  INTERNAL: { fatal: false },
} as const satisfies Record<string, { fatal: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The shape every error takes on the wire (IPC, `--json`, logs). */
export interface WireError {
  name: string;
  code: ErrorCode;
  message: string;
  /** The hop that failed, e.g. `bastion.example.com:22`, when the failure belongs to one. */
  hop?: string;
}

export class TunnelError extends Error {
  override name = 'TunnelError';
  readonly code: ErrorCode;
  readonly hop: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hop?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.hop = options.hop;
  }

  get fatal(): boolean {
    return ERROR_CODES[this.code].fatal;
  }
}

export function isFatal(err: unknown): boolean {
  return err instanceof TunnelError && err.fatal;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof TunnelError) {
    return { name: err.name, code: err.code, message: err.message, ...(err.hop ? { hop: err.hop } : {}) };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, code: 'INTERNAL', message: e.message };
}

/** The one line a person reads: which hop, what happened. */
export function describeError(err: Pick<WireError, 'message' | 'hop'>): string {
  return err.hop && !err.message.includes(err.hop) ? `${err.hop}: ${err.message}` : err.message;
}
