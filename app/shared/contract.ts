// The one contract between the UI and the engine. The renderer calls it through preload, main
// relays it to the engine's utility process, and the engine implements it; each hop validates what
// it receives with these schemas. Channel names derive from the method and event names here, so no
// side can invent a channel.
import { z } from 'zod';
import { profileSchema } from '../profiles/schema.js';
import { ERROR_CODES, type ErrorCode } from './errors.js';

// Plain-data mirrors of the engine's runtime types, validated wherever they arrive.
export const wireErrorSchema = z.object({
  name: z.string(),
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  hop: z.string().optional(),
});

const hopSummarySchema = z.object({
  label: z.string(),
  hostKey: z.object({ type: z.string(), fingerprint: z.string() }).optional(),
});

const openForwardSchema = z.object({
  index: z.number().int(),
  type: z.enum(['local', 'remote', 'dynamic']),
  label: z.string(),
  bindHost: z.string(),
  bindPort: z.number().int(),
  targetHost: z.string().optional(),
  targetPort: z.number().int().optional(),
  /** Connection details for a known service behind the forward (Cloud Foundry); never with a password. */
  service: z
    .object({ name: z.string(), host: z.string(), user: z.string().optional(), database: z.string().optional(), command: z.string(), uri: z.string(), jdbcUrl: z.string() })
    .optional(),
});

export const tunnelStateSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('stopped') }),
  z.object({ state: z.literal('connecting'), attempt: z.number().int() }),
  z.object({ state: z.literal('open'), since: z.number(), hops: z.array(hopSummarySchema), forwards: z.array(openForwardSchema) }),
  z.object({ state: z.literal('reconnecting'), attempt: z.number().int(), delayMs: z.number(), error: wireErrorSchema }),
  z.object({ state: z.literal('failed'), error: wireErrorSchema }),
  z.object({ state: z.literal('closed') }),
]);

export const forwardStatsSchema = z.object({
  active: z.number().int(),
  total: z.number().int(),
  failed: z.number().int(),
  bytesToTarget: z.number(),
  bytesFromTarget: z.number(),
  lastError: wireErrorSchema.optional(),
});

export const logEntrySchema = z.object({
  time: z.number(),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string(),
});

/** A question the engine needs a person to answer; the answer goes back through answerPrompt. */
export const promptRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hostKey'), id: z.string(), profileId: z.string(), hop: z.string(), keyType: z.string(), fingerprint: z.string(), otherTypes: z.array(z.string()) }),
  z.object({ kind: z.literal('passphrase'), id: z.string(), profileId: z.string(), hop: z.string(), keyFile: z.string(), retry: z.boolean() }),
  z.object({ kind: z.literal('password'), id: z.string(), profileId: z.string(), hop: z.string(), user: z.string(), retry: z.boolean() }),
  z.object({
    kind: z.literal('keyboardInteractive'),
    id: z.string(),
    profileId: z.string(),
    hop: z.string(),
    name: z.string(),
    instructions: z.string(),
    prompts: z.array(z.object({ prompt: z.string(), echo: z.boolean() })),
  }),
]);

/** `null` cancels the question; host keys take a boolean, the others text. */
export const promptAnswerSchema = z.union([z.null(), z.boolean(), z.string(), z.array(z.string())]);

export const fieldErrorSchema = z.object({ path: z.string(), message: z.string() });

export const profileViewSchema = z.object({
  profile: profileSchema,
  state: tunnelStateSchema,
  stats: z.array(forwardStatsSchema),
});

const skippedSchema = z.array(z.object({ entry: z.string(), reason: z.string() }));

export const importReportSchema = z.object({
  added: z.array(z.string()),
  updated: z.array(z.string()),
  unchanged: z.array(z.string()),
  skipped: skippedSchema,
  /** Per imported profile, the fields import cleared: secret references and autoStart. */
  cleared: z.array(z.object({ id: z.string(), fields: z.array(z.string()) })),
});

/**
 * What to import. Never a path: the page only hands over the content of a file the person picked
 * (the browser's own file chooser), or asks for the person's own ~/.ssh/config, which the engine reads.
 */
export const importSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('profiles'), text: z.string().max(10_000_000) }),
  z.strictObject({ kind: z.literal('sshConfig'), text: z.string().max(1_000_000) }),
  z.strictObject({ kind: z.literal('ownSshConfig') }),
]);

export const importReviewSchema = z.object({
  entries: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      action: z.enum(['add', 'update', 'unchanged']),
      destination: z.string(),
      findings: z.array(z.object({ kind: z.string(), level: z.enum(['warning', 'info']), field: z.string(), message: z.string() })),
    }),
  ),
  skipped: skippedSchema,
  notes: z.array(z.string()),
});

const id = z.string().min(1).max(64);

const probeCheckSchema = z.enum(['tcp', 'mysql']);

/**
 * A health check through an open tunnel: a real connection to a forward's local end. `mysql` reads
 * the server's greeting (its version in `server`: "MariaDB 10.11.6"); `tcp` sees the tunnel carry
 * the connection. A failure is data, with a code (TARGET_REFUSED, CONNECT_TIMEOUT, PROTOCOL…).
 */
