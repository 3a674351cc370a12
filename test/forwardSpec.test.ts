import { describe, expect, it } from 'vitest';
import { formatForwardSpec, parseForwardSpec, parseJumpSpec } from '../app/profiles/forwardSpec.js';
import type { Forward } from '../app/profiles/schema.js';
import type { FieldError, Parsed } from '../app/profiles/validate.js';

function value<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`expected success, got ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

function errors<T>(parsed: Parsed<T>): FieldError[] {
  if (parsed.ok) throw new Error(`expected failure, got ${JSON.stringify(parsed.value)}`);
  return parsed.errors;
}

describe('parseForwardSpec -L', () => {
  it('defaults the bind address to loopback', () => {
    expect(value(parseForwardSpec('local', '13306:db:3306'))).toEqual({
      type: 'local',
      bindHost: '127.0.0.1',
      bindPort: 13306,
      targetHost: 'db',
      targetPort: 3306,
    });
  });

  it('keeps an explicit bind address, localhost included', () => {
    expect(value(parseForwardSpec('local', 'localhost:8080:web:80'))).toMatchObject({ bindHost: 'localhost', bindPort: 8080 });
    expect(value(parseForwardSpec('local', '10.0.0.5:8080:web:80'))).toMatchObject({ bindHost: '10.0.0.5' });
  });

  it.each(['*:8080:web:80', ':8080:web:80'])('reads %s as every interface', (spec) => {
    expect(value(parseForwardSpec('local', spec))).toMatchObject({ bindHost: '0.0.0.0', bindPort: 8080 });
  });

  it('reads IPv6 addresses in brackets', () => {
    expect(value(parseForwardSpec('local', '[::1]:8080:[fe80::1%eth0]:80'))).toEqual({
      type: 'local',
      bindHost: '::1',
      bindPort: 8080,
      targetHost: 'fe80::1%eth0',
      targetPort: 80,
    });
  });

  it('reads the slash form', () => {
    expect(value(parseForwardSpec('local', '::1/8080/db/3306'))).toEqual({
      type: 'local',
      bindHost: '::1',
      bindPort: 8080,
      targetHost: 'db',
      targetPort: 3306,
    });
    expect(value(parseForwardSpec('local', '8080/2001:db8::5/80'))).toMatchObject({ bindHost: '127.0.0.1', targetHost: '2001:db8::5' });
  });

  it('trims surrounding whitespace', () => {
    expect(value(parseForwardSpec('local', '  13306:db:3306 '))).toMatchObject({ bindPort: 13306 });
  });

  it.each([['13306:db'], ['13306'], [''], ['a:b:c:d:e'], ['::1:8080:db:80'], ['[::1:8080:db:80'], ['[::1]x:8080:db:80']])(
    'rejects %j with the expected syntax',
    (spec) => {
      expect(errors(parseForwardSpec('local', spec))).toEqual([{ path: '', message: `-L "${spec}": expected [bind_address:]port:host:hostport` }]);
    },
  );

  it.each(['13306:/var/run/mysqld.sock', '/tmp/db.sock:db:3306', '/tmp/a.sock:/tmp/b.sock', '13306:db:/x/80'])('rejects the Unix-socket forward %s', (spec) => {
    expect(errors(parseForwardSpec('local', spec))).toEqual([{ path: '', message: `-L "${spec}": Unix-socket forwarding is not supported` }]);
  });

  it("gives ports the schema's messages on the field", () => {
    expect(errors(parseForwardSpec('local', '0:db:3306'))).toEqual([{ path: 'bindPort', message: 'must be 1–65535 (-L "0:db:3306")' }]);
    expect(errors(parseForwardSpec('local', '13306:db:70000'))).toEqual([{ path: 'targetPort', message: 'must be 1–65535 (-L "13306:db:70000")' }]);
    expect(errors(parseForwardSpec('local', 'mysql:db:3306'))).toEqual([{ path: 'bindPort', message: 'must be a number (-L "mysql:db:3306")' }]);
    expect(errors(parseForwardSpec('local', '13306::3306'))).toContainEqual({ path: 'targetHost', message: 'must not be empty (-L "13306::3306")' });
  });
});

describe('parseForwardSpec -R', () => {
  it('reads a remote forward with the default bind address', () => {
    expect(value(parseForwardSpec('remote', '8080:localhost:80'))).toEqual({
      type: 'remote',
      bindHost: '127.0.0.1',
      bindPort: 8080,
      targetHost: 'localhost',
      targetPort: 80,
    });
  });

  it('allows port 0 so the server picks one', () => {
    expect(value(parseForwardSpec('remote', '0:localhost:80'))).toMatchObject({ bindPort: 0 });
  });

  it('reads a bind address and every-interfaces', () => {
    expect(value(parseForwardSpec('remote', '*:8080:localhost:80'))).toMatchObject({ bindHost: '0.0.0.0' });
    expect(value(parseForwardSpec('remote', '[::]:8080:[::1]:80'))).toMatchObject({ bindHost: '::', targetHost: '::1' });
  });

  it.each(['8080', 'localhost:8080'])('rejects the remote dynamic forward %s', (spec) => {
    expect(errors(parseForwardSpec('remote', spec))).toEqual([
      { path: '', message: `-R "${spec}": remote dynamic (SOCKS) forwarding is not supported; give host:hostport` },
    ]);
  });

  it('rejects an out-of-range port with the remote message', () => {
    expect(errors(parseForwardSpec('remote', '70000:localhost:80'))).toEqual([
      { path: 'bindPort', message: 'must be 0–65535 (0 lets the server choose) (-R "70000:localhost:80")' },
    ]);
  });
});

describe('parseForwardSpec -D', () => {
  it('reads a port alone, a bind address, IPv6 and the slash form', () => {
    expect(value(parseForwardSpec('dynamic', '1080'))).toEqual({ type: 'dynamic', bindHost: '127.0.0.1', bindPort: 1080 });
    expect(value(parseForwardSpec('dynamic', 'localhost:1080'))).toMatchObject({ bindHost: 'localhost' });
    expect(value(parseForwardSpec('dynamic', '*:1080'))).toMatchObject({ bindHost: '0.0.0.0' });
    expect(value(parseForwardSpec('dynamic', '[::1]:1080'))).toMatchObject({ bindHost: '::1', bindPort: 1080 });
    expect(value(parseForwardSpec('dynamic', '::1/1080'))).toMatchObject({ bindHost: '::1', bindPort: 1080 });
  });

  it('rejects extra fields and socket paths', () => {
    expect(errors(parseForwardSpec('dynamic', '1080:db:80'))).toEqual([{ path: '', message: '-D "1080:db:80": expected [bind_address:]port' }]);
    expect(errors(parseForwardSpec('dynamic', '/tmp/socks'))).toEqual([{ path: '', message: '-D "/tmp/socks": Unix-socket forwarding is not supported' }]);
  });

  it('rejects port 0', () => {
    expect(errors(parseForwardSpec('dynamic', '0'))).toEqual([{ path: 'bindPort', message: 'must be 1–65535 (-D "0")' }]);
  });
});

describe('formatForwardSpec', () => {
  const forwards: Forward[] = [
    { type: 'local', bindHost: '127.0.0.1', bindPort: 13306, targetHost: 'db', targetPort: 3306 },
    { type: 'local', bindHost: '0.0.0.0', bindPort: 8080, targetHost: 'web', targetPort: 80 },
    { type: 'local', bindHost: 'localhost', bindPort: 8081, targetHost: '10.0.0.1', targetPort: 81 },
    { type: 'local', bindHost: '::1', bindPort: 8080, targetHost: 'fe80::1', targetPort: 80 },
    { type: 'remote', bindHost: '127.0.0.1', bindPort: 8080, targetHost: 'localhost', targetPort: 80 },
    { type: 'remote', bindHost: '::', bindPort: 0, targetHost: '::1', targetPort: 22 },
    { type: 'dynamic', bindHost: '127.0.0.1', bindPort: 1080 },
    { type: 'dynamic', bindHost: '::1', bindPort: 1081 },
  ];

  it('writes the flag and argument ssh takes', () => {
    expect(forwards.map(formatForwardSpec)).toEqual([
      '-L 13306:db:3306',
      '-L 0.0.0.0:8080:web:80',
      '-L localhost:8081:10.0.0.1:81',
      '-L [::1]:8080:[fe80::1]:80',
      '-R 8080:localhost:80',
      '-R [::]:0:[::1]:22',
      '-D 1080',
      '-D [::1]:1081',
    ]);
  });

  it.each(forwards.map((f) => [formatForwardSpec(f), f] as const))('round-trips %s', (formatted, forward) => {
    const [flag, spec] = formatted.split(' ') as [string, string];
    const kind = ({ '-L': 'local', '-R': 'remote', '-D': 'dynamic' } as const)[flag as '-L' | '-R' | '-D'];
    expect(value(parseForwardSpec(kind, spec))).toEqual(forward);
  });
});

describe('parseJumpSpec', () => {
  it('reads users, ports, IPv6 and ssh URIs in order', () => {
    expect(value(parseJumpSpec('user@a:2222,b,[::1]:22,ssh://ops@c.example:2200,[fe80::2]'))).toEqual([
      { host: 'a', port: 2222, user: 'user' },
      { host: 'b' },
      { host: '::1', port: 22 },
      { host: 'c.example', port: 2200, user: 'ops' },
      { host: 'fe80::2' },
    ]);
  });

  it('reports each bad hop with its index', () => {
    expect(errors(parseJumpSpec('a:99999,,b:x'))).toEqual([
      { path: '[0].port', message: 'must be 1–65535 (-J "a:99999,,b:x")' },
      { path: '[1].host', message: 'must not be empty (-J "a:99999,,b:x")' },
      { path: '[2].port', message: 'must be a number (-J "a:99999,,b:x")' },
    ]);
  });

  it('rejects an unbracketed IPv6 address and a user with a colon', () => {
    expect(errors(parseJumpSpec('[::1'))).toEqual([{ path: '[0]', message: '-J "[::1": expected [user@]host[:port] (IPv6 addresses in [brackets])' }]);
    expect(errors(parseJumpSpec('me:pw@a'))).toEqual([{ path: '[0].user', message: 'must not contain spaces, "@" or ":" (-J "me:pw@a")' }]);
  });
});
