// The tunnel diagram as data: which nodes a profile's path has, where they sit on a grid, and what
// state each hop and edge is in, from the saved profile and the live state and stats. Pure, so every
// mapping from engine state to colour and wording is tested without a browser.
import type { CloudFoundryProfile, Endpoint, Forward, Profile } from '../../../app/profiles/schema.js';
import { hostPort } from '../../../app/shared/address.js';
import type { ProfileView } from '../../../app/shared/contract.js';
import { formatConnections, formatRate, shortReason, type Tone } from '../format.js';
import { bothWays, totalRate, type ForwardRate } from '../throughput.js';

type TunnelState = ProfileView['state'];
type ForwardStats = ProfileView['stats'][number];
type WireError = Extract<TunnelState, { state: 'failed' }>['error'];

export type NodeKind = 'client' | 'listener' | 'hop' | 'target' | 'anyHost' | 'bind' | 'remoteClients' | 'localTarget';

export interface DiagramNode {
  id: string;
  kind: NodeKind;
  title: string;
  subtitle: string;
  tone: Tone;
  /** One or two words: "connected", "failed: connection refused". */
  status: string;
  /** The full reason, for a failing or warning node. */
  reason?: string;
  /** Grid position: columns run from this machine (left) to the far side (right). */
  col: number;
  row: number;
}

export interface DiagramEdge {
  id: string;
  source: string;
  target: string;
  tone: Tone;
  /** "12.0 kB/s · 2 conn" while open. */
  label?: string;
  /** Bytes are moving right now: drawn animated. */
  flowing: boolean;
}

export interface DiagramModel {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
  cols: number;
  rows: number;
}

export interface DiagramInput {
  profile: Profile;
  state: TunnelState;
  stats: readonly ForwardStats[];
  rates: readonly ForwardRate[];
}

const NO_RATE: ForwardRate = { up: 0, down: 0, active: 0 };

/** Codes that belong to a forward rather than to the SSH hop that reported them. */
const LISTENER_CODES = new Set(['PORT_IN_USE', 'BIND_NOT_PERMITTED']);
const BIND_CODES = new Set(['REMOTE_FORWARD_REFUSED']);
const TARGET_CODES = new Set(['TARGET_REFUSED', 'CHANNEL_REFUSED']);

function stripUser(label: string): string {
  return label.slice(label.lastIndexOf('@') + 1);
}

/** Hop labels are `[user@]host:port`; the profile may leave the user to the engine's default. */
export function hopIndexOf(hops: readonly Endpoint[], label: string | undefined): number {
  if (!label) return -1;
  const where = stripUser(label);
  return hops.findIndex((h) => hostPort(h.host, h.port) === where);
}

/** Which forwards an error is about, read from the address its message names. */
function forwardsNamedIn(error: WireError, forwards: readonly Forward[], types: ReadonlySet<Forward['type']>): number[] {
  const candidates = forwards.flatMap((f, i) => (types.has(f.type) ? [i] : []));
  const named = candidates.filter((i) => {
    const f = forwards[i]!;
    return error.message.includes(hostPort(f.bindHost, f.bindPort)) || error.message.includes(`port ${f.bindPort}`);
  });
  return named.length > 0 ? named : candidates;
}

type Culprit = { kind: 'hop'; index: number } | { kind: 'listener' | 'bind' | 'target'; forwards: number[] };

function culpritOf(error: WireError, path: Path): Culprit {
  if (LISTENER_CODES.has(error.code)) return { kind: 'listener', forwards: forwardsNamedIn(error, path.forwards, new Set(['local', 'dynamic'])) };
  if (BIND_CODES.has(error.code)) return { kind: 'bind', forwards: forwardsNamedIn(error, path.forwards, new Set(['remote'])) };
  const hop = path.hopOf ? path.hopOf(error.hop) : hopIndexOf(path.endpoints, error.hop);
  if (hop >= 0) return { kind: 'hop', index: hop };
  if (TARGET_CODES.has(error.code)) return { kind: 'target', forwards: path.forwards.map((_, i) => i) };
  return { kind: 'hop', index: path.unclaimed(error.code) };
}

