/**
 * When to restart a crashed plugin, and when to give up: exponential backoff between
 * restarts and a crash budget (default 5 crashes in 3 minutes → `failed`, no more automatic
 * restarts until someone runs `qntx plugin start`). A plugin that stays up long enough for
 * its crashes to leave the window earns its budget back. `CrashRestarts` adds the one
 * pending restart timer a plugin may have.
 */

/** What to do about one crash. */
export interface CrashDecision {
  /** True when the budget is spent: mark the plugin failed and stop restarting it. */
  readonly giveUp: boolean;
  /** Delay before the restart (when not giving up). */
  readonly delayMs: number;
  /** Crashes inside the window, this one included. */
  readonly crashes: number;
}

/** Settings of the policy. */
export interface CrashPolicySettings {
  readonly budget: number;
  readonly windowMs: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Tracks one plugin's recent crashes. */
export class CrashTracker {
  private times: number[] = [];

  constructor(private readonly settings: CrashPolicySettings) {}

  /** Records a crash at `now` and decides. */
  record(now: number): CrashDecision {
    this.times = this.times.filter((t) => now - t < this.settings.windowMs);
    this.times.push(now);
    const crashes = this.times.length;
    if (crashes >= this.settings.budget) return { giveUp: true, delayMs: 0, crashes };
    const delayMs = Math.min(this.settings.maxMs, this.settings.baseMs * 2 ** (crashes - 1));
    return { giveUp: false, delayMs, crashes };
  }

  /** Forgets past crashes (a person started the plugin again). */
  reset(): void {
    this.times = [];
  }
}

/** One plugin's crash history and its pending automatic restart (at most one). */
export class CrashRestarts {
  private readonly tracker: CrashTracker;
  private timer: NodeJS.Timeout | undefined;
  private due: number | undefined;

  constructor(settings: CrashPolicySettings) {
    this.tracker = new CrashTracker(settings);
  }

  /** When the pending restart is due (epoch ms); undefined when none is. */
  get restartAt(): number | undefined {
    return this.due;
  }

  /** Records a crash now and decides (see {@link CrashTracker.record}). */
  record(): CrashDecision {
    return this.tracker.record(Date.now());
  }

  /** Runs `restart` after `delayMs`, replacing a pending one; the timer does not hold the process open. */
  schedule(delayMs: number, restart: () => void): void {
    this.cancel();
    this.due = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = undefined;
      restart();
    }, delayMs);
    this.timer.unref();
  }

  /** Cancels the pending restart, if any. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = undefined;
  }

  /** Cancels the pending restart and forgets past crashes (a person started the plugin). */
  forgive(): void {
    this.cancel();
    this.tracker.reset();
  }
}
