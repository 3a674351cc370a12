// The saved form of a tunnel: plain data, validated, versioned. The engine, the CLI, the desktop
// app and import/export all read this one schema; the runtime objects live in app/engine.
import { z } from 'zod';
import { hostNameProblem, isControl, unbracketHost } from './hostName.js';

export const PROFILE_FILE_VERSION = 1;
export const DEFAULT_BIND_HOST = '127.0.0.1';

const PORT_MESSAGE = 'must be 1–65535';

const port = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be a whole number' })
  .min(1, { error: PORT_MESSAGE })
  .max(65535, { error: PORT_MESSAGE });

/** A remote bind port may be 0: the server picks one and the engine reports it. */
const portOrZero = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be a whole number' })
  .min(0, { error: 'must be 0–65535 (0 lets the server choose)' })
  .max(65535, { error: 'must be 0–65535 (0 lets the server choose)' });

/** One grammar for every host (app/profiles/hostName.ts); `[v6]` is stored bare, as connections need it. */
/** `*` is OpenSSH's spelling of "every address" for a bind (as on the command line): stored as 0.0.0.0. */
const BIND_WILDCARD = '*';

const hostSchema = (acceptWildcard: boolean) =>
  z
    .string({ error: 'must be a host name or address' })
    .trim()
    .check((ctx) => {
      if (acceptWildcard && ctx.value === BIND_WILDCARD) return;
      const problem = hostNameProblem(ctx.value);
      if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value, continue: false });
    })
    .overwrite((value) => (acceptWildcard && value === BIND_WILDCARD ? '0.0.0.0' : unbracketHost(value)));

const host = hostSchema(false);

const bindHost = hostSchema(true).default(DEFAULT_BIND_HOST);

const seconds = (min: number, max: number) =>
  z
    .number({ error: 'must be a number of seconds' })
    .min(min, { error: `must be at least ${min} s` })
    .max(max, { error: `must be at most ${max} s` });

/** A reference into the secret store (desktop: safeStorage); the secret itself is never in a profile. */
const secretRef = z.string().min(1).max(200);

export const localForwardSchema = z.strictObject({
  type: z.literal('local'),
  bindHost,
  bindPort: port,
  targetHost: host,
  targetPort: port,
});

export const remoteForwardSchema = z.strictObject({
  type: z.literal('remote'),
  /** Address on the SSH server; loopback unless the server's GatewayPorts allows more. */
  bindHost,
  bindPort: portOrZero,
  targetHost: host.default(DEFAULT_BIND_HOST),
  targetPort: port,
});

export const dynamicForwardSchema = z.strictObject({
  type: z.literal('dynamic'),
  bindHost,
  bindPort: port,
});

export const forwardSchema = z.discriminatedUnion('type', [localForwardSchema, remoteForwardSchema, dynamicForwardSchema], {
  error: 'must have type "local", "remote" or "dynamic"',
});

const keyFiles = z.array(z.string().min(1, { error: 'must be a file path' }));

export const authSchema = z.discriminatedUnion(
  'method',
  [
    /** OpenSSH's own order: agent, then key files, then keyboard-interactive, then password. */
    z.strictObject({ method: z.literal('auto'), keyFiles: keyFiles.default([]), agentSocket: z.string().optional() }),
    z.strictObject({ method: z.literal('agent'), agentSocket: z.string().optional() }),
    z.strictObject({
      method: z.literal('key'),
      keyFiles: keyFiles.min(1, { error: 'needs at least one key file' }),
      passphraseRef: secretRef.optional(),
    }),
    z.strictObject({ method: z.literal('password'), passwordRef: secretRef.optional() }),
    z.strictObject({ method: z.literal('keyboard-interactive') }),
  ],
  { error: 'method must be "auto", "agent", "key", "password" or "keyboard-interactive"' },
);

const user = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(255)
  .regex(/^[^\s@:]+$/, { error: 'must not contain spaces, "@" or ":"' })
  // A user name goes to the server and into every message and review line: no terminal controls.
  .refine((name) => ![...name].some(isControl), { error: 'must not contain control characters' });

export const endpointSchema = z.strictObject({
  host,
  port: port.default(22),
  user: user.optional(),
  auth: authSchema.default({ method: 'auto', keyFiles: [] }),
});

