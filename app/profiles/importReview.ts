// What a person is shown before an import is saved: per incoming profile, what saving it does and
// every field that changes what the tunnel trusts, reads, exposes or starts. Each finding comes from
// one rule below; a new security-relevant field is one more rule.
import type { CloudFoundryProfile, Endpoint, Forward, Profile, SshProfile } from './schema.js';
import type { SshConfigImport } from './sshConfig.js';
import { formatErrors, type Parsed } from './validate.js';
import { planBasis, planImport, type ImportAction, type ImportReport, type PlannedProfile } from './transfer.js';
import { isLoopback } from '../shared/address.js';

export type FindingKind =
  | 'hostKeyPolicy'
  | 'knownHostsFiles'
  | 'allowSha1Rsa'
  | 'pinnedFingerprint'
  | 'keyFiles'
  | 'agentSocket'
  | 'cfHome'
  | 'skipSslValidation'
  | 'allowInsecureHttp'
  | 'exposedBind'
  | 'remoteTarget'
  | 'replaces'
  | 'ciphers'
  | 'autoStartCleared'
  | 'referencesDropped';

export interface Finding {
  kind: FindingKind;
  /** `warning`: trust is lowered or something is exposed; `info`: worth knowing before saying yes. */
  level: 'warning' | 'info';
  /** The profile field, as in field errors: `jumps[0].auth.keyFiles`. */
  field: string;
  message: string;
}

export interface ReviewEntry {
  id: string;
  name: string;
  action: ImportAction;
  /** Where it connects: `user@host:22 via jump` or the Cloud Foundry app. */
  destination: string;
  findings: Finding[];
}

export interface ImportReview {
  entries: ReviewEntry[];
  skipped: ImportReport['skipped'];
  /** About the source as a whole (Include lines not followed). */
  notes: string[];
}

type Rule = (p: PlannedProfile) => Finding[];

const warning = (kind: FindingKind, field: string, message: string): Finding => ({ kind, level: 'warning', field, message });
const info = (kind: FindingKind, field: string, message: string): Finding => ({ kind, level: 'info', field, message });

function endpoints(p: SshProfile): Array<[string, Endpoint]> {
  return [['server', p.server], ...p.jumps.map((j, i): [string, Endpoint] => [`jumps[${i}]`, j])];
}

const ssh = (rule: (p: SshProfile) => Finding[]): Rule => ({ profile }) => (profile.kind === 'ssh' ? rule(profile) : []);
const cf = (rule: (p: CloudFoundryProfile) => Finding[]): Rule => ({ profile }) => (profile.kind === 'cloudfoundry' ? rule(profile) : []);

const STRICT_MEANING = {
  'accept-new': 'an unknown host key is trusted and written to known_hosts without asking',
  no: 'an unknown host key is trusted and written to known_hosts without asking',
  ask: 'an unknown host key is shown for you to accept',
} as const;

function exposure(f: Forward): string {
  const where = f.bindHost === '' || f.bindHost === '*' || f.bindHost === '0.0.0.0' || f.bindHost === '::' ? 'every address' : f.bindHost;
  return f.type === 'remote'
    ? `listens on ${where} of the server (port ${f.bindPort}): others who reach the server can use it, if its GatewayPorts allows`
    : `listens on ${where} (port ${f.bindPort}): other machines on the network can use it`;
}

const RULES: Rule[] = [
  ssh((p) => (p.hostKey.strict === 'yes' ? [] : [(p.hostKey.strict === 'ask' ? info : warning)('hostKeyPolicy', 'hostKey.strict', `host-key checking is "${p.hostKey.strict}": ${STRICT_MEANING[p.hostKey.strict]}`)])),
  ssh((p) => (p.hostKey.knownHostsFiles.length === 0 ? [] : [warning('knownHostsFiles', 'hostKey.knownHostsFiles', `reads and writes host keys in ${p.hostKey.knownHostsFiles.join(', ')} instead of ~/.ssh/known_hosts`)])),
  ssh((p) => (p.hostKey.allowSha1Rsa ? [warning('allowSha1Rsa', 'hostKey.allowSha1Rsa', 'accepts ssh-rsa (SHA-1) host-key signatures, which OpenSSH refuses by default')] : [])),
  // A pin overrides known_hosts: a sender's pin on a host you already know accepts their key for it.
  ssh((p) => (p.hostKey.pinnedFingerprint ? [warning('pinnedFingerprint', 'hostKey.pinnedFingerprint', `trusts exactly the server key ${p.hostKey.pinnedFingerprint}, whatever known_hosts says`)] : [])),
  ssh((p) =>
    endpoints(p).flatMap(([field, e]) => ('keyFiles' in e.auth && e.auth.keyFiles.length > 0 ? [info('keyFiles', `${field}.auth.keyFiles`, `signs in to ${e.host} with the key file ${e.auth.keyFiles.join(', ')}`)] : [])),
  ),
  ssh((p) =>
    endpoints(p).flatMap(([field, e]) => ('agentSocket' in e.auth && e.auth.agentSocket ? [warning('agentSocket', `${field}.auth.agentSocket`, `uses the SSH agent at ${e.auth.agentSocket} instead of yours (SSH_AUTH_SOCK)`)] : [])),
  ),
  ssh((p) =>
    p.forwards.flatMap((f, i) => (isLoopback(f.bindHost) ? [] : [warning('exposedBind', `forwards[${i}].bindHost`, exposure(f))])),
  ),
  // The server side opens connections into this machine: the sender's server reaches what its target names.
  ssh((p) =>
    p.forwards.flatMap((f, i) =>
      f.type === 'remote' ? [warning('remoteTarget', `forwards[${i}].targetHost`, `lets the server connect through this machine to ${f.targetHost}:${f.targetPort} (from its port ${f.bindPort})`)] : [],
    ),
  ),
  ssh((p) => (p.ciphers ? [info('ciphers', 'ciphers', `offers only the ciphers ${p.ciphers.join(', ')}`)] : [])),
  cf((p) => (p.login.method === 'cf-cli' && p.login.cfHome ? [warning('cfHome', 'login.cfHome', `uses the cf CLI login kept in ${p.login.cfHome} instead of yours`)] : [])),
  cf((p) => (p.skipSslValidation ? [warning('skipSslValidation', 'skipSslValidation', "does not verify the API's TLS certificate: anyone on the network path can read the login")] : [])),
  cf((p) => (p.allowInsecureHttp ? [warning('allowInsecureHttp', 'allowInsecureHttp', 'allows http:// for the API, login and UAA: the password would travel in clear')] : [])),
  cf((p) => (isLoopback(p.local.bindHost) ? [] : [warning('exposedBind', 'local.bindHost', `listens on ${p.local.bindHost} (port ${p.local.bindPort}): other machines on the network can use it`)])),
  ({ cleared }) => (cleared.includes('autoStart') ? [info('autoStartCleared', 'autoStart', 'asked to start at launch; it will start only when you start it')] : []),
  ({ cleared }) => {
    const refs = cleared.filter((f) => f !== 'autoStart');
    return refs.length > 0 ? [info('referencesDropped', refs.join(', '), 'pointed at a saved password or login; removed, so you will be asked instead')] : [];
  },
];

