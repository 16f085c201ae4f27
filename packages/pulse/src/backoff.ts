/** Retry backoff settings. */
export interface BackoffOptions {
  /** Delay before the 2nd attempt (ms); doubles each attempt. Default 1000. */
  baseMs?: number;
  /** Cap (ms). Default 60,000. */
  maxMs?: number;
  /** Randomise each delay in [d/2, d] so retries of many jobs spread out. Default true. */
  jitter?: boolean;
}

/**
 * Delay before the next attempt after `attempt` (1-based) failed: exponential, capped, with
 * "equal jitter" (half fixed, half random) so a burst of failures does not retry in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 60_000;
  const d = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return options.jitter === false ? d : Math.round(d / 2 + (random() * d) / 2);
}