export const hostKeyPolicySchema = z.strictObject({
  /** OpenSSH StrictHostKeyChecking. A changed key is refused whatever the mode. */
  strict: z.enum(['yes', 'accept-new', 'ask', 'no'], { error: 'must be "yes", "accept-new", "ask" or "no"' }).default('yes'),
  /** Empty: ~/.ssh/known_hosts and ~/.ssh/known_hosts2, as OpenSSH. */
  knownHostsFiles: z.array(z.string().min(1)).default([]),
  /** Trust exactly this key (`SHA256:…`) for the final hop, whatever known_hosts says. */
  pinnedFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, { error: 'must be a SHA256:… fingerprint' }).optional(),
  /** Accept `ssh-rsa` (SHA-1) host-key signatures, as OpenSSH >= 8.8 does only with `HostKeyAlgorithms +ssh-rsa`. */
  allowSha1Rsa: z.boolean().default(false),
});

export const keepaliveSchema = z.strictObject({
  /** ServerAliveInterval; 0 turns keepalives off. */
  intervalSeconds: seconds(0, 3600).default(15),
  /** ServerAliveCountMax. */
  countMax: z.number().int().min(1, { error: 'must be at least 1' }).max(100).default(3),
});

export const reconnectSchema = z.strictObject({
  enabled: z.boolean().default(true),
  initialDelaySeconds: seconds(0.1, 600).default(1),
  maxDelaySeconds: seconds(1, 3600).default(60),
  /** Up this long and the backoff starts again from the initial delay (autossh's gate time). */
  resetAfterSeconds: seconds(1, 3600).default(30),
});

export const clientHintSchema = z.strictObject({
  kind: z.enum(['mysql', 'postgres', 'redis', 'http'], { error: 'must be "mysql", "postgres", "redis" or "http"' }),
  database: z.string().max(255).optional(),
  user: z.string().max(255).optional(),
  /** Which forward the hint describes; the first local one when absent. */
  forwardIndex: z.number().int().min(0).optional(),
});

const nonEmptyName = z.string().trim().min(1, { error: 'must not be empty' }).max(200, { error: 'must be at most 200 characters' });

