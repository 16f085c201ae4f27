/**
 * Streams a plugin's log as server-sent events: `event: line` with a LogEntry as JSON for
 * each of the last N lines, then (when following) for each new line until the client goes
 * away; without follow, one `event: end` closes the backlog. A slow follower never makes the
 * host buffer without bound: while its socket is over the high-water mark, lines are dropped
 * and counted, and one `[qntx: dropped N lines: reader behind]` line follows once it drains.
 */
import type { ServerResponse } from "node:http";
import type { LogEntry, PluginLog } from "./plugin-logs.js";

/** Where a following stream registers itself, so a stopping host can end it (GatewayDrain). */
export interface StreamRegistry {
  stream(res: ServerResponse, end: () => void): void;
}

/** What to stream. */
export interface LogStreamRequest {
  /** Lines of backlog sent first (0 = none). */
  readonly lines: number;
  /** Keep the stream open and send new lines. */
  readonly follow: boolean;
}

/** Lines of backlog when `?lines=` is not given. */
export const DEFAULT_BACKLOG_LINES = 100;

const HEARTBEAT_MS = 15_000;

/**
 * Writes the stream to `res` (headers included); returns at once, the stream ends by itself,
 * or through `streams` when the host stops.
 */
export function streamPluginLog(res: ServerResponse, log: PluginLog, request: LogStreamRequest, streams?: StreamRegistry): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
  const send = (entry: LogEntry): void => {
    res.write(`event: line\ndata: ${JSON.stringify(entry)}\n\n`);
  };
  // Backlog and subscription happen in the same tick, so no line is lost or sent twice.
  const backlog = request.lines > 0 ? log.backlog(request.lines) : [];
  for (const entry of backlog) send(entry);
  if (!request.follow) {
    res.end("event: end\ndata: {}\n\n");
    return;
  }
  // Sends the headers now, so a follower knows it is subscribed even with no backlog.
  res.write(": following\n\n");

  let dropped = 0;
  const catchUp = (): void => {
    if (dropped === 0 || res.writableNeedDrain) return;
    const count = dropped;
    dropped = 0;
    send({ time: Date.now(), stream: "qntx", level: "warn", line: `[qntx: dropped ${count} lines: reader behind]` });
  };
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearInterval(heartbeat);
    unfollow();
    res.off("drain", catchUp);
    if (!res.writableEnded) res.end();
  };
  const unfollow = log.follow({
    line(entry) {
      if (res.writableNeedDrain) {
        dropped++;
        return;
      }
      catchUp();
      send(entry);
    },
    end: finish,
  });
  const heartbeat = setInterval(() => {
    if (!res.writableNeedDrain) res.write(": keep-alive\n\n");
  }, HEARTBEAT_MS);
  heartbeat.unref();
  res.on("drain", catchUp);
  res.once("close", finish);
  streams?.stream(res, finish);
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
