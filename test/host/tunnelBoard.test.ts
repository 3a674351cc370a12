// Which state changes a person is told about, and how a state reads in the tray menu.
import { describe, expect, it } from 'vitest';
import { describeState, noticeFor } from '../../app/host/tunnelBoard.js';
import type { EventPayload } from '../../app/shared/contract.js';

type State = EventPayload<'state'>['state'];
const error = { name: 'TunnelError', code: 'CONNECTION_LOST' as const, message: 'Connection lost.', hop: 'deploy@bastion:22' };
const open: State = { state: 'open', since: 1, hops: [{ label: 'deploy@bastion:22' }], forwards: [{ index: 0, type: 'local', label: 'x', bindHost: '127.0.0.1', bindPort: 13306 }] };
const reconnecting: State = { state: 'reconnecting', attempt: 2, delayMs: 4200, error };

describe('tunnel notices', () => {
  it('tells of a drop, a recovery after a drop, and a failure; nothing else', () => {
    expect(noticeFor('db', 'DB', open, reconnecting, false)).toMatchObject({ kind: 'drop', title: 'DB dropped', body: 'deploy@bastion:22: Connection lost. Reconnecting.' });
    expect(noticeFor('db', 'DB', { state: 'connecting', attempt: 3 }, open, true)).toMatchObject({ kind: 'recover', title: 'DB is back', body: 'Open again on 127.0.0.1:13306.' });
    expect(noticeFor('db', 'DB', { state: 'connecting', attempt: 1 }, open, false)).toBeUndefined();
    expect(noticeFor('db', 'DB', reconnecting, reconnecting, true)).toBeUndefined();
    expect(noticeFor('db', 'DB', { state: 'connecting', attempt: 1 }, { state: 'failed', error: { ...error, code: 'AUTH_FAILED', message: 'Permission denied.' } }, false)).toMatchObject({
      kind: 'fail',
      body: 'deploy@bastion:22: Permission denied.',
    });
    expect(noticeFor('db', 'DB', open, { state: 'closed' }, false)).toBeUndefined();
  });

  it('reads each state in a line', () => {
    expect(describeState(open)).toBe('open (13306)');
    expect(describeState(reconnecting)).toBe('reconnecting in 5 s');
    expect(describeState({ state: 'failed', error })).toBe('failed: CONNECTION_LOST');
    expect(describeState({ state: 'stopped' })).toBe('stopped');
  });
});