export const sshProfileSchema = z
  .strictObject({
    kind: z.literal('ssh').default('ssh'),
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1–64 letters, digits, ".", "_" or "-"' }),
    name: nonEmptyName,
    group: z.string().trim().max(100).optional(),
    tags: z.array(z.string().trim().min(1).max(50)).default([]),
    server: endpointSchema,
    /** Ordered jump hosts, first hop first (ssh -J a,b). */
    jumps: z.array(endpointSchema).default([]),
    hostKey: hostKeyPolicySchema.default({ strict: 'yes', knownHostsFiles: [], allowSha1Rsa: false }),
    keepalive: keepaliveSchema.default({ intervalSeconds: 15, countMax: 3 }),
    reconnect: reconnectSchema.default({ enabled: true, initialDelaySeconds: 1, maxDelaySeconds: 60, resetAfterSeconds: 30 }),
    connectTimeoutSeconds: seconds(1, 600).default(15),
    /** Cipher preference (ssh -c / Ciphers); the engine's tuned default when absent. */
    ciphers: z.array(z.string().min(1)).optional(),
    forwards: z.array(forwardSchema).min(1, { error: 'needs at least one forward' }),
    autoStart: z.boolean().default(false),
    client: clientHintSchema.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.reconnect.maxDelaySeconds < p.reconnect.initialDelaySeconds) {
      ctx.addIssue({ code: 'custom', path: ['reconnect', 'maxDelaySeconds'], message: 'must not be less than initialDelaySeconds' });
    }
    const seen = new Map<string, number>();
    p.forwards.forEach((f, i) => {
      if (f.type === 'remote') return;
      const key = `${f.bindHost}:${f.bindPort}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['forwards', i, 'bindPort'], message: `${key} is already used by forwards[${first}]` });
      } else {
        seen.set(key, i);
      }
    });
    if (p.client?.forwardIndex !== undefined && p.client.forwardIndex >= p.forwards.length) {
      ctx.addIssue({ code: 'custom', path: ['client', 'forwardIndex'], message: `must point at one of the ${p.forwards.length} forwards` });
    }
  });

/** An `http://` API without the opt-in; the CLI and the editor name their own switch for it. */
export const CF_PLAIN_HTTP_MESSAGE =
  'is plain http, so the password and tokens would travel in clear: use the https:// address, or (lab foundations without TLS only) set allowInsecureHttp: true';

const cfName = z.string().trim().min(1, { error: 'must not be empty' }).max(255, { error: 'must be at most 255 characters' });

export const cloudFoundryLoginSchema = z.discriminatedUnion(
  'method',
  [
    /** Reuse the cf CLI's own login ($CF_HOME/.cf/config.json): no password in Tunnelvision. */
    z.strictObject({ method: z.literal('cf-cli'), cfHome: z.string().min(1).optional() }),
    /** Password grant once; only the refresh token is kept, as a secret reference. */
    z.strictObject({ method: z.literal('password'), username: cfName, refreshTokenRef: secretRef.optional() }),
  ],
  { error: 'method must be "cf-cli" or "password"' },
);

/**
 * A port forwarded through an app container on Cloud Foundry (what `cf ssh APP -L` does): the
 * target is a bound service instance, looked up in VCAP_SERVICES on every connect, or a fixed host:port.
 */
export const cloudFoundryProfileSchema = z
  .strictObject({
    kind: z.literal('cloudfoundry'),
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1–64 letters, digits, ".", "_" or "-"' }),
    name: nonEmptyName,
    group: z.string().trim().max(100).optional(),
    tags: z.array(z.string().trim().min(1).max(50)).default([]),
    api: z.url({ protocol: /^https?$/, error: 'must be the API endpoint URL, e.g. https://api.sys.example.com' }),
    org: cfName,
    space: cfName,
    app: cfName,
    /** The app instance whose container dials the service. */
    instance: z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' }).default(0),
    /** A service instance bound to the app, by name. */
    service: cfName.optional(),
    /** A fixed target instead of a bound service. */
    target: z.strictObject({ host, port }).optional(),
    local: z.strictObject({ bindHost, bindPort: port }),
    /** Lab foundations with self-signed certificates only: TLS is verified unless this is set. */
    skipSslValidation: z.boolean().default(false),
    /** Lab foundations only: allow an http:// API, login or UAA (the password would travel in clear). */
    allowInsecureHttp: z.boolean().default(false),
    login: cloudFoundryLoginSchema.default({ method: 'cf-cli' }),
    keepalive: keepaliveSchema.default({ intervalSeconds: 15, countMax: 3 }),
    reconnect: reconnectSchema.default({ enabled: true, initialDelaySeconds: 1, maxDelaySeconds: 60, resetAfterSeconds: 30 }),
    connectTimeoutSeconds: seconds(1, 600).default(30),
    autoStart: z.boolean().default(false),
  })
  .superRefine((p, ctx) => {
    if (!p.allowInsecureHttp && /^http:/i.test(p.api)) {
      ctx.addIssue({ code: 'custom', path: ['api'], message: CF_PLAIN_HTTP_MESSAGE });
    }
    if ((p.service === undefined) === (p.target === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['service'], message: 'give either service (a service instance bound to the app) or target (host and port), not both or neither' });
    }
    if (p.reconnect.maxDelaySeconds < p.reconnect.initialDelaySeconds) {
      ctx.addIssue({ code: 'custom', path: ['reconnect', 'maxDelaySeconds'], message: 'must not be less than initialDelaySeconds' });
    }
  });

export const profileSchema = z.discriminatedUnion('kind', [sshProfileSchema, cloudFoundryProfileSchema], {
  // Only an unknown kind gets this message; input that is no object at all keeps "must be an object".
  error: (issue) => (issue.code === 'invalid_union' ? 'must be "ssh" or "cloudfoundry"' : undefined),
});

export const profileFileSchema = z.strictObject({
  version: z.literal(PROFILE_FILE_VERSION, { error: `must be ${PROFILE_FILE_VERSION}` }),
  profiles: z.array(profileSchema),
});

export type Forward = z.output<typeof forwardSchema>;
export type LocalForward = z.output<typeof localForwardSchema>;
export type RemoteForward = z.output<typeof remoteForwardSchema>;
export type DynamicForward = z.output<typeof dynamicForwardSchema>;
export type Auth = z.output<typeof authSchema>;
export type Endpoint = z.output<typeof endpointSchema>;
export type HostKeyPolicy = z.output<typeof hostKeyPolicySchema>;
export type Keepalive = z.output<typeof keepaliveSchema>;
export type ReconnectPolicy = z.output<typeof reconnectSchema>;
export type ClientHint = z.output<typeof clientHintSchema>;
export type SshProfile = z.output<typeof sshProfileSchema>;
export type CloudFoundryProfile = z.output<typeof cloudFoundryProfileSchema>;
export type CloudFoundryLogin = z.output<typeof cloudFoundryLoginSchema>;
export type Profile = z.output<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
export type SshProfileInput = z.input<typeof sshProfileSchema>;
export type ProfileFile = z.output<typeof profileFileSchema>;
