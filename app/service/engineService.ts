// The engine behind the contract: saved profiles, one supervised Tunnel per running profile,
// questions for a person turned into `prompt` events. It runs in the engine process (Electron's
// utilityProcess, or plain Node in tests and the UI bridge), never in Electron's main.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { cloudFoundryConnector, loginSecretRef, type CloudFoundryTunnelConnector } from '../cloudfoundry/connector.js';
import type { EventPayload, ImportSource, MethodResult, PromptAnswer, PromptRequest, TunnelService } from '../shared/contract.js';
import type { EventName } from '../shared/contract.js';
import { Emitter } from '../shared/emitter.js';
import { TunnelError } from '../shared/errors.js';
import { startDemo, type Demo } from '../demo/demoServer.js';
import type { Prompter, SecretKeeper, SecretResolver } from '../engine/prompts.js';
import { Tunnel } from '../engine/tunnel.js';
import { installId } from '../profiles/installId.js';
import type { Profile } from '../profiles/schema.js';
import { keepRefsInPlace } from '../profiles/secretRefs.js';
import type { SecretUse } from '../profiles/secretUse.js';
import { ProfileStore } from '../profiles/store.js';
import { incomingFromSshConfig, reviewImport, type IncomingProfiles } from '../profiles/importReview.js';
import { importSshConfig, importSshConfigText, loadSshConfig } from '../profiles/sshConfig.js';
import { exportProfiles, importProfiles } from '../profiles/transfer.js';
import { parseProfile } from '../profiles/validate.js';
import { probeEndpoint, type ProbeCheck } from './probe.js';

const STATS_INTERVAL_MS = 1_000;
/** Import reviews kept for applyImport; each holds the reviewed file, up to the contract's 10 MB. */
const OPEN_REVIEWS = 4;

export interface EngineServiceOptions {
  configDir: string;
  /** Looks up secrets by reference and use, for a profile (desktop: safeStorage, through main). */
  secrets?: (ref: string, use: SecretUse, profileId: string) => Promise<string | undefined>;
  /** Keeps (and forgets) secrets the engine obtains itself: Cloud Foundry logins. */
  keeper?: SecretKeeper;
  /**
   * A CA (PEM) trusted for Cloud Foundry's API and UAA besides the system's store, for an engine
   * running inside a process that started without it (NODE_EXTRA_CA_CERTS is read at start only).
   */
  ca?: string;
}

function loginRefs(profiles: readonly Profile[], install: string | undefined): Set<string> {
  return new Set(profiles.flatMap((p) => (p.kind === 'cloudfoundry' ? (loginSecretRef(p, install) ?? []) : [])));
}

const WILDCARDS = new Set(['0.0.0.0', '::', '*', '']);

type Events = { [E in EventName]: (payload: EventPayload<E>) => void };
/** Omit applied to each member of a union, so each kind keeps its own fields. */
type Question = PromptRequest extends infer P ? (P extends unknown ? Omit<P, 'id'> : never) : never;

export class EngineService extends Emitter<Events> implements TunnelService {
  private readonly store: ProfileStore;
  private readonly tunnels = new Map<string, Tunnel>();
  /** The Cloud Foundry connectors of running tunnels: the only place a service password is kept. */
  private readonly cfConnectors = new Map<string, CloudFoundryTunnelConnector>();
  private readonly prompts = new Map<string, { profileId: string; answer: (a: PromptAnswer) => void }>();
  /** What each open import review showed, by reviewId: applyImport saves exactly that, or nothing. */
  private readonly reviews = new Map<string, { incoming: IncomingProfiles; basis: string }>();
  private demo: Promise<Demo> | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private disposed: Promise<void> | undefined;
  private install: Promise<string | undefined> | undefined;

  constructor(private readonly opts: EngineServiceOptions) {
    super();
    this.store = new ProfileStore(opts.configDir);
  }

  override on<E extends EventName>(event: E, listener: Events[E]): () => void {
    return super.on(event, listener);
  }

  async listProfiles(): Promise<MethodResult<'listProfiles'>> {
    const { profiles } = await this.store.load();
    return profiles.map((profile) => {
      const tunnel = this.tunnels.get(profile.id);
      return { profile, state: tunnel?.state ?? { state: 'stopped' as const }, stats: tunnel?.stats() ?? [] };
    });
  }

