/**
 * Streams a plugin's log as server-sent events: `event: line` with a LogEntry as JSON for
 * each of the last N lines, then (when following) for each new line until the client goes
 * away; without follow, one `event: end` closes the backlog. A slow follower never makes the
 * host buffer without bound: while its socket is over the high-water mark, lines are dropped
 * and counted, and one `[qntx: dropped N lines: reader behind]` line follows once it drains.
 */
import type { ServerResponse } from "node:http";
import { openEventStream, type StreamRegistry } from "../gateway/event-stream.js";
import type { LogEntry, PluginLog } from "./plugin-logs.js";

export type { StreamRegistry } from "../gateway/event-stream.js";

/** What to stream. */
export interface LogStreamRequest {
  /** Lines of backlog sent first (0 = none). */
  readonly lines: number;
  /** Keep the stream open and send new lines. */
  readonly follow: boolean;
}

/** Lines of backlog when `?lines=` is not given. */
export const DEFAULT_BACKLOG_LINES = 100;

/**
 * Writes the stream to `res` (headers included); returns at once, the stream ends by itself,
 * or through `streams` when the host stops.
 */
export function streamPluginLog(res: ServerResponse, log: PluginLog, request: LogStreamRequest, streams?: StreamRegistry): void {
  let unfollow = (): void => undefined;
  const stream = openEventStream(res, {
    streams: request.follow ? streams : undefined,
    onClose: () => unfollow(),
    // The reader sees the gap where it happened, as a log line of its own.
    onDropped: (s, count) => s.send("line", { time: Date.now(), stream: "qntx", level: "warn", line: `[qntx: dropped ${count} lines: reader behind]` } satisfies LogEntry),
  });
  // Backlog and subscription happen in the same tick, so no line is lost or sent twice. The
  // backlog is bounded by the ring, so it is written whole (forced).
  const backlog = request.lines > 0 ? log.backlog(request.lines) : [];
  for (const entry of backlog) stream.send("line", entry, true);
  if (!request.follow) return stream.close({ event: "end", data: {} });
  unfollow = log.follow({ line: (entry) => void stream.send("line", entry), end: () => stream.close() });
}

/**
 * `?lines=` as a count: a non-negative integer (default DEFAULT_BACKLOG_LINES), or undefined
 * when it is not one.
 */
export function parseLines(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return DEFAULT_BACKLOG_LINES;
  if (!/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** `?follow=1` / `true` / `yes` / bare `?follow`. */
export function parseFollow(value: string | undefined): boolean {
  return value !== undefined && ["", "1", "true", "yes"].includes(value.toLowerCase());
}
