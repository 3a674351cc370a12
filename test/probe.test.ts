// The health probe's MySQL greeting parser, byte by byte, and the probe itself against small
// loopback servers that greet, refuse, close at once, or say nothing.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { describeMysqlVersion, parseMysqlGreeting, probeEndpoint } from '../app/service/probe.js';

/** A HandshakeV10 packet as MariaDB 10.11 sends it (the fields after the connection id abridged). */
function greeting(version: string, connectionId = 42, seq = 0): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32LE(connectionId);
  const rest = Buffer.concat([Buffer.from('abcdefgh'), Buffer.from([0, 0xfe, 0xf7, 0x2d, 0x02, 0x00, 0xff, 0x81, 0x15]), Buffer.alloc(10), Buffer.from('ijklmnopqrst\0mysql_native_password\0')]);
  const payload = Buffer.concat([Buffer.from([10]), Buffer.from(`${version}\0`, 'latin1'), id, rest]);
  return packet(payload, seq);
}

function packet(payload: Buffer, seq = 0): Buffer {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = seq;
  return Buffer.concat([head, payload]);
}

function errorPacket(code: number, state: string | undefined, message: string): Buffer {
  const c = Buffer.alloc(2);
  c.writeUInt16LE(code);
  return packet(Buffer.concat([Buffer.from([0xff]), c, Buffer.from(state ? `#${state}` : ''), Buffer.from(message)]));
}

describe('parseMysqlGreeting', () => {
  it('reads the protocol version, server version and connection id', () => {
    expect(parseMysqlGreeting(greeting('5.5.5-10.11.19-MariaDB-0+deb12u1', 7))).toEqual({ kind: 'greeting', protocolVersion: 10, serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1', connectionId: 7 });
    expect(parseMysqlGreeting(greeting('8.0.36'))).toMatchObject({ kind: 'greeting', serverVersion: '8.0.36' });
  });

  it('waits for the whole packet, whichever byte it was cut at', () => {
    const full = greeting('8.0.36');
    for (let n = 0; n < full.length; n++) expect(parseMysqlGreeting(full.subarray(0, n))).toEqual({ kind: 'incomplete' });
    expect(parseMysqlGreeting(Buffer.concat([full, Buffer.from('trailing')]))).toMatchObject({ kind: 'greeting' });
  });

  it('reads an error packet, with or without an SQL state', () => {
    expect(parseMysqlGreeting(errorPacket(1130, 'HY000', "Host '10.0.0.9' is not allowed to connect to this MariaDB server"))).toEqual({
      kind: 'error',
      errorCode: 1130,
      message: "Host '10.0.0.9' is not allowed to connect to this MariaDB server",
    });
    expect(parseMysqlGreeting(errorPacket(1040, undefined, 'Too many connections'))).toEqual({ kind: 'error', errorCode: 1040, message: 'Too many connections' });
  });

  it('refuses what is not a MySQL greeting', () => {
    expect(parseMysqlGreeting(Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'))).toMatchObject({ kind: 'invalid' });
    expect(parseMysqlGreeting(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toMatchObject({ kind: 'invalid' });
    expect(parseMysqlGreeting(greeting('8.0.36', 1, 3))).toEqual({ kind: 'invalid', reason: 'the first packet has sequence id 3, not 0' });
    expect(parseMysqlGreeting(packet(Buffer.from([9, 0x33, 0])))).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('protocol version 9') });
    expect(parseMysqlGreeting(packet(Buffer.from([10, 0x38, 0x2e, 0x30])))).toEqual({ kind: 'invalid', reason: 'the server version is not terminated' });
    expect(parseMysqlGreeting(packet(Buffer.from([10, 0x01, 0x02, 0, 1, 0, 0, 0])))).toEqual({ kind: 'invalid', reason: 'the server version is not printable text' });
    expect(parseMysqlGreeting(packet(Buffer.alloc(0)))).toMatchObject({ kind: 'invalid' });
  });

  it('names MariaDB and MySQL by their own versions', () => {
    expect(describeMysqlVersion('5.5.5-10.11.19-MariaDB-0+deb12u1')).toBe('MariaDB 10.11.19');
    expect(describeMysqlVersion('11.4.2-MariaDB')).toBe('MariaDB 11.4.2');
    expect(describeMysqlVersion('8.0.36-0ubuntu0.22.04.1')).toBe('MySQL 8.0.36');
    expect(describeMysqlVersion('5.7.44-log')).toBe('MySQL 5.7.44');
  });
});

describe('probeEndpoint', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function serve(onConnection: (sock: Socket) => void): Promise<number> {
    const server = createServer(onConnection);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  it('mysql: healthy with the version from the greeting, even when it comes in pieces', async () => {
    const bytes = greeting('5.5.5-10.11.19-MariaDB-0+deb12u1');
    const port = await serve((sock) => {
      sock.write(bytes.subarray(0, 7));
      setTimeout(() => sock.write(bytes.subarray(7)), 20);
    });
    expect(await probeEndpoint({ host: '127.0.0.1', port, check: 'mysql' })).toMatchObject({
      ok: true,
      check: 'mysql',
      endpoint: `127.0.0.1:${port}`,
      server: 'MariaDB 10.11.19',
      serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1',
    });
  });

  it('mysql: an error packet is a refusal with the server\'s words', async () => {
    const port = await serve((sock) => sock.end(errorPacket(1040, 'HY000', 'Too many connections')));
    expect(await probeEndpoint({ host: '127.0.0.1', port, check: 'mysql' })).toMatchObject({ ok: false, error: { code: 'TARGET_REFUSED', message: expect.stringContaining('error 1040: Too many connections') } });
  });

  it('mysql: another protocol is a PROTOCOL failure', async () => {
    const port = await serve((sock) => sock.write('SSH-2.0-OpenSSH_9.2p1\r\n'));
    expect(await probeEndpoint({ host: '127.0.0.1', port, check: 'mysql' })).toMatchObject({ ok: false, error: { code: 'PROTOCOL' } });
  });

  it('a connection closed before any answer is TARGET_REFUSED, with the tunnel\'s reason when it has one', async () => {
    const port = await serve((sock) => sock.destroy());
    expect(await probeEndpoint({ host: '127.0.0.1', port, check: 'mysql' })).toMatchObject({ ok: false, error: { code: 'TARGET_REFUSED' } });
    const why = { name: 'TunnelError', code: 'TARGET_REFUSED' as const, message: 'db.internal:3306 refused the connection (seen from bastion:22).' };
    expect(await probeEndpoint({ host: '127.0.0.1', port, check: 'tcp', whyClosed: () => why })).toEqual({ ok: false, check: 'tcp', endpoint: `127.0.0.1:${port}`, error: why });
  });

  it('silence is a timeout; nothing listening is CONNECT_REFUSED', async () => {
    const port = await serve(() => {});
    expect(await probeEndpoint({ host: '127.0.0.1', port, check: 'mysql', timeoutMs: 300 })).toMatchObject({ ok: false, error: { code: 'CONNECT_TIMEOUT', message: `No MySQL greeting through 127.0.0.1:${port} within 0.3 s.` } });
    const server = servers.pop()!;
    await new Promise((r) => server.close(r));
    expect(await probeEndpoint({ host: '127.0.0.1', port, check: 'tcp' })).toMatchObject({ ok: false, error: { code: 'CONNECT_REFUSED' } });
  });

  it('tcp: a connection the far side keeps is healthy', async () => {
    const port = await serve(() => {});
    expect(await probeEndpoint({ host: '127.0.0.1', port, check: 'tcp', settleMs: 100 })).toMatchObject({ ok: true, check: 'tcp' });
  });
});
