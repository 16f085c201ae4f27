/**
 * Appends text to a file that is rotated by size (`x.log` → `x.log.1` → … → `x.log.<files>`),
 * without ever blocking its caller or buffering without bound: writes go through a
 * `fs.WriteStream`, and while that stream is over its high-water mark (the disk is slower
 * than the plugin's output) new text is dropped and counted. Once the stream drains, one
 * marker line says how much was lost. Opening and renaming files is synchronous but rare
 * (once per rotation); the writes themselves never are.
 */
import { createWriteStream, fstatSync, mkdirSync, openSync, renameSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";

/** What a RotatingFileWriter needs. */
export interface RotatingFileOptions {
  /** The live file; rotated copies get `.1`, `.2`, … appended. */
  readonly path: string;
  /** Size at which the live file is rotated. */
  readonly maxBytes: number;
  /** Rotated files kept (`.1` … `.<files>`); older ones are overwritten. */
  readonly files: number;
  /** Bytes buffered in memory before text is dropped (default 1 MiB). */
  readonly highWaterMark?: number;
  /** The text written once the writer caught up after dropping `count` writes. */
  readonly dropMarker: (count: number) => string;
  /** Called once when the file cannot be opened or written; the writer then drops everything. */
  readonly onError?: (error: Error) => void;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/** A size-rotated, drop-when-behind file appender. */
export class RotatingFileWriter {
  private stream: WriteStream | undefined;
  /** Bytes in the live file (on disk plus accepted into the stream). */
  private size = 0;
  /** Rotated streams still flushing; no second rotation starts until they have closed. */
  private retiring = 0;
  private readonly closing = new Set<Promise<void>>();
  private dropped = 0;
  private failed = false;
  private closed = false;

  constructor(private readonly options: RotatingFileOptions) {}

  /** Writes dropped since the last marker. */
  get droppedCount(): number {
    return this.dropped;
  }

  /**
   * Appends `text` (which should end with a newline). Returns false when it was dropped
   * because the writer is behind, has failed or is closed.
   */
  write(text: string): boolean {
    if (this.failed || this.closed) return false;
    const bytes = Buffer.byteLength(text);
    const stream = this.stream ?? this.open();
    if (!stream) return false;
    if (stream.writableNeedDrain) return this.drop();
    if (this.size > 0 && this.size + bytes > this.options.maxBytes) {
      if (this.retiring > 0) return this.drop();
      const fresh = this.rotate();
      if (!fresh) return false;
      return this.append(fresh, text, bytes);
    }
    return this.append(stream, text, bytes);
  }

  /** Flushes and closes the file. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.stream) this.retire(this.stream);
    this.stream = undefined;
    await Promise.all([...this.closing]);
  }

  private append(stream: WriteStream, text: string, bytes: number): boolean {
    stream.write(text);
    this.size += bytes;
    return true;
  }

  private drop(): boolean {
    this.dropped++;
    return false;
  }

  /** Called when the writer may have caught up: writes the marker for what was dropped. */
  private caughtUp(): void {
    const stream = this.stream;
    if (this.dropped === 0 || !stream || stream.writableNeedDrain || this.closed) return;
    const marker = this.options.dropMarker(this.dropped);
    this.dropped = 0;
    this.append(stream, marker, Buffer.byteLength(marker));
  }

  /** Opens the live file for appending (synchronously, so a rotation can never rename it before it is open). */
  private open(): WriteStream | undefined {
    try {
      // The logs folder is as private as the data dir around it (logs can hold secrets).
      mkdirSync(dirname(this.options.path), { recursive: true, mode: 0o700 });
      const fd = openSync(this.options.path, "a", 0o600);
      this.size = fstatSync(fd).size;
      const stream = createWriteStream("", { fd, highWaterMark: this.options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK });
      stream.on("drain", () => this.caughtUp());
      stream.on("error", (error) => this.fail(error));
      this.stream = stream;
      return stream;
    } catch (error) {
      this.fail(error as Error);
      return undefined;
    }
  }

  /** Shifts `.n-1` → `.n` … live → `.1` and opens a fresh live file. The old stream finishes into `.1`. */
  private rotate(): WriteStream | undefined {
    const old = this.stream;
    this.stream = undefined;
    if (old) this.retire(old);
    const { path, files } = this.options;
    try {
      for (let i = files - 1; i >= 1; i--) renameIfExists(`${path}.${i}`, `${path}.${i + 1}`);
      renameIfExists(path, `${path}.1`);
    } catch (error) {
      this.fail(error as Error);
      return undefined;
    }
    return this.open();
  }

  /** Ends a stream; its fd still points at the (possibly renamed) file, so buffered text lands there. */
  private retire(stream: WriteStream): void {
    if (stream.closed || stream.destroyed) return;
    this.retiring++;
    const done = new Promise<void>((resolve) => {
      const finish = (): void => {
        this.retiring--;
        this.closing.delete(done);
        resolve();
        this.caughtUp();
      };
      stream.once("close", finish);
    });
    this.closing.add(done);
    stream.end();
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.options.onError?.(error);
  }
}

function renameIfExists(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
