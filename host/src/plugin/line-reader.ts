/**
 * Reads a plugin's stdout/stderr as lines without ever letting one line grow without bound:
 * a line longer than `maxLineBytes` is cut there (marked with `…[truncated]`) and the rest
 * of it is dropped until the next newline. The stream is always drained, so a plugin that
 * floods its output never blocks on a full pipe.
 */
import type { Readable } from "node:stream";

/** Default cap of one logged line. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

/** Calls `onLine` for every line of `stream` (without the newline), capped at `maxLineBytes`. */
export function readLines(stream: Readable, onLine: (line: string) => void, maxLineBytes = DEFAULT_MAX_LINE_BYTES): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let truncated = false;

  const flush = (): void => {
    if (pendingBytes === 0 && !truncated) return;
    let line = Buffer.concat(pending, pendingBytes).toString("utf8");
    if (line.endsWith("\r")) line = line.slice(0, -1);
    onLine(truncated ? `${line}…[truncated]` : line);
    pending = [];
    pendingBytes = 0;
    truncated = false;
  };

  const append = (chunk: Buffer): void => {
    if (truncated) return;
    const room = maxLineBytes - pendingBytes;
    if (chunk.length > room) {
      pending.push(chunk.subarray(0, room));
      pendingBytes += room;
      truncated = true;
    } else {
      pending.push(chunk);
      pendingBytes += chunk.length;
    }
  };

  stream.on("data", (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (pendingBytes === 0 && !truncated && nl - start <= maxLineBytes) {
        // Fast path: a whole line inside this chunk, decoded without copying it first.
        if (nl > start) {
          const end = chunk[nl - 1] === 13 ? nl - 1 : nl;
          if (end > start) onLine(chunk.toString("utf8", start, end));
        }
      } else {
        append(chunk.subarray(start, nl));
        flush();
      }
      start = nl + 1;
    }
    if (start < chunk.length) append(chunk.subarray(start));
  });
  stream.on("end", flush);
}
