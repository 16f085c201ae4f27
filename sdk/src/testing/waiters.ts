/**
 * Waiting for the fake host's state to change, without sleeps: every mutation emits one
 * `change` event and a waiter re-checks its condition on each, with a deadline so a test
 * that waits for something that never happens fails with a message instead of hanging.
 */
import { EventEmitter } from "node:events";

/** Default deadline of the `waitFor…` helpers. */
export const DEFAULT_WAIT_MS = 5_000;

/** Options of the `waitFor…` helpers. */
export interface WaitOptions {
  /** Give up (reject) after this many milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Stop waiting (reject with the signal's reason) when aborted. */
  signal?: AbortSignal;
}

/** Emits `change` after each mutation of the fake host's state. */
export class ChangeFeed {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Many tests may wait at once on one host.
    this.emitter.setMaxListeners(0);
  }

  /** Tells every waiter to re-check. */
  changed(): void {
    this.emitter.emit("change");
  }

  /**
   * Resolves with `probe()`'s first value other than `undefined`, checked now and after every
   * change; rejects after the deadline with `what` in the message.
   */
  until<T>(probe: () => T | undefined, what: string, options: WaitOptions | number = {}): Promise<T> {
    const { timeoutMs = DEFAULT_WAIT_MS, signal } = typeof options === "number" ? { timeoutMs: options } : options;
    const first = probe();
    if (first !== undefined) return Promise.resolve(first);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.emitter.off("change", check);
        signal?.removeEventListener("abort", onAbort);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fake host: gave up after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const onAbort = (): void => {
        done();
        reject(signal!.reason);
      };
      function check(): void {
        let value: T | undefined;
        try {
          value = probe();
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (value === undefined) return;
        done();
        resolve(value);
      }
      this.emitter.on("change", check);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
