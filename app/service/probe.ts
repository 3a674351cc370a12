// A health check through an open tunnel: a real TCP connection to a forward's local end, which the
// engine carries through the SSH session to the target. For MySQL (and MariaDB) the server speaks
// first, so its greeting packet proves the whole path and names the server's version; for anything
// else, a connection the tunnel keeps for a moment (rather than closing because the target refused)
// is what "healthy" can mean without speaking the target's protocol.
import { connect, type Socket } from 'node:net';
import { hostPort } from '../shared/address.js';
import { TunnelError, toWireError, type WireError } from '../shared/errors.js';

export type MysqlGreeting =
  | { kind: 'incomplete' }
  | { kind: 'greeting'; protocolVersion: number; serverVersion: string; connectionId: number }
  /** The server answered with an error packet (too many connections, host not allowed…). */
  | { kind: 'error'; errorCode: number; message: string }
  | { kind: 'invalid'; reason: string };

/**
 * Reads the first packet a MySQL server sends: 3-byte little-endian length, sequence id 0, then
 * either the HandshakeV10 payload (protocol 10, NUL-terminated version, connection id, …) or an
 * ERR packet (0xff, error code, optional `#` + SQL state, message).
 */
export function parseMysqlGreeting(data: Uint8Array): MysqlGreeting {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 4) return { kind: 'incomplete' };
  const length = buf.readUIntLE(0, 3);
  const seq = buf[3]!;
  if (length === 0 || length > 1024) return { kind: 'invalid', reason: `a first packet of ${length} bytes is not a MySQL greeting` };
  if (seq !== 0) return { kind: 'invalid', reason: `the first packet has sequence id ${seq}, not 0` };
  if (buf.length < 4 + length) return { kind: 'incomplete' };
  const payload = buf.subarray(4, 4 + length);
  const first = payload[0]!;
  if (first === 0xff) {
    if (payload.length < 3) return { kind: 'invalid', reason: 'a truncated error packet' };
    const errorCode = payload.readUInt16LE(1);
    let text = payload.subarray(3);
    if (text[0] === 0x23 /* # */ && text.length >= 6) text = text.subarray(6);
    return { kind: 'error', errorCode, message: text.toString('utf8') };
  }
  if (first !== 10) return { kind: 'invalid', reason: first === 9 ? 'protocol version 9 (MySQL 3.x) is not supported' : `protocol version ${first} is not MySQL's` };
  const end = payload.indexOf(0, 1);
  if (end < 0 || payload.length < end + 5) return { kind: 'invalid', reason: 'the server version is not terminated' };
  const serverVersion = payload.subarray(1, end).toString('latin1');
  if (!/^[\x20-\x7e]{1,120}$/.test(serverVersion)) return { kind: 'invalid', reason: 'the server version is not printable text' };
  return { kind: 'greeting', protocolVersion: first, serverVersion, connectionId: payload.readUInt32LE(end + 1) };
}

/**
 * "MariaDB 10.11.6" or "MySQL 8.0.36" from the greeting's version. MariaDB servers prefix theirs
 * with "5.5.5-" so that old replication clients keep working; that prefix is not the version.
 */
export function describeMysqlVersion(serverVersion: string): string {
  const v = serverVersion.replace(/^5\.5\.5-/, '');
  const number = /^\d+(\.\d+)*/.exec(v)?.[0] ?? v;
  return /mariadb/i.test(v) ? `MariaDB ${number}` : `MySQL ${number}`;
}

export type ProbeCheck = 'tcp' | 'mysql';

export type ProbeOutcome =
  | { ok: true; endpoint: string; check: ProbeCheck; ms: number; server?: string; serverVersion?: string }
  | { ok: false; endpoint: string; check: ProbeCheck; error: WireError };

export interface ProbeOptions {
  host: string;
  port: number;
  check: ProbeCheck;
  timeoutMs?: number;
  /** Without a greeting to wait for, how long the tunnel must keep the connection to count as carried. */
  settleMs?: number;
  /** Why the tunnel closed the connection, when it knows (the forward's last dial error, if new). */
  whyClosed?(): WireError | undefined;
}

/** One probe; never throws: a failure is data, with a code a person can act on. */
export function probeEndpoint(opts: ProbeOptions): Promise<ProbeOutcome> {
  const { host, port, check } = opts;
  const endpoint = hostPort(host, port);
  const timeoutMs = opts.timeoutMs ?? 8_000;
  const settleMs = opts.settleMs ?? 750;
  const started = Date.now();
  return new Promise((resolve) => {
    // Events arrive on later ticks, so every handler below is in place before the first one.
    const sock: Socket = connect({ host, port });
    let settled = false;
    let received = Buffer.alloc(0);
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(settle);
      sock.destroy();
      resolve(outcome);
    };
    const fail = (err: TunnelError | WireError) => finish({ ok: false, endpoint, check, error: err instanceof TunnelError ? toWireError(err) : err });
    const closedEarly = () => {
      const why = opts.whyClosed?.();
      if (why) return fail(why);
      fail(new TunnelError('TARGET_REFUSED', `The tunnel accepted the connection at ${endpoint}, then closed it: the target did not take it.`));
    };
    const timer = setTimeout(
      () =>
        fail(
          new TunnelError(
            'CONNECT_TIMEOUT',
            received.length === 0 && connected && check === 'mysql'
              ? `No MySQL greeting through ${endpoint} within ${timeoutMs / 1000} s.`
              : `No answer from ${endpoint} within ${timeoutMs / 1000} s.`,
          ),
        ),
      timeoutMs,
    );
    let settle: NodeJS.Timeout | undefined;
    let connected = false;
    sock.once('connect', () => {
      connected = true;
      if (check === 'tcp') settle = setTimeout(() => finish({ ok: true, endpoint, check, ms: Date.now() - started }), settleMs);
    });
    sock.on('data', (chunk: Buffer) => {
      if (check === 'tcp') return finish({ ok: true, endpoint, check, ms: Date.now() - started });
      received = Buffer.concat([received, chunk]);
      const greeting = parseMysqlGreeting(received);
      const ms = Date.now() - started;
      switch (greeting.kind) {
        case 'incomplete':
          return;
        case 'greeting':
          return finish({ ok: true, endpoint, check, ms, server: describeMysqlVersion(greeting.serverVersion), serverVersion: greeting.serverVersion });
        case 'error':
          return fail(new TunnelError('TARGET_REFUSED', `The MySQL server behind ${endpoint} answered with error ${greeting.errorCode}: ${greeting.message}`));
        case 'invalid':
          return fail(new TunnelError('PROTOCOL', `What came back through ${endpoint} is not a MySQL greeting: ${greeting.reason}.`));
      }
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        return fail(new TunnelError('CONNECT_REFUSED', `Nothing accepts connections at ${endpoint} (${err.code ?? err.message}).`));
      }
      closedEarly();
    });
    sock.once('close', () => closedEarly());
  });
}
