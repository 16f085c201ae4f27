/**
 * A fixed-size ring of the most recent items: pushing onto a full ring overwrites the oldest,
 * so memory stays bounded however much a plugin prints.
 */

/** The last `capacity` items pushed, oldest first on read. */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  /** Index the next push writes to. */
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer (got ${capacity})`);
    this.items = new Array<T | undefined>(capacity);
  }

  /** How many items the ring holds (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Adds `item`, dropping the oldest when full. */
  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The last `n` items (all when `n` is undefined or larger), oldest first. */
  last(n?: number): T[] {
    const take = Math.max(0, Math.min(n ?? this.count, this.count));
    const out = new Array<T>(take);
    let index = (this.next - take + this.capacity) % this.capacity;
    for (let i = 0; i < take; i++) {
      out[i] = this.items[index] as T;
      index = (index + 1) % this.capacity;
    }
    return out;
  }
}
