/** Waiting for events in tests: poll a condition, or wait for one emitter event, with a bound. */
import type { EventEmitter } from "node:events";

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long (default 5 000 ms). */
  readonly timeoutMs?: number;
  /** Poll this often (default 20 ms). */
  readonly intervalMs?: number;
  /** Named in the timeout error. */
  readonly what?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (or a promise of one) and resolves with
 * that value; rejects after `timeoutMs`. Errors thrown by the predicate count as "not yet"
 * and the last one is reported on timeout. Only where nothing announces the change (a plugin
 * process's state seen through its RPCs): events have their waits (helpers/events.ts).
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? "condition"}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Resolves with the arguments of the next `event` of `emitter`; rejects after `timeoutMs`
 * (default 5 000), or when the emitter emits "error" first (unless that is the event awaited).
 */
export function once(emitter: EventEmitter, event: string, timeoutMs = 5_000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const onEvent = (...args: unknown[]): void => {
      cleanup();
      resolve(args);
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (event !== "error") emitter.off("error", onError);
    };
    emitter.on(event, onEvent);
    if (event !== "error") emitter.on("error", onError);
  });
}