  saveProfile(input: unknown): Promise<MethodResult<'saveProfile'>> {
    const parsed = parseProfile(input);
    if (!parsed.ok) return Promise.resolve({ ok: false as const, errors: parsed.errors });
    const wanted = parsed.value;
    return this.edit((all) => {
      const i = all.findIndex((p) => p.id === wanted.id);
      // Matched by reference, never by position: a hop moved or re-pointed loses its secret's reference.
      const profile = keepRefsInPlace(all[i], wanted);
      if (i >= 0) all[i] = profile;
      else all.push(profile);
      return { ok: true as const, profile };
    }, [wanted.id]);
  }

  async deleteProfile(id: string): Promise<MethodResult<'deleteProfile'>> {
    await this.stop(id);
    return this.edit((all) => {
      const i = all.findIndex((p) => p.id === id);
      const [deleted] = i >= 0 ? all.splice(i, 1) : [];
      return deleted ? { deleted } : {};
    }, [id]);
  }

  async reviewImport(source: ImportSource): Promise<MethodResult<'reviewImport'>> {
    const incoming = await incomingProfiles(source);
    if ('error' in incoming) return { ok: false as const, error: incoming.error };
    const { profiles } = await this.store.load();
    const reviewed = reviewImport(profiles, incoming.json, incoming.notes);
    if ('error' in reviewed) return { ok: false as const, error: reviewed.error };
    const reviewId = randomUUID();
    this.reviews.set(reviewId, { incoming, basis: reviewed.basis });
    // Reviews that were never applied (the person cancelled) are dropped oldest first.
    for (const old of this.reviews.keys()) if (this.reviews.size > OPEN_REVIEWS) this.reviews.delete(old);
    return { ok: true as const, reviewId, review: { ...reviewed.review, skipped: [...incoming.skipped, ...reviewed.review.skipped] } };
  }

  applyImport(reviewId: string): Promise<MethodResult<'applyImport'>> {
    const reviewed = this.reviews.get(reviewId);
    if (!reviewed) return Promise.resolve({ ok: false as const, error: 'This import review is no longer open (it was applied already, or replaced by newer ones): review the import again.' });
    this.reviews.delete(reviewId);
    const { incoming, basis } = reviewed;
    let changed: string[] = [];
    return this.edit((all) => {
      const result = importProfiles(all, incoming.json, basis);
      if ('error' in result) return { ok: false as const, error: result.error };
      all.splice(0, all.length, ...result.profiles);
      changed = [...result.report.added, ...result.report.updated];
      return { ok: true as const, report: { ...result.report, skipped: [...incoming.skipped, ...result.report.skipped] } };
    }, () => changed);
  }

  async exportProfiles(ids?: string[]): Promise<string> {
    const { profiles } = await this.store.load();
    const chosen = ids ? profiles.filter((p) => ids.includes(p.id)) : profiles;
    return `${JSON.stringify(exportProfiles(chosen), null, 2)}\n`;
  }

  async start(id: string): Promise<void> {
    const running = this.tunnels.get(id);
    if (running && !['failed', 'closed'].includes(running.state.state)) return;
    if (running) await this.stop(id);
    const { profiles } = await this.store.load();
    const profile = profiles.find((p) => p.id === id);
    if (!profile) throw new TunnelError('CONFIG_INVALID', `There is no saved profile "${id}".`);
    const prompter = this.prompterFor(id);
    const secrets = this.secretsFor(profile);
    let connector: CloudFoundryTunnelConnector | undefined;
    if (profile.kind === 'cloudfoundry') {
      const log = (level: 'info' | 'warn', message: string) => this.emit('log', { profileId: id, entry: { time: Date.now(), level, message } });
      connector = cloudFoundryConnector(profile, { prompter, secrets, keeper: this.opts.keeper, installId: await this.installId(), log, ...(this.opts.ca ? { ca: `${rootCertificates.join('\n')}\n${this.opts.ca}` } : {}) });
      this.cfConnectors.set(id, connector);
    } else {
      this.cfConnectors.delete(id);
    }
    const tunnel = new Tunnel({ profile, prompter, secrets, ...(connector ? { connector } : {}) });
    this.tunnels.set(id, tunnel);
    tunnel.on('state', (state) => this.emit('state', { profileId: id, state }));
    tunnel.on('log', (entry) => this.emit('log', { profileId: id, entry }));
    tunnel.start();
    this.statsTimer ??= setInterval(() => this.emitStats(), STATS_INTERVAL_MS);
  }

