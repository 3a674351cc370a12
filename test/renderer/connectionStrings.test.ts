import { describe, expect, it } from 'vitest';
import { connectionStrings, endpointText } from '../../renderer/src/connectionStrings.js';
import { profile } from './fixtures.js';

const values = (p: ReturnType<typeof profile>, local?: { host: string; port: number }) => connectionStrings(p, local).map((c) => c.value);

describe('connection strings', () => {
  it('renders MySQL as the mysql command, a URL and a JDBC URL', () => {
    const p = profile({ client: { kind: 'mysql', user: 'app', database: 'shop' } });
    expect(values(p)).toEqual(['mysql -h 127.0.0.1 -P 13306 -u app -p shop', 'mysql://app@127.0.0.1:13306/shop', 'jdbc:mysql://127.0.0.1:13306/shop?user=app']);
  });

  it('leaves out what the hint does not give', () => {
    const p = profile({ client: { kind: 'mysql' } });
    expect(values(p)).toEqual(['mysql -h 127.0.0.1 -P 13306', 'mysql://127.0.0.1:13306', 'jdbc:mysql://127.0.0.1:13306']);
  });

  it('renders PostgreSQL for psql, as a URL and for JDBC', () => {
    const p = profile({ forwards: [{ type: 'local', bindPort: 15432, targetHost: 'pg', targetPort: 5432 }], client: { kind: 'postgres', user: 'app', database: 'main' } });
    expect(values(p)).toEqual(['psql -h 127.0.0.1 -p 15432 -U app -d main', 'postgresql://app@127.0.0.1:15432/main', 'jdbc:postgresql://127.0.0.1:15432/main?user=app']);
  });

  it('renders redis-cli with a numeric database only', () => {
    const p = profile({ forwards: [{ type: 'local', bindPort: 16379, targetHost: 'cache', targetPort: 6379 }], client: { kind: 'redis', database: '2' } });
    expect(values(p)).toEqual(['redis-cli -h 127.0.0.1 -p 16379 -n 2', 'redis://127.0.0.1:16379/2']);
    expect(values(profile({ client: { kind: 'redis', database: 'x', user: 'ro' } }))).toEqual(['redis-cli -h 127.0.0.1 -p 13306 --user ro --askpass', 'redis://ro@127.0.0.1:13306']);
  });

  it('renders http as a URL and a curl command', () => {
    expect(values(profile({ client: { kind: 'http' } }))).toEqual(['http://127.0.0.1:13306/', 'curl http://127.0.0.1:13306/']);
    expect(values(profile({ client: { kind: 'http', database: '/admin' } }))[0]).toBe('http://127.0.0.1:13306/admin');
  });

  it('uses the port the engine bound and reaches a wildcard listener through loopback', () => {
    const p = profile({ forwards: [{ type: 'local', bindHost: '0.0.0.0', bindPort: 13306, targetHost: 'db', targetPort: 3306 }], client: { kind: 'mysql' } });
    expect(values(p, { host: '0.0.0.0', port: 23306 })[0]).toBe('mysql -h 127.0.0.1 -P 23306');
    expect(values(profile({ forwards: [{ type: 'local', bindHost: '::1', bindPort: 80, targetHost: 'w', targetPort: 80 }], client: { kind: 'http' } }))[0]).toBe('http://[::1]:80/');
    expect(endpointText({ host: '::', port: 1080 })).toBe('[::1]:1080');
  });

  it('quotes for the shell and encodes for URLs what needs it', () => {
    const p = profile({ client: { kind: 'postgres', user: "o'brien", database: 'my db' } });
    expect(values(p)).toEqual([`psql -h 127.0.0.1 -p 13306 -U 'o'\\''brien' -d 'my db'`, "postgresql://o'brien@127.0.0.1:13306/my%20db", "jdbc:postgresql://127.0.0.1:13306/my%20db?user=o'brien"]);
  });

  it('follows the hint to the forward it names, and gives nothing for a forward that is not -L', () => {
    const p = profile({
      forwards: [{ type: 'dynamic', bindPort: 1080 }, { type: 'local', bindPort: 8080, targetHost: 'web', targetPort: 80 }],
      client: { kind: 'http' },
    });
    expect(values(p)[0]).toBe('http://127.0.0.1:8080/');
    expect(values({ ...p, client: { kind: 'http', forwardIndex: 0 } })).toEqual([]);
    expect(values(profile({}))).toEqual([]);
  });
});
