// A typed event emitter whose subscriptions return their own unsubscribe, so owners can dispose
// listeners without keeping the function around. A listener that throws is its own bug: it must not
// abort the emitter's work (a supervisor's state change) nor keep the listeners after it from
// hearing the event, so each listener runs on its own and the error is reported afterwards.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener signatures vary per event
type EventMap = Record<string, (...args: any[]) => void>;

/** As VS Code's onUnexpectedError does by default: thrown again on a clean stack, where crash reporting sees it. */
const rethrowLater = (err: unknown): void => {
  setTimeout(() => {
    throw err;
  });
};

export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<E[keyof E]>>();

  readonly #onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void = rethrowLater) {
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof E & string>(event: K, listener: E[K]): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    // The same function subscribed twice is called twice and unsubscribed once per call, as with EventEmitter.
    const entry = ((...args: Parameters<E[K]>) => listener(...args)) as E[K];
    set.add(entry);
    return () => void set.delete(entry);
  }

  protected emit<K extends keyof E & string>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    // A copy: a listener that unsubscribes (or subscribes) during the event does not disturb this round.
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }
}
