/**
 * The async iterator both stores return from `iterate`: rows come from a database cursor in
 * batches, and the cursor is released exactly once — on exhaustion, on an error, or on the
 * consumer's `return()`, even one called before the first `next()` (a generator function
 * would skip its `finally` then and leak the cursor).
 */

/** Where a {@link BatchIterator} reads from. */
export interface RowSource<T> {
  /** The next rows; an empty list ends the iteration. */
  fetch(): readonly T[] | Promise<readonly T[]>;
  /** Releases the cursor; called once. */
  close(): void | Promise<void>;
}

/** An `AsyncIterableIterator` over a {@link RowSource}. */
export class BatchIterator<T> implements AsyncIterableIterator<T> {
  private buffer: readonly T[] = [];
  private at = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** @param source the cursor; closed when the iteration ends however it ends */
  constructor(private readonly source: RowSource<T>) {}

  /** The next row, fetching a batch when the buffer is empty. */
  async next(): Promise<IteratorResult<T, undefined>> {
    if (this.at < this.buffer.length) return { done: false, value: this.buffer[this.at++]! };
    if (this.closed) return { done: true, value: undefined };
    let rows: readonly T[];
    try {
      rows = await this.source.fetch();
    } catch (error) {
      await this.release();
      throw error;
    }
    if (rows.length === 0) {
      await this.release();
      return { done: true, value: undefined };
    }
    this.buffer = rows;
    this.at = 1;
    return { done: false, value: rows[0]! };
  }

  /** Ends the iteration early and releases the cursor. */
  async return(): Promise<IteratorResult<T, undefined>> {
    this.buffer = [];
    await this.release();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private release(): Promise<void> {
    this.closed = true;
    if (this.closing === undefined) {
      // Called synchronously: a SQLite cursor is free for writes as soon as return() is called.
      try {
        this.closing = Promise.resolve(this.source.close());
      } catch (error) {
        this.closing = Promise.reject(error);
      }
    }
    return this.closing;
  }
}