export const probeResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), endpoint: z.string(), check: probeCheckSchema, ms: z.number(), server: z.string().optional(), serverVersion: z.string().optional() }),
  z.object({ ok: z.literal(false), endpoint: z.string(), check: probeCheckSchema, error: wireErrorSchema }),
]);

/** A service's connection strings with its password in them, for one explicit "copy with password". */
export const servicePasswordSchema = z.object({
  password: z.string(),
  command: z.string().optional(),
  uri: z.string().optional(),
  jdbcUrl: z.string().optional(),
});

/**
 * Every call: its argument tuple and its result. Results that can fail expectedly say so in data
 * (`ok: false` with field errors); anything thrown crosses as a WireError.
 */
export const methods = {
  listProfiles: { args: z.tuple([]), result: z.array(profileViewSchema) },
  saveProfile: {
    args: z.tuple([z.unknown()]),
    result: z.union([z.object({ ok: z.literal(true), profile: profileSchema }), z.object({ ok: z.literal(false), errors: z.array(fieldErrorSchema) })]),
  },
  deleteProfile: { args: z.tuple([id]), result: z.object({ deleted: profileSchema.optional() }) },
  /**
   * What importing `source` would do, per profile, with its security-relevant fields; saves nothing.
   * The engine keeps what it reviewed under `reviewId` for applyImport.
   */
  reviewImport: {
    args: z.tuple([importSourceSchema]),
    result: z.union([z.object({ ok: z.literal(true), reviewId: z.string(), review: importReviewSchema }), z.object({ ok: z.literal(false), error: z.string() })]),
  },
  /**
   * Saves exactly what reviewImport showed under `reviewId` (once), after the person confirmed it;
   * refused if the saved profiles changed meanwhile so that it would now do something else.
   */
  applyImport: {
    args: z.tuple([z.string().min(1).max(64)]),
    result: z.union([z.object({ ok: z.literal(true), report: importReportSchema }), z.object({ ok: z.literal(false), error: z.string() })]),
  },
  exportProfiles: { args: z.tuple([z.array(id).optional()]), result: z.string() },
  start: { args: z.tuple([id]), result: z.void() },
  stop: { args: z.tuple([id]), result: z.void() },
  /** Skip the backoff wait of one tunnel, or of all (wake from sleep, network change). */
  retryNow: { args: z.tuple([id.optional()]), result: z.void() },
  answerPrompt: { args: z.tuple([z.string().min(1).max(64), promptAnswerSchema]), result: z.void() },
  /** One health check of an open tunnel's forward (by index), through the tunnel. */
  probe: { args: z.tuple([id, z.number().int().min(0).max(1000)]), result: probeResultSchema },
  /**
   * The password of the service behind an open Cloud Foundry tunnel, from the current session's
   * credentials, with the connection strings that contain it. Only on an explicit request; never in
   * an event or a log line.
   */
  revealServicePassword: { args: z.tuple([id]), result: servicePasswordSchema },
  /** Starts the built-in demo server and returns the id of its saved profile. */
  startDemo: { args: z.tuple([]), result: id },
} as const;

export const events = {
  state: z.object({ profileId: id, state: tunnelStateSchema }),
  stats: z.object({ profileId: id, forwards: z.array(forwardStatsSchema) }),
  log: z.object({ profileId: id, entry: logEntrySchema }),
  prompt: promptRequestSchema,
  /** A question was answered or withdrawn (the attempt ended): close its dialog. */
  promptDone: z.object({ id: z.string() }),
  /** Saved profiles changed (by this window, another window, the CLI or an import). */
  profiles: z.object({ ids: z.array(id) }),
} as const;

export type MethodName = keyof typeof methods;
export type EventName = keyof typeof events;
export type MethodArgs<M extends MethodName> = z.input<(typeof methods)[M]['args']>;
export type MethodResult<M extends MethodName> = z.output<(typeof methods)[M]['result']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** The service as callers see it: one async function per method. */
export type TunnelService = { [M in MethodName]: (...args: MethodArgs<M>) => Promise<MethodResult<M>> };

/** Subscribing returns the unsubscribe. */
export type TunnelEvents = { on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void };

export type TunnelClient = TunnelService & TunnelEvents;

export const CHANNEL_PREFIX = 'tunnelvision';
export const methodChannel = (m: MethodName) => `${CHANNEL_PREFIX}:call:${m}`;
export const eventChannel = (e: EventName) => `${CHANNEL_PREFIX}:event:${e}`;
export const METHOD_NAMES = Object.keys(methods) as MethodName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export type PromptRequest = z.output<typeof promptRequestSchema>;
export type PromptAnswer = z.output<typeof promptAnswerSchema>;
export type ProfileView = z.output<typeof profileViewSchema>;
export type ProbeResult = z.output<typeof probeResultSchema>;
export type ImportReport = z.output<typeof importReportSchema>;
export type ImportSource = z.output<typeof importSourceSchema>;
export type ImportReviewData = z.output<typeof importReviewSchema>;