function destination(p: Profile): string {
  if (p.kind === 'cloudfoundry') return `Cloud Foundry app ${p.app} in ${p.org}/${p.space} at ${p.api}`;
  const via = p.jumps.length > 0 ? ` via ${p.jumps.map((j) => j.host).join(', ')}` : '';
  return `${p.server.user ? `${p.server.user}@` : ''}${p.server.host}:${p.server.port}${via}`;
}

/** An update replaces the saved profile whole: where it connected before is what the person is losing. */
function replaces(planned: PlannedProfile, before: Profile | undefined): Finding[] {
  if (planned.action !== 'update' || !before) return [];
  const was = destination(before);
  return was === destination(planned.profile) ? [] : [warning('replaces', 'server', `replaces your saved profile, which connects to ${was}`)];
}

/**
 * Text from the file as a terminal or the page can show it without being steered: control
 * characters (cursor moves, erased lines, line breaks) and bidi or zero-width marks (a name that
 * reads as another) become visible `\u{…}` escapes.
 */
function visible(text: string): string {
  // eslint-disable-next-line no-control-regex -- these are the characters being made visible
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

export function reviewEntry(planned: PlannedProfile, before?: Profile): ReviewEntry {
  const { profile, action } = planned;
  const findings = [...replaces(planned, before), ...RULES.flatMap((rule) => rule(planned))].map((f) => ({ ...f, message: visible(f.message) }));
  return { id: profile.id, name: visible(profile.name), action, destination: visible(destination(profile)), findings };
}

/** Profiles to import, as JSON, with the Hosts an ssh_config import could not use and notes on the source. */
export interface IncomingProfiles {
  json: string;
  skipped: ImportReport['skipped'];
  notes: string[];
}

/** An ssh_config import as profiles to review: Hosts it could not use become skipped entries, skipped Includes a note. */
export function incomingFromSshConfig(parsed: Parsed<SshConfigImport & { ignoredIncludes?: number }>): IncomingProfiles | { error: string } {
  if (!parsed.ok) return { error: formatErrors(parsed.errors) };
  const ignored = parsed.value.ignoredIncludes ?? 0;
  return {
    json: JSON.stringify(parsed.value.profiles),
    skipped: parsed.value.skipped.map((s) => ({ entry: `Host ${s.alias}`, reason: s.reason.replace(/\n/g, '; ') })),
    notes: ignored > 0 ? [includesNote(ignored)] : [],
  };
}

/** The note a review carries when a received ssh_config's Include lines were skipped. */
export function includesNote(count: number): string {
  return `${count} Include line${count === 1 ? ' was' : 's were'} not followed: the files a received ssh_config includes are not the file you picked, so they were not read.`;
}

/** The review of importing `text` (JSON) into `existing`, and the basis (planBasis) that applying it must still find; nothing is saved. */
export function reviewImport(existing: readonly Profile[], text: string, notes: string[] = []): { review: ImportReview; basis: string } | { error: string } {
  const plan = planImport(existing, text);
  if ('error' in plan) return plan;
  const byId = new Map(existing.map((p) => [p.id, p]));
  const entries = plan.entries.map((planned) => reviewEntry(planned, byId.get(planned.profile.id)));
  return { review: { entries, skipped: plan.skipped.map((s) => ({ entry: visible(s.entry), reason: visible(s.reason) })), notes }, basis: planBasis(existing, plan) };
}

/** The review as lines for a terminal: `!` marks a warning. */
export function formatReview(review: ImportReview): string {
  const lines: string[] = [];
  for (const e of review.entries) {
    lines.push(`${e.action.padEnd(9)} ${e.id} (${e.name}): ${e.destination}`);
    for (const f of e.findings) lines.push(`  ${f.level === 'warning' ? '!' : '-'} ${f.field}: ${f.message}`);
  }
  for (const s of review.skipped) lines.push(`skipped   ${s.entry}: ${s.reason}`);
  for (const n of review.notes) lines.push(`note: ${n}`);
  if (review.entries.length === 0) lines.push('Nothing to import.');
  return `${lines.map(visible).join('\n')}\n`;
}