  async stop(id: string): Promise<void> {
    const tunnel = this.tunnels.get(id);
    if (!tunnel) return;
    this.cancelPrompts(id);
    await tunnel.stop();
    // A newer start may have replaced it while it stopped.
    if (this.tunnels.get(id) === tunnel) {
      this.tunnels.delete(id);
      this.cfConnectors.delete(id);
    }
    if (this.tunnels.size === 0) this.stopStats();
  }

  async retryNow(id?: string): Promise<void> {
    for (const [tid, tunnel] of this.tunnels) if (id === undefined || id === tid) tunnel.retryNow();
  }

  async answerPrompt(promptId: string, answer: PromptAnswer): Promise<void> {
    const prompt = this.prompts.get(promptId);
    if (!prompt) throw new TunnelError('CONFIG_INVALID', 'That question was already answered or withdrawn.');
    prompt.answer(answer);
  }

  async probe(id: string, forwardIndex: number): Promise<MethodResult<'probe'>> {
    const tunnel = this.tunnels.get(id);
    const state = tunnel?.state;
    if (!tunnel || state?.state !== 'open') throw new TunnelError('CONNECTION_LOST', `The tunnel "${id}" is not open, so there is nothing to probe.`);
    const forward = state.forwards.find((f) => f.index === forwardIndex);
    if (!forward) throw new TunnelError('CONFIG_INVALID', `The tunnel "${id}" has no forward ${forwardIndex}.`);
    if (forward.type === 'remote') throw new TunnelError('CONFIG_INVALID', 'A remote (-R) forward listens on the server; it cannot be probed from this machine.');
    const profile = tunnel.profile;
    const mysql =
      forward.type === 'local' &&
      (forward.service !== undefined || (profile.kind === 'ssh' && profile.client?.kind === 'mysql' && (profile.client.forwardIndex ?? profile.forwards.findIndex((f) => f.type === 'local')) === forwardIndex));
    const check: ProbeCheck = mysql ? 'mysql' : 'tcp';
    const host = WILDCARDS.has(forward.bindHost) ? (forward.bindHost === '::' ? '::1' : '127.0.0.1') : forward.bindHost;
    const failedBefore = tunnel.stats()[forwardIndex]?.failed ?? 0;
    return probeEndpoint({
      host,
      port: forward.bindPort,
      check,
      timeoutMs: Math.min(profile.connectTimeoutSeconds, 10) * 1000,
      whyClosed: () => {
        const now = tunnel.stats()[forwardIndex];
        return now && now.failed > failedBefore ? now.lastError : undefined;
      },
    });
  }

  async revealServicePassword(id: string): Promise<MethodResult<'revealServicePassword'>> {
    const tunnel = this.tunnels.get(id);
    const connector = this.cfConnectors.get(id);
    if (!tunnel || !connector || tunnel.state.state !== 'open') throw new TunnelError('CONFIG_INVALID', 'The password is available only while a Cloud Foundry tunnel to a service is open.');
    const revealed = connector.revealServicePassword();
    if (!revealed) throw new TunnelError('CONFIG_INVALID', "The service's credentials have no password.");
    return revealed;
  }

  async startDemo(): Promise<string> {
    this.demo ??= startDemo();
    const demo = await this.demo;
    const profile = demo.profile(await freeLocalPort());
    const saved = await this.saveProfile(profile);
    if (!saved.ok) throw new TunnelError('INTERNAL', 'The demo profile did not validate.');
    return profile.id;
  }

