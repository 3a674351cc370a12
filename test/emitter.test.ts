// The typed emitter: a throwing listener is reported, never allowed to abort the emit or silence the
// listeners after it (a supervisor's state change must complete whatever a UI listener does).
import { describe, expect, it } from 'vitest';
import { Emitter } from '../app/shared/emitter.js';

type Events = { state: (s: string) => void };

class Source extends Emitter<Events> {
  send(s: string): void {
    this.emit('state', s);
  }
}

describe('Emitter', () => {
  it('calls every listener although one throws, returns normally, and reports the error', () => {
    const reported: unknown[] = [];
    const source = new Source((err) => reported.push(err));
    const heard: string[] = [];
    source.on('state', (s) => heard.push(`first ${s}`));
    source.on('state', () => {
      throw new Error('a buggy listener');
    });
    source.on('state', (s) => heard.push(`last ${s}`));
    expect(() => source.send('open')).not.toThrow();
    expect(heard).toEqual(['first open', 'last open']);
    expect(reported).toEqual([new Error('a buggy listener')]);
  });

  it('unsubscribes, also during an event, without disturbing that event', () => {
    const source = new Source();
    const heard: string[] = [];
    const offFirst = source.on('state', (s) => {
      heard.push(`first ${s}`);
      offFirst();
    });
    source.on('state', (s) => heard.push(`second ${s}`));
    source.send('a');
    source.send('b');
    expect(heard).toEqual(['first a', 'second a', 'second b']);
  });

  it('calls a function subscribed twice twice, and each unsubscribe removes one', () => {
    const source = new Source();
    let calls = 0;
    const listener = () => void calls++;
    const off1 = source.on('state', listener);
    source.on('state', listener);
    source.send('x');
    off1();
    source.send('y');
    expect(calls).toBe(3);
  });
});