/** The hops and forwards of a profile, whatever its kind, as the diagram draws them. */
interface Path {
  hops: Array<{ title: string; subtitle: string }>;
  /** For matching an error's hop label; Cloud Foundry hops are named by the platform instead. */
  endpoints: Endpoint[];
  forwards: Forward[];
  /** Target titles per forward, where the forward's own host:port is not the whole story. */
  targets: Array<{ title: string; subtitle: string } | undefined>;
  /** A hop's subtitle from the engine's live label, where the title already says what the label's prefix does. */
  liveSubtitle?(label: string): string;
  /** The hop an error's hop label names, when the labels are not endpoints; -1 for none. */
  hopOf?(label: string | undefined): number;
  /** The hop that takes a failure no hop claims. */
  unclaimed(code: string): number;
}

function sshPath(p: Extract<Profile, { kind: 'ssh' }>): Path {
  const endpoints = [...p.jumps, p.server];
  return {
    hops: endpoints.map((e, i) => ({ title: hopTitle(i, endpoints.length), subtitle: e.user ? `${e.user}@${hostPort(e.host, e.port)}` : hostPort(e.host, e.port) })),
    endpoints,
    forwards: p.forwards,
    targets: [],
    // Bad settings or an internal error stop the session at the server.
    unclaimed: () => endpoints.length - 1,
  };
}

/**
 * Cloud Foundry: local client → ssh-proxy → app container (app/instance on a diego-cell) → service.
 * While open, the hops are labelled by the engine ("ssh-proxy host:port", "container app/0") and the
 * service's address comes from this session's VCAP_SERVICES.
 */