  /** Stops every tunnel (ports freed) and the demo; the service is unusable afterwards. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      await Promise.all([...this.tunnels.keys()].map((id) => this.stop(id)));
      this.stopStats();
      if (this.demo) await (await this.demo).dispose();
    })();
    return this.disposed;
  }

  /** One read-modify-write of the profile file under its cross-process lock; then says what changed. */
  private async edit<T>(change: (all: Profile[]) => T, ids: string[] | (() => string[])): Promise<T> {
    let before = new Set<string>();
    let after = new Set<string>();
    const install = await this.installId();
    const { result } = await this.store.update((all) => {
      before = loginRefs(all, install);
      const result = change(all);
      after = loginRefs(all, install);
      return result;
    });
    this.emit('profiles', { ids: typeof ids === 'function' ? ids() : ids });
    this.forgetLogins(before, after);
    return result;
  }

  /** A kept login whose profile was deleted, or now names another user or foundation, is deleted with it. */
  private forgetLogins(before: Set<string>, after: Set<string>): void {
    const keeper = this.opts.keeper;
    if (!keeper) return;
    for (const ref of before) if (!after.has(ref)) void keeper.delete(ref).catch(() => undefined);
  }

  private emitStats(): void {
    for (const [profileId, tunnel] of this.tunnels) this.emit('stats', { profileId, forwards: tunnel.stats() });
  }

  private stopStats(): void {
    clearInterval(this.statsTimer);
    this.statsTimer = undefined;
  }

  /**
   * The installation's random value that derived login references are made with; undefined where
   * nothing is kept, or when it cannot be read (then no login is kept, and saving still works).
   */
  private installId(): Promise<string | undefined> {
    if (!this.opts.keeper) return Promise.resolve(undefined);
    this.install ??= installId(this.opts.configDir).catch(() => {
      this.install = undefined;
      return undefined;
    });
    return this.install;
  }

  private secretsFor(profile: Profile): SecretResolver | undefined {
    const lookup = this.opts.secrets;
    const own: SecretResolver | undefined = lookup && ((ref, use) => lookup(ref, use, profile.id));
    if (profile.id !== 'demo' || !this.demo) return own;
    const demo = this.demo;
    return async (ref, use) => (await (await demo).secrets(ref)) ?? (await own?.(ref, use));
  }

  private ask<T extends PromptAnswer>(request: Question): Promise<T | null> {
    const id = randomUUID();
    return new Promise((resolve) => {
      this.prompts.set(id, {
        profileId: request.profileId,
        answer: (answer) => {
          this.prompts.delete(id);
          this.emit('promptDone', { id });
          resolve(answer as T | null);
        },
      });
      this.emit('prompt', { ...request, id } as PromptRequest);
    });
  }

  private cancelPrompts(profileId: string): void {
    for (const prompt of [...this.prompts.values()]) if (prompt.profileId === profileId) prompt.answer(null);
  }

  private prompterFor(profileId: string): Prompter {
    return {
      hostKey: async (q) =>
        (await this.ask<boolean>({ kind: 'hostKey', profileId, hop: q.hop, keyType: q.key.type, fingerprint: q.key.fingerprint, otherTypes: q.otherTypes.map((k) => k.type) })) === true,
      passphrase: (q) => this.ask<string>({ kind: 'passphrase', profileId, hop: q.hop, keyFile: q.keyFile, retry: q.retry }),
      password: (q) => this.ask<string>({ kind: 'password', profileId, hop: q.hop, user: q.user, retry: q.retry }),
      keyboardInteractive: (q) => this.ask<string[]>({ kind: 'keyboardInteractive', profileId, hop: q.hop, name: q.name, instructions: q.instructions, prompts: q.prompts }),
    };
  }
}

async function incomingProfiles(source: ImportSource): Promise<IncomingProfiles | { error: string }> {
  if (source.kind === 'profiles') return { json: source.text, skipped: [], notes: [] };
  if (source.kind === 'sshConfig') return flatError(incomingFromSshConfig(importSshConfigText(source.text)));
  // The person's own config, which they wrote: read as ssh reads it, Includes and all.
  const file = join(homedir(), '.ssh', 'config');
  try {
    if (!(await stat(file)).isFile()) return { error: `${file} is not a file.` };
  } catch {
    return { error: `There is no ${file}.` };
  }
  try {
    return flatError(incomingFromSshConfig(importSshConfig(await loadSshConfig(file))));
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Errors cross the contract as one line. */
function flatError<T extends object>(result: T | { error: string }): T | { error: string } {
  return 'error' in result ? { error: result.error.replace(/\n/g, '; ') } : result;
}

function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
