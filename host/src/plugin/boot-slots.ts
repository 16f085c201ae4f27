/**
 * How many spawned plugins boot at once. A Node plugin needs about 250 ms of CPU from spawn to
 * its port line; twenty spawned together on two cores share the CPU evenly and all announce
 * their ports only at the end (after QNTX's 2 s port-line timeout, measured), while the host's
 * own start work for each waits behind them. With a few booting at a time each one is up in
 * its own quarter second, the host initializes it while the next ones boot, and the last is
 * ready no later. A slot is held from port allocation to the port line (or its timeout, or
 * the process's exit), not for the whole start: Initialize and dependencies do not hold one.
 */
import { availableParallelism } from "node:os";

/** Default number of plugins booting at once: twice the CPUs, at least 2. */
export const DEFAULT_BOOT_SLOTS = Math.max(2, 2 * availableParallelism());

/** A counting semaphore, first come first served. */
export class BootSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number = DEFAULT_BOOT_SLOTS) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`boot slots must be a positive integer, got ${size}`);
    this.free = size;
  }

  /** Runs `boot` in a slot (waiting for one first); the slot is freed when it settles. */
  async run<T>(boot: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await boot();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot jump the queue.
      if (next) next();
      else this.free++;
    }
  }
}
