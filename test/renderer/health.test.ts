import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../app/profiles/validate.js';
import { probedForwardIndex, summarizeHealth } from '../../renderer/src/health.js';
import { profile, wire } from './fixtures.js';

const cf = () => {
  const parsed = parseProfile({ kind: 'cloudfoundry', id: 'orders', name: 'Orders', api: 'https://api.sys.example.com', org: 'o', space: 's', app: 'a', service: 'db', local: { bindPort: 13306 } });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
};

describe('which forward the health indicator probes', () => {
  it('the client hint\'s forward, else the first -L, else a SOCKS listener; never a -R', () => {
    const forwards = [
      { type: 'remote', bindPort: 8080, targetPort: 3000 },
      { type: 'dynamic', bindPort: 1080 },
      { type: 'local', bindPort: 15432, targetHost: 'pg', targetPort: 5432 },
    ];
    expect(probedForwardIndex(profile({ forwards }))).toBe(2);
    expect(probedForwardIndex(profile({ forwards: forwards.slice(0, 2) }))).toBe(1);
    expect(probedForwardIndex(profile({ forwards, client: { kind: 'postgres' } }))).toBe(2);
    expect(probedForwardIndex(profile({ forwards, client: { kind: 'http', forwardIndex: 0 } }))).toBe(1);
    expect(probedForwardIndex(profile({ forwards: [forwards[0]] }))).toBeUndefined();
    expect(probedForwardIndex(cf())).toBe(0);
  });
});

describe('how a probe reads', () => {
  it('checking until the answer is in', () => {
    expect(summarizeHealth(undefined)).toEqual({ tone: 'pending', label: 'Checking…' });
    expect(summarizeHealth({ since: 1, status: 'checking' })).toEqual({ tone: 'pending', label: 'Checking…' });
  });

  it('healthy MySQL names the server and its version', () => {
    const result = { ok: true as const, endpoint: '127.0.0.1:13306', check: 'mysql' as const, ms: 12.4, server: 'MariaDB 10.11.6', serverVersion: '5.5.5-10.11.6-MariaDB-0+deb12u1' };
    expect(summarizeHealth({ since: 1, status: 'done', result })).toEqual({ tone: 'ok', label: 'MariaDB 10.11.6', detail: '12 ms through 127.0.0.1:13306', title: 'Server version 5.5.5-10.11.6-MariaDB-0+deb12u1' });
  });

  it('a plain TCP check says the tunnel carried the connection', () => {
    const result = { ok: true as const, endpoint: '127.0.0.1:8080', check: 'tcp' as const, ms: 751 };
    expect(summarizeHealth({ since: 1, status: 'done', result })).toEqual({ tone: 'ok', label: 'Reachable', detail: 'the tunnel carried a connection: 751 ms through 127.0.0.1:8080' });
  });

  it('failing, with a few words and the whole reason', () => {
    const refused = { ok: false as const, endpoint: '127.0.0.1:13306', check: 'mysql' as const, error: wire('TARGET_REFUSED', '10.0.4.12:3306 refused the connection.') };
    expect(summarizeHealth({ since: 1, status: 'done', result: refused })).toEqual({ tone: 'failed', label: 'Failing: target refused', detail: '10.0.4.12:3306 refused the connection.' });
    const slow = { ...refused, error: wire('CONNECT_TIMEOUT', 'No MySQL greeting through 127.0.0.1:13306 within 10 s.') };
    expect(summarizeHealth({ since: 1, status: 'done', result: slow }).label).toBe('Failing: no answer (timeout)');
    const http = { ...refused, error: wire('PROTOCOL', 'What came back through 127.0.0.1:13306 is not a MySQL greeting: …') };
    expect(summarizeHealth({ since: 1, status: 'done', result: http }).label).toBe('Failing: unexpected answer');
    expect(summarizeHealth({ since: 1, status: 'error', message: 'The tunnel "x" is not open, so there is nothing to probe.' })).toEqual({ tone: 'failed', label: 'Not checked', detail: 'The tunnel "x" is not open, so there is nothing to probe.' });
  });
});
