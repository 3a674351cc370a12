// Runs tunnels in the foreground until SIGINT/SIGTERM, printing what happens: human lines by
// default, one JSON object per line with --json. Exit status: 0 after a clean stop, 255 (as ssh)
// when every tunnel failed.
import type { Writable } from 'node:stream';
import type { Profile } from '../profiles/schema.js';
import { describeError } from '../shared/errors.js';
import { isLoopback } from '../shared/address.js';
import type { Prompter, SecretResolver } from '../engine/prompts.js';
import { Tunnel, type LogEntry, type OpenForward, type TunnelState } from '../engine/tunnel.js';
import { cloudFoundryConnector } from '../cloudfoundry/connector.js';

export const EXIT_FAILED = 255;

export interface RunOptions {
  json: boolean;
  verbose: boolean;
  prompter: Prompter;
  secrets?: SecretResolver;
  stdout?: Writable;
  stderr?: Writable;
  /** Extra human lines printed once every tunnel is open (the demo's "open this URL"). */
  onAllOpen?: () => string[];
  /** Cloud Foundry services: put the password into the printed connection details (asked for explicitly). */
  showPassword?: boolean;
}

function destination(p: Profile): string {
  if (p.kind === 'cloudfoundry') return `app ${p.app} (instance ${p.instance}) in ${p.org}/${p.space} at ${p.api}`;
  const via = p.jumps.length ? ` via ${p.jumps.map((j) => `${j.user ? `${j.user}@` : ''}${j.host}:${j.port}`).join(' → ')}` : '';
  return `${p.server.host}:${p.server.port}${via}`;
}

/** A forward that others can reach is one the person must have meant: say so every time it opens. */
function exposure(f: OpenForward): string | undefined {
  if (isLoopback(f.bindHost)) return undefined;
  const where = f.type === 'remote' ? `on the server at ${f.bindHost} (as far as its GatewayPorts allows)` : `on ${f.bindHost}, beyond this machine`;
  return `      warning: listening ${where}: anyone who can reach that address can use this tunnel.`;
}

function describeForward(f: OpenForward): string {
  const flag = `  ${f.type === 'local' ? '-L' : f.type === 'remote' ? '-R' : '-D'} ${f.label}`;
  const warning = exposure(f);
  const line = warning ? `${flag}\n${warning}` : flag;
  if (!f.service) return line;
  const s = f.service;
  return [`${line}   (service ${s.name} at ${s.host})`, `      ${s.command}`, `      ${s.uri}`, `      ${s.jdbcUrl}`].join('\n');
}

function describeState(p: Profile, s: TunnelState): string | undefined {
  switch (s.state) {
    case 'connecting':
      return `${p.name}: connecting to ${destination(p)}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}…`;
    case 'open': {
      const path = s.hops.map((h) => h.label).join(' → ');
      return `${p.name}: open through ${path}\n${s.forwards.map(describeForward).join('\n')}`;
    }
    case 'reconnecting':
      return `${p.name}: ${describeError(s.error)} Reconnecting in ${(s.delayMs / 1000).toFixed(1)} s (${s.attempt} failed attempt${s.attempt === 1 ? '' : 's'} in a row).`;
    case 'failed':
      return undefined;
    case 'closed':
      return `${p.name}: closed.`;
    case 'stopped':
      return undefined;
  }
}

export async function runTunnels(profiles: Profile[], opts: RunOptions): Promise<number> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const json = (obj: Record<string, unknown>) => out.write(`${JSON.stringify({ time: new Date().toISOString(), ...obj })}\n`);
  // The connector's own lines (a Cloud Foundry opt-in's warning) are printed as the tunnel's are.
  const printLog = (p: Profile, entry: LogEntry) => {
    if (opts.json) json({ event: 'log', profile: p.id, level: entry.level, message: entry.message });
    else if (opts.verbose || entry.level === 'warn') err.write(`${p.name}: ${entry.message}\n`);
  };
  const tunnels = profiles.map(
    (profile) =>
      new Tunnel({
        profile,
        prompter: opts.prompter,
        ...(opts.secrets ? { secrets: opts.secrets } : {}),
        ...(profile.kind === 'cloudfoundry'
          ? { connector: cloudFoundryConnector(profile, { prompter: opts.prompter, secrets: opts.secrets, showPassword: !!opts.showPassword, log: (level, message) => printLog(profile, { time: Date.now(), level, message }) }) }
          : {}),
      }),
  );
  let failed = 0;
  let announced = false;

  const done = new Promise<void>((resolve) => {
    const settle = () => {
      const states = tunnels.map((t) => t.state.state);
      if (states.every((s) => s === 'failed' || s === 'closed')) resolve();
      if (!announced && states.every((s) => s === 'open')) {
        announced = true;
        if (!opts.json) out.write(`${[...(opts.onAllOpen?.() ?? []), 'Press Ctrl-C to close.'].join('\n')}\n`);
      }
    };
    for (const t of tunnels) {
      const p = t.profile;
      t.on('state', (s) => {
        if (s.state === 'failed') failed++;
        if (opts.json) {
          json({ event: 'state', profile: p.id, ...s });
        } else if (s.state === 'failed') {
          err.write(`tunnelvision: ${p.name}: ${describeError(s.error)}\n`);
        } else {
          const line = describeState(p, s);
          if (line) out.write(`${line}\n`);
        }
        settle();
      });
      t.on('log', (entry: LogEntry) => printLog(p, entry));
    }
  });

  const stopAll = () => Promise.all(tunnels.map((t) => t.stop()));
  const onSignal = () => void stopAll();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  for (const t of tunnels) t.start();
  await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await stopAll();
  return failed === tunnels.length ? EXIT_FAILED : failed > 0 ? 1 : 0;
}
