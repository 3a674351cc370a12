// ssh2's Channel.destroy() is end() then close(), and end() on a stream whose writable side has
// already ended does nothing but build (and drop) an error with its stack. Node itself calls
// destroy() on a duplex once both halves are done (autoDestroy), so nearly every forwarded
// connection that closed cleanly paid for that error (~3 % of busy time under many connections,
// BENCHMARKS.md). The channel class is patched once, from the first channel a forward hands us:
// when the writable side has ended, destroy() only closes.
import type { Duplex } from 'node:stream';

const patched = new WeakSet<object>();

/** Makes destroy() of `channel`'s class skip the end() that can only fail; other streams are left alone. */
export function closeEndedChannelsQuietly(channel: Duplex): void {
  const proto = Object.getPrototypeOf(channel) as Duplex & { close?: () => void };
  if (patched.has(proto)) return;
  patched.add(proto);
  // Only a class that has both close() and a destroy() of its own is ssh2's Channel shape.
  if (typeof proto.close !== 'function' || !Object.prototype.hasOwnProperty.call(proto, 'destroy')) return;
  const destroy = proto.destroy;
  proto.destroy = function (this: Duplex & { close(): void }, err?: Error) {
    if (!this.writableEnded) return destroy.call(this, err);
    this.close();
    return this;
  };
}
