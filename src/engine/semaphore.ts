/** A counting semaphore with AbortSignal support: the download lane's bound on concurrent streams. */
export class Semaphore {
  readonly #limit: number;
  #used = 0;
  #waiters: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new TypeError(`Expected \`limit\` to be an integer >= 1, got ${String(limit)}`);
    }
    this.#limit = limit;
  }

  /** Resolves with a release function once a place is free. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    while (this.#used >= this.#limit) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.#waiters = this.#waiters.filter((w) => w !== wake);
          reject(signal!.reason as Error);
        };
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(wake);
      });
    }
    this.#used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used--;
      this.#waiters.shift()?.();
    };
  }
}
