// A typed event emitter whose subscriptions return their own unsubscribe, so owners can dispose
// listeners without keeping the function around.
import { EventEmitter } from 'node:events';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener signatures vary per event
type EventMap = Record<string, (...args: any[]) => void>;

export class Emitter<E extends EventMap> {
  private readonly ee = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: E[K]): () => void {
    this.ee.on(event, listener);
    return () => this.ee.off(event, listener);
  }

  protected emit<K extends keyof E & string>(event: K, ...args: Parameters<E[K]>): void {
    this.ee.emit(event, ...args);
  }
}