function cloudFoundryPath(p: CloudFoundryProfile, open: Extract<TunnelState, { state: 'open' }> | undefined): Path {
  const target = p.target ?? { host: p.service ?? 'service', port: 0 };
  const forward: Forward = { type: 'local', bindHost: p.local.bindHost, bindPort: p.local.bindPort, targetHost: target.host, targetPort: target.port };
  const live = open?.forwards.find((f) => f.index === 0);
  const where = live?.targetHost !== undefined && live.targetPort !== undefined ? hostPort(live.targetHost, live.targetPort) : undefined;
  const service = live?.service?.name ?? p.service;
  return {
    hops: [
      { title: 'SSH proxy', subtitle: hostOf(p.api) },
      { title: 'App container', subtitle: `${p.app}/${p.instance}` },
    ],
    endpoints: [],
    forwards: [forward],
    targets: [
      service
        ? { title: `Service ${service}`, subtitle: where ?? 'bound service' }
        : { title: 'Target', subtitle: p.target ? hostPort(p.target.host, p.target.port) : 'service' },
    ],
    // "ssh-proxy host:port" under the title "SSH proxy" reads twice; so does "container app/0".
    liveSubtitle: (label) => label.replace(/^(ssh-proxy|container) /, ''),
    // The engine names the container "container app/i"; the proxy, UAA and the API are reached before it.
    hopOf: (label) => (label === undefined ? -1 : /^container /.test(label) ? 1 : /^(ssh-proxy|uaa|api) /.test(label) ? 0 : -1),
    // A missing app or service is the container's side; logins and the proxy are the proxy's.
    unclaimed: (code) => (code === 'CONFIG_INVALID' ? 1 : 0),
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function liveHopSubtitle(path: Path, label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  return path.liveSubtitle ? path.liveSubtitle(label) : label;
}

const failedStatus = (e: WireError) => `failed: ${shortReason(e.code)}`;

function errorOf(state: TunnelState): WireError | undefined {
  return state.state === 'failed' || state.state === 'reconnecting' ? state.error : undefined;
}

interface HopLook {
  tone: Tone;
  status: string;
  reason?: string;
}

function hopLook(state: TunnelState, index: number, culprit: Culprit | undefined): HopLook {
  const error = errorOf(state);
  switch (state.state) {
    case 'stopped':
    case 'closed':
      return { tone: 'idle', status: 'stopped' };
    case 'connecting':
      return { tone: 'pending', status: 'connecting…' };
    case 'open':
      return { tone: 'ok', status: 'connected' };
    case 'reconnecting':
    case 'failed': {
      const failing = culprit?.kind === 'hop' ? culprit.index : -1;
      if (index === failing) return { tone: 'failed', status: failedStatus(error!), reason: error!.message };
      if (failing >= 0 && index > failing) return { tone: 'idle', status: 'not reached' };
      return state.state === 'reconnecting' ? { tone: 'pending', status: 'will retry' } : { tone: 'idle', status: 'stopped' };
    }
  }
}

/** Listeners stay bound while the engine reconnects; they are closed once it has failed or stopped. */
function listenerLook(state: TunnelState, forward: number, culprit: Culprit | undefined): HopLook {
  const error = errorOf(state);
  if (error && culprit?.kind === 'listener' && culprit.forwards.includes(forward)) {
    return { tone: 'failed', status: failedStatus(error), reason: error.message };
  }
  switch (state.state) {
    case 'open':
      return { tone: 'ok', status: 'listening' };
    case 'connecting':
      return { tone: 'pending', status: 'listening' };
    case 'reconnecting':
      return { tone: 'warning', status: 'holding clients' };
    default:
      return { tone: 'idle', status: 'closed' };
  }
}

function bindLook(state: TunnelState, forward: number, culprit: Culprit | undefined): HopLook {
  const error = errorOf(state);
  if (error && culprit?.kind === 'bind' && culprit.forwards.includes(forward)) {
    return { tone: 'failed', status: failedStatus(error), reason: error.message };
  }
  if (state.state === 'open') return { tone: 'ok', status: 'listening' };
  if (state.state === 'connecting' || state.state === 'reconnecting') return { tone: 'pending', status: 'waiting for session' };
  return { tone: 'idle', status: 'not bound' };
}

/**
 * The far end is reached per connection, so its state comes from the forward's counters: refused
 * recently and nothing connected now is a failure; refused but others connected is a warning.
 */
function targetLook(state: TunnelState, forward: number, stats: ForwardStats | undefined, culprit: Culprit | undefined): HopLook {
  const error = errorOf(state);
  if (error && culprit?.kind === 'target' && culprit.forwards.includes(forward)) {
    return { tone: 'failed', status: failedStatus(error), reason: error.message };
  }
  if (state.state !== 'open') return { tone: 'idle', status: 'not reached' };
  if (stats?.lastError) {
    const reason = stats.lastError.message;
    return stats.active > 0
      ? { tone: 'warning', status: `some failed: ${shortReason(stats.lastError.code)}`, reason }
      : { tone: 'failed', status: failedStatus(stats.lastError), reason };
  }
  if (stats && stats.total > stats.failed) return { tone: 'ok', status: 'reached' };
  return { tone: 'idle', status: 'reached on demand' };
}

function clientLook(rate: ForwardRate, state: TunnelState): HopLook {
  if (state.state !== 'open' && state.state !== 'reconnecting') return { tone: 'idle', status: 'idle' };
  return rate.active > 0 ? { tone: 'ok', status: `${rate.active} connected` } : { tone: 'idle', status: 'none connected' };
}

function edgeLabel(rate: ForwardRate): string {
  return `${formatRate(bothWays(rate))} · ${formatConnections(rate.active)}`;
}

function hopTitle(index: number, count: number): string {
  return index === count - 1 ? 'SSH server' : count > 2 ? `Jump host ${index + 1}` : 'Jump host';
}

/** An edge's tone: failed when either end failed, else the calmer of the two ends. */
function edgeTone(a: Tone, b: Tone): Tone {
  if (a === 'failed' || b === 'failed') return 'failed';
  const order: Tone[] = ['idle', 'pending', 'warning', 'ok'];
  return order[Math.min(order.indexOf(a), order.indexOf(b))]!;
}

export function diagramModel({ profile, state, stats, rates }: DiagramInput): DiagramModel {
  const open = state.state === 'open' ? state : undefined;
  const path = profile.kind === 'ssh' ? sshPath(profile) : cloudFoundryPath(profile, open);
  const { hops } = path;
  const error = errorOf(state);
  const culprit = error ? culpritOf(error, path) : undefined;
  const rows = path.forwards.length;
  const hopRow = (rows - 1) / 2;
  const firstHopCol = 2;
  const serverCol = firstHopCol + hops.length - 1;
  const farCol = serverCol + 1;

  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const byId = new Map<string, DiagramNode>();
  const add = (node: DiagramNode) => {
    nodes.push(node);
    byId.set(node.id, node);
  };
  const connect = (source: string, target: string, rate: ForwardRate | undefined) => {
    const tone = edgeTone(byId.get(source)!.tone, byId.get(target)!.tone);
    const live = open && rate;
    edges.push({ id: `${source}->${target}`, source, target, tone, flowing: Boolean(live && bothWays(rate) > 0), ...(live ? { label: edgeLabel(rate) } : {}) });
  };

  hops.forEach((hop, i) => {
    add({
      id: `hop-${i}`,
      kind: 'hop',
      title: hop.title,
      subtitle: liveHopSubtitle(path, open?.hops[i]?.label) ?? hop.subtitle,
      ...hopLook(state, i, culprit),
      col: firstHopCol + i,
      row: hopRow,
    });
  });
  const all = totalRate(rates);
  for (let i = 1; i < hops.length; i++) connect(`hop-${i - 1}`, `hop-${i}`, all);

  path.forwards.forEach((forward, i) => {
    const rate = rates[i] ?? NO_RATE;
    const live = open?.forwards.find((f) => f.index === i);
    const bindPort = live?.bindPort ?? forward.bindPort;
    const lane = (suffix: string) => `f${i}-${suffix}`;
    if (forward.type === 'remote') {
      add({ id: lane('target'), kind: 'localTarget', title: 'Local target', subtitle: hostPort(forward.targetHost, forward.targetPort), ...targetLook(state, i, stats[i], culprit), col: 1, row: i });
      add({ id: lane('bind'), kind: 'bind', title: 'Server bind', subtitle: hostPort(forward.bindHost, bindPort), ...bindLook(state, i, culprit), col: farCol, row: i });
      add({ id: lane('clients'), kind: 'remoteClients', title: 'Remote clients', subtitle: 'on the server side', ...clientLook(rate, state), col: farCol + 1, row: i });
      connect(lane('clients'), lane('bind'), rate);
      connect(lane('bind'), `hop-${hops.length - 1}`, rate);
      connect('hop-0', lane('target'), rate);
      return;
    }
    const socks = forward.type === 'dynamic';
    add({ id: lane('client'), kind: 'client', title: socks ? 'Local apps' : 'Local client', subtitle: socks ? 'via SOCKS proxy' : 'your app', ...clientLook(rate, state), col: 0, row: i });
    add({
      id: lane('listener'),
      kind: 'listener',
      title: socks ? 'SOCKS listener' : 'Local listener',
      subtitle: hostPort(live?.bindHost ?? forward.bindHost, bindPort),
      ...listenerLook(state, i, culprit),
      col: 1,
      row: i,
    });
    add(
      socks
        ? { id: lane('target'), kind: 'anyHost', title: 'Any host', subtitle: 'named by each app', ...targetLook(state, i, stats[i], culprit), col: farCol, row: i }
        : {
            id: lane('target'),
            kind: 'target',
            title: path.targets[i]?.title ?? 'Target',
            subtitle: path.targets[i]?.subtitle ?? hostPort(forward.targetHost, forward.targetPort),
            ...targetLook(state, i, stats[i], culprit),
            col: farCol,
            row: i,
          },
    );
    connect(lane('client'), lane('listener'), rate);
    connect(lane('listener'), 'hop-0', rate);
    connect(`hop-${hops.length - 1}`, lane('target'), rate);
  });

  const hasRemoteClients = path.forwards.some((f) => f.type === 'remote');
  return { nodes, edges, cols: farCol + (hasRemoteClients ? 2 : 1), rows };
}
