// Small SSH packets written in one event-loop turn leave together (app/engine/writeBatch.ts): one
// _writev for the turn, in order, while a bulk packet written with nothing held goes out at once.
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { batchSmallWrites } from '../app/engine/writeBatch.js';

/** A duplex that records each call the stream machinery makes to hand it bytes. */
function recorder(): { stream: Duplex; calls: string[][] } {
  const calls: string[][] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks: { chunk: Buffer }[], cb) {
      calls.push(chunks.map((c) => c.chunk.toString()));
      cb();
    },
  });
  return { stream, calls };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('batchSmallWrites', () => {
  it('writes the small packets of one turn with one call, in order', async () => {
    const { stream, calls } = recorder();
    batchSmallWrites(stream);
    stream.write(Buffer.from('open'));
    stream.write(Buffer.from('data'));
    stream.write(Buffer.from('eof'));
    expect(calls).toEqual([]);
    await turn();
    expect(calls).toEqual([['open', 'data', 'eof']]);
    stream.write(Buffer.from('close'));
    await turn();
    expect(calls).toEqual([['open', 'data', 'eof'], ['close']]);
    stream.destroy();
  });

  it('sends a bulk packet at once when nothing is held, and behind held ones otherwise', async () => {
    const { stream, calls } = recorder();
    batchSmallWrites(stream);
    const bulk = 'x'.repeat(32 * 1024);
    stream.write(Buffer.from(bulk));
    expect(calls).toEqual([[bulk]]);
    stream.write(Buffer.from('adjust'));
    stream.write(Buffer.from(bulk));
    expect(calls).toHaveLength(1);
    await turn();
    expect(calls).toEqual([[bulk], ['adjust', bulk]]);
    stream.destroy();
  });

  it('keeps write callbacks and end working', async () => {
    const { stream, calls } = recorder();
    batchSmallWrites(stream);
    const finished = new Promise<void>((resolve) => stream.once('finish', () => resolve()));
    const written = new Promise<void>((resolve) => stream.write(Buffer.from('a'), () => resolve()));
    stream.end(Buffer.from('b'));
    await Promise.all([written, finished]);
    expect(calls.flat()).toEqual(['a', 'b']);
    stream.destroy();
  });
});
