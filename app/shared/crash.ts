// What a Tunnelvision process prints when a bug crashes it (an uncaught exception, a rejected
// promise nobody handled): Node's own report would inspect the error, its properties and its cause
// chain, or a rejected value whatever it is, and a bug's error can carry a profile, a prompt
// answer or a token there. This report is made of names, messages and stack frames only, with
// every secret the process was handed replaced, and the process still exits.

const REDACTED = '[redacted]';
/** Shorter values are not taken as secrets: redacting them would garble every line. */
const MIN_SECRET_LENGTH = 4;
const MAX_CAUSES = 3;

const secrets = new Set<string>();

/** A secret this process now holds (a stored password, a prompt answer): never printed by a crash report. */
export function rememberSecret(value: unknown): void {
  if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

/** A secret that is spent or replaced (a redeemed one-time code, an old access token): the set stays as large as what is live. */
export function forgetSecret(value: unknown): void {
  if (typeof value === 'string') secrets.delete(value);
}

export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
  return out;
}

function describeOne(value: unknown): { head: string; frames: string[] } {
  if (!(value instanceof Error)) {
    // Never inspected: a rejected object may be a whole profile with its password.
    return { head: `a thrown or rejected ${value === null ? 'null' : typeof value} value (not an Error; its content is not shown)`, frames: [] };
  }
  const raw = (value as { code?: unknown }).code;
  const code = typeof raw === 'string' ? ` [${raw}]` : '';
  const frames = (typeof value.stack === 'string' ? value.stack.split('\n') : []).filter((line) => /^\s+at /.test(line));
  return { head: `${value.name}${code}: ${value.message}`, frames };
}

const KINDS = { exception: '; an uncaught exception', rejection: '; an unhandled promise rejection', error: '' } as const;

/** The report's text: what was thrown, where, and its causes, by name and message only. */
export function crashReport(program: string, kind: keyof typeof KINDS, value: unknown): string {
  const first = describeOne(value);
  const lines = [`${program}: internal error (a bug in Tunnelvision${KINDS[kind]}): ${first.head}`, ...first.frames];
  let cause = value instanceof Error ? value.cause : undefined;
  for (let i = 0; i < MAX_CAUSES && cause !== undefined; i++) {
    lines.push(`  caused by: ${describeOne(cause).head}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  lines.push('Please report this with the command you ran; no password, passphrase or token is in this report.');
  return `${redact(lines.join('\n'))}\n`;
}

/**
 * Replaces Node's report for uncaught exceptions and unhandled rejections in this process with
 * crashReport on stderr, then exits with `exitCode` (the tunnels' sockets close with the process).
 */
export function installCrashReport(program: string, exitCode: number): void {
  const crash = (kind: 'exception' | 'rejection') => (value: unknown) => {
    try {
      process.stderr.write(crashReport(program, kind, value));
    } finally {
      process.exit(exitCode);
    }
  };
  process.on('uncaughtException', crash('exception'));
  process.on('unhandledRejection', crash('rejection'));
}
