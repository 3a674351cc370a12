import { describe, expect, it } from 'vitest';
import { diagramModel, hopIndexOf, type DiagramModel } from '../../renderer/src/diagram/model.js';
import type { ErrorCode } from '../../app/shared/errors.js';
import { parseProfile } from '../../app/profiles/validate.js';
import { profile, stats, wire } from './fixtures.js';

const node = (m: DiagramModel, id: string) => {
  const n = m.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id} in ${m.nodes.map((x) => x.id).join(', ')}`);
  return n;
};
const edge = (m: DiagramModel, source: string, target: string) => m.edges.find((e) => e.source === source && e.target === target)!;

const jumped = profile({ jumps: [{ host: 'jump1', user: 'ops' }, { host: 'jump2', port: 2222 }] });
const openState = {
  state: 'open' as const,
  since: 0,
  hops: [{ label: 'ops@jump1:22' }, { label: 'me@jump2:2222' }, { label: 'me@bastion.example.com:22' }],
  forwards: [{ index: 0, type: 'local' as const, label: '-L 13306:10.0.4.12:3306', bindHost: '127.0.0.1', bindPort: 13306, targetHost: '10.0.4.12', targetPort: 3306 }],
};

describe('diagram model: -L through jump hosts', () => {
  it('draws local client → listener → each jump → SSH server → target, left to right', () => {
    const m = diagramModel({ profile: jumped, state: { state: 'stopped' }, stats: [], rates: [] });
    const path = ['f0-client', 'f0-listener', 'hop-0', 'hop-1', 'hop-2', 'f0-target'];
    expect(path.map((id) => node(m, id).col)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(path.slice(1).map((id, i) => edge(m, path[i]!, id))).not.toContain(undefined);
    expect(node(m, 'f0-listener').subtitle).toBe('127.0.0.1:13306');
    expect(node(m, 'hop-0')).toMatchObject({ title: 'Jump host 1', subtitle: 'ops@jump1:22' });
    expect(node(m, 'hop-1')).toMatchObject({ title: 'Jump host 2', subtitle: 'jump2:2222' });
    expect(node(m, 'hop-2')).toMatchObject({ title: 'SSH server', subtitle: 'bastion.example.com:22' });
    expect(node(m, 'f0-target').subtitle).toBe('10.0.4.12:3306');
    expect(m.nodes.every((n) => n.tone === 'idle')).toBe(true);
    expect(m.edges.every((e) => e.label === undefined && !e.flowing)).toBe(true);
    expect(m).toMatchObject({ cols: 6, rows: 1 });
  });

  it('is all pending while connecting', () => {
    const m = diagramModel({ profile: jumped, state: { state: 'connecting', attempt: 1 }, stats: [], rates: [] });
    expect(['hop-0', 'hop-1', 'hop-2', 'f0-listener'].map((id) => node(m, id).tone)).toEqual(['pending', 'pending', 'pending', 'pending']);
  });

  it('goes green when open, with the engine\'s hop labels and live rates on every edge', () => {
    const m = diagramModel({
      profile: jumped,
      state: openState,
      stats: [stats({ active: 2, total: 3 })],
      rates: [{ up: 1_000, down: 11_000, active: 2 }],
    });
    expect(['f0-client', 'f0-listener', 'hop-0', 'hop-1', 'hop-2', 'f0-target'].map((id) => node(m, id).tone)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(node(m, 'hop-1').subtitle).toBe('me@jump2:2222');
    expect(node(m, 'f0-client').status).toBe('2 connected');
    expect(edge(m, 'hop-0', 'hop-1')).toMatchObject({ tone: 'ok', label: '12.0 kB/s · 2 conn', flowing: true });
    expect(edge(m, 'hop-2', 'f0-target').label).toBe('12.0 kB/s · 2 conn');
  });

  it('shows the target as reached on demand until a connection went through', () => {
    const m = diagramModel({ profile: jumped, state: openState, stats: [stats()], rates: [{ up: 0, down: 0, active: 0 }] });
    expect(node(m, 'f0-target')).toMatchObject({ tone: 'idle', status: 'reached on demand' });
    expect(edge(m, 'f0-client', 'f0-listener')).toMatchObject({ label: '0 B/s · 0 conn', flowing: false });
  });

  it('marks the hop named by the error red with its reason, earlier hops retrying, later ones not reached', () => {
    const error = wire('CONNECT_REFUSED', 'jump2:2222 refused the connection.', 'me@jump2:2222');
    const m = diagramModel({ profile: jumped, state: { state: 'reconnecting', attempt: 2, delayMs: 2_000, error }, stats: [], rates: [] });
    expect(node(m, 'hop-0')).toMatchObject({ tone: 'pending', status: 'will retry' });
    expect(node(m, 'hop-1')).toMatchObject({ tone: 'failed', status: 'failed: connection refused', reason: 'jump2:2222 refused the connection.' });
    expect(node(m, 'hop-2')).toMatchObject({ tone: 'idle', status: 'not reached' });
    expect(node(m, 'f0-listener')).toMatchObject({ tone: 'warning', status: 'holding clients' });
    expect(edge(m, 'hop-0', 'hop-1').tone).toBe('failed');
    expect(edge(m, 'hop-1', 'hop-2').tone).toBe('failed');
  });

  it.each<[ErrorCode, string]>([
    ['DNS', 'failed: DNS lookup failed'],
    ['AUTH_FAILED', 'failed: authentication failed'],
    ['HOST_KEY_CHANGED', 'failed: host key changed'],
    ['HOST_KEY_REJECTED', 'failed: host key rejected'],
  ])('puts a %s failure of the server on the server node', (code, status) => {
    const m = diagramModel({ profile: jumped, state: { state: 'failed', error: wire(code, 'why', 'bastion.example.com:22') }, stats: [], rates: [] });
    expect(node(m, 'hop-2')).toMatchObject({ tone: 'failed', status, reason: 'why' });
    expect(node(m, 'hop-0')).toMatchObject({ tone: 'idle', status: 'stopped' });
    expect(node(m, 'f0-listener').tone).toBe('idle');
  });

  it('puts a port already in use on the listener that names it', () => {
    const two = profile({ forwards: [{ type: 'local', bindPort: 13306, targetHost: 'db', targetPort: 3306 }, { type: 'dynamic', bindPort: 1080 }] });
    const error = wire('PORT_IN_USE', 'Local port 127.0.0.1:1080 is already in use.');
    const m = diagramModel({ profile: two, state: { state: 'failed', error }, stats: [], rates: [] });
    expect(node(m, 'f1-listener')).toMatchObject({ tone: 'failed', status: 'failed: port in use' });
    expect(node(m, 'f0-listener').tone).toBe('idle');
    expect(node(m, 'hop-0').tone).toBe('idle');
  });

  it('puts a refused target on the target: red when nothing gets through, amber when some do', () => {
    const lastError = wire('TARGET_REFUSED', 'bastion could not connect to 10.0.4.12:3306: ECONNREFUSED.', 'bastion.example.com:22');
    const refused = diagramModel({ profile: jumped, state: openState, stats: [stats({ total: 2, failed: 2, lastError })], rates: [] });
    expect(node(refused, 'f0-target')).toMatchObject({ tone: 'failed', status: 'failed: target refused', reason: lastError.message });
    expect(node(refused, 'hop-2').tone).toBe('ok');
    const some = diagramModel({ profile: jumped, state: openState, stats: [stats({ active: 1, total: 3, failed: 1, lastError: wire('CHANNEL_REFUSED', 'prohibited') })], rates: [] });
    expect(node(some, 'f0-target')).toMatchObject({ tone: 'warning', status: 'some failed: channel refused' });
  });

  it('puts an error that names no hop on the SSH server', () => {
    const m = diagramModel({ profile: jumped, state: { state: 'failed', error: wire('INTERNAL', 'boom') }, stats: [], rates: [] });
    expect(node(m, 'hop-2').tone).toBe('failed');
  });
});

describe('diagram model: -R and -D', () => {
  it('draws -R as remote clients → server bind → SSH server → local target', () => {
    const p = profile({ forwards: [{ type: 'remote', bindPort: 0, targetPort: 3000 }] });
    const state = { state: 'open' as const, since: 0, hops: [{ label: 'me@bastion.example.com:22' }], forwards: [{ index: 0, type: 'remote' as const, label: '-R', bindHost: '127.0.0.1', bindPort: 8080, targetHost: '127.0.0.1', targetPort: 3000 }] };
    const m = diagramModel({ profile: p, state, stats: [stats()], rates: [] });
    expect(node(m, 'f0-clients')).toMatchObject({ title: 'Remote clients', col: 4 });
    expect(node(m, 'f0-bind')).toMatchObject({ title: 'Server bind', subtitle: '127.0.0.1:8080', tone: 'ok', col: 3 });
    expect(node(m, 'f0-target')).toMatchObject({ title: 'Local target', subtitle: '127.0.0.1:3000', col: 1 });
    expect(edge(m, 'f0-clients', 'f0-bind')).toBeDefined();
    expect(edge(m, 'f0-bind', 'hop-0')).toBeDefined();
    expect(edge(m, 'hop-0', 'f0-target')).toBeDefined();
    expect(m.cols).toBe(5);
  });

  it('marks the server bind red when the server refuses the -R forward', () => {
    const p = profile({ forwards: [{ type: 'remote', bindPort: 8080, targetPort: 3000 }] });
    const error = wire('REMOTE_FORWARD_REFUSED', 'bastion.example.com:22 refused to listen on 127.0.0.1:8080 for -R.', 'bastion.example.com:22');
    const m = diagramModel({ profile: p, state: { state: 'failed', error }, stats: [], rates: [] });
    expect(node(m, 'f0-bind')).toMatchObject({ tone: 'failed', status: 'failed: remote forward refused' });
    expect(node(m, 'hop-0').tone).toBe('idle');
  });

  it('draws -D as local apps → SOCKS listener → SSH server → any host', () => {
    const p = profile({ forwards: [{ type: 'dynamic', bindPort: 1080 }] });
    const m = diagramModel({ profile: p, state: { state: 'stopped' }, stats: [], rates: [] });
    expect(m.nodes.map((n) => `${n.col}:${n.title}`)).toEqual(['2:SSH server', '0:Local apps', '1:SOCKS listener', '3:Any host']);
  });

  it('centres the shared hops between several forwards', () => {
    const p = profile({ forwards: [{ type: 'local', bindPort: 1, targetHost: 'a', targetPort: 1 }, { type: 'local', bindPort: 2, targetHost: 'b', targetPort: 2 }, { type: 'dynamic', bindPort: 3 }] });
    const m = diagramModel({ profile: p, state: { state: 'stopped' }, stats: [], rates: [] });
    expect(node(m, 'hop-0').row).toBe(1);
    expect(node(m, 'f2-listener').row).toBe(2);
    expect(m.rows).toBe(3);
  });
});

describe('hopIndexOf', () => {
  it('matches a hop label with or without the user the engine filled in, IPv6 bracketed', () => {
    const hops = [{ host: '::1', port: 22, auth: { method: 'auto' as const, keyFiles: [] } }, { host: 'b', port: 2222, user: 'x', auth: { method: 'auto' as const, keyFiles: [] } }];
    expect(hopIndexOf(hops, 'root@[::1]:22')).toBe(0);
    expect(hopIndexOf(hops, 'x@b:2222')).toBe(1);
    expect(hopIndexOf(hops, 'b:22')).toBe(-1);
    expect(hopIndexOf(hops, undefined)).toBe(-1);
  });
});

describe('diagram model: Cloud Foundry', () => {
  const cfProfile = (over: Record<string, unknown> = {}) => {
    const parsed = parseProfile({ kind: 'cloudfoundry', id: 'orders-db', name: 'Orders DB', api: 'https://api.sys.example.com', org: 'acme', space: 'dev', app: 'orders', instance: 1, service: 'orders-db', local: { bindPort: 13306 }, ...over });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return parsed.value;
  };
  const cfOpen = {
    state: 'open' as const,
    since: 0,
    hops: [{ label: 'ssh-proxy ssh.sys.example.com:2222', hostKey: { type: 'ssh-rsa', fingerprint: 'SHA256:x' } }, { label: 'container orders/1' }],
    forwards: [
      {
        index: 0,
        type: 'local' as const,
        label: '-L 13306:10.0.8.4:3306',
        bindHost: '127.0.0.1',
        bindPort: 13306,
        targetHost: '10.0.8.4',
        targetPort: 3306,
        service: { name: 'orders-db', host: '10.0.8.4', user: 'app', database: 'orders', command: 'mysql -h 127.0.0.1 -P 13306 -u app -p orders', uri: 'mysql://app@127.0.0.1:13306/orders', jdbcUrl: 'jdbc:mysql://127.0.0.1:13306/orders?user=app' },
      },
    ],
  };

  it('draws local client → listener → ssh-proxy → app container → service, left to right', () => {
    const m = diagramModel({ profile: cfProfile(), state: { state: 'stopped' }, stats: [], rates: [] });
    const path = ['f0-client', 'f0-listener', 'hop-0', 'hop-1', 'f0-target'];
    expect(path.map((id) => node(m, id).col)).toEqual([0, 1, 2, 3, 4]);
    expect(path.slice(1).map((id, i) => edge(m, path[i]!, id))).not.toContain(undefined);
    expect(node(m, 'f0-listener').subtitle).toBe('127.0.0.1:13306');
    expect(node(m, 'hop-0')).toMatchObject({ title: 'SSH proxy', subtitle: 'api.sys.example.com' });
    expect(node(m, 'hop-1')).toMatchObject({ title: 'App container', subtitle: 'orders/1' });
    expect(node(m, 'f0-target')).toMatchObject({ kind: 'target', title: 'Service orders-db', subtitle: 'bound service', tone: 'idle' });
    expect(m).toMatchObject({ cols: 5, rows: 1 });
  });

  it('while open: the engine\'s hop labels and the service\'s address from this session, all green once used', () => {
    const m = diagramModel({ profile: cfProfile(), state: cfOpen, stats: [stats({ total: 1, active: 1 })], rates: [{ up: 2000, down: 1000, active: 1 }] });
    expect(node(m, 'hop-0')).toMatchObject({ title: 'SSH proxy', subtitle: 'ssh.sys.example.com:2222', tone: 'ok', status: 'connected' });
    expect(node(m, 'hop-1')).toMatchObject({ title: 'App container', subtitle: 'orders/1', tone: 'ok' });
    expect(node(m, 'f0-target')).toMatchObject({ title: 'Service orders-db', subtitle: '10.0.8.4:3306', tone: 'ok', status: 'reached' });
    expect(edge(m, 'hop-0', 'hop-1')).toMatchObject({ tone: 'ok', label: '3.00 kB/s · 1 conn', flowing: true });
    expect(edge(m, 'hop-1', 'f0-target')).toMatchObject({ tone: 'ok', flowing: true });
  });

  it('a manual target is drawn as host:port', () => {
    const m = diagramModel({ profile: cfProfile({ service: undefined, target: { host: 'db.internal', port: 5432 } }), state: { state: 'stopped' }, stats: [], rates: [] });
    expect(node(m, 'f0-target')).toMatchObject({ title: 'Target', subtitle: 'db.internal:5432' });
  });

  it.each([
    ['the ssh-proxy refusing the code', wire('AUTH_FAILED', 'The ssh-proxy refused the one-time code.', 'ssh-proxy ssh.sys.example.com:2222'), 'hop-0'],
    ['UAA refusing the login', wire('AUTH_FAILED', "The cf CLI's login has expired.", 'uaa login.sys.example.com'), 'hop-0'],
    ['SSH disabled for the app', wire('AUTH_FAILED', 'SSH to app "orders" is not allowed: ssh is disabled for space \'dev\'.', 'api api.sys.example.com'), 'hop-0'],
    ['the container failing to dial', wire('CHANNEL_REFUSED', 'container orders/1 could not connect to 10.0.8.4:3306.', 'container orders/1'), 'hop-1'],
    ['an app that is stopped (no hop named)', wire('CONFIG_INVALID', 'App "orders" is STOPPED.'), 'hop-1'],
  ])('%s: that node red, the ones behind it not reached', (_what, error, failing) => {
    const m = diagramModel({ profile: cfProfile(), state: { state: 'failed', error }, stats: [], rates: [] });
    expect(node(m, failing)).toMatchObject({ tone: 'failed', reason: error.message });
    const other = failing === 'hop-0' ? 'hop-1' : 'hop-0';
    expect(node(m, other).tone).toBe('idle');
    if (failing === 'hop-0') expect(node(m, 'hop-1').status).toBe('not reached');
  });

  it('a port already taken on this machine is the listener\'s fault', () => {
    const m = diagramModel({ profile: cfProfile(), state: { state: 'failed', error: wire('PORT_IN_USE', '127.0.0.1:13306 is already in use.') }, stats: [], rates: [] });
    expect(node(m, 'f0-listener').tone).toBe('failed');
    expect(['hop-0', 'hop-1'].map((id) => node(m, id).tone)).toEqual(['idle', 'idle']);
  });
});
