/**
 * The host's one writer of server-sent events. Every stream of the HTTP API (a plugin's log,
 * a job's changes, the host's events, an attestation watch) goes through it, so they share
 * the same rules:
 *
 * - headers that stop proxies from buffering, sent at once (a client knows it is subscribed);
 * - a keep-alive comment every 15 s, so idle connections survive proxies and NAT;
 * - back-pressure: while the client's socket is over its high-water mark, events are dropped
 *   and counted rather than buffered without bound; once it drains, the stream's `onDropped`
 *   says how many were lost (an `event: dropped` by default), so the reader knows to reload;
 * - the end: the client going away, the host stopping (through the drain) or the owner
 *   calling `close` all run the same clean-up once.
 */
import type { ServerResponse } from "node:http";

/** Where a following stream registers itself, so a stopping host can end it (GatewayDrain). */
export interface StreamRegistry {
  stream(res: ServerResponse, end: () => void): void;
}

/** Options of {@link openEventStream}. */
export interface EventStreamOptions {
  /** A stopping host ends the stream through this. */
  readonly streams?: StreamRegistry;
  /** Runs once when the stream ends, whoever ends it (unsubscribe here). */
  readonly onClose?: () => void;
  /** Says that `count` events were dropped for a slow reader (default: an `event: dropped`). */
  readonly onDropped?: (stream: EventStream, count: number) => void;
  /** Keep-alive interval (default 15 s). */
  readonly keepAliveMs?: number;
}

/** An open stream. */
export interface EventStream {
  /**
   * Sends one event with `data` as JSON. Returns false when it was dropped because the reader
   * is behind; `force` writes it anyway (an event the reader must not miss, such as the last one).
   */
  send(event: string, data: unknown, force?: boolean): boolean;
  /** Ends the stream (optionally with one last event). Idempotent. */
  close(last?: { event: string; data: unknown }): void;
  /** Whether the stream has ended. */
  readonly closed: boolean;
}

const KEEP_ALIVE_MS = 15_000;

/** Writes the headers to `res` and returns the stream. */
export function openEventStream(res: ServerResponse, options: EventStreamOptions = {}): EventStream {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
  // Sends the headers now, so a client knows it is subscribed even before the first event.
  res.write(": open\n\n");
  let closed = false;
  let dropped = 0;
  const write = (event: string, data: unknown): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const stream: EventStream = {
    send(event, data, force = false) {
      if (closed) return false;
      if (res.writableNeedDrain && !force) {
        dropped++;
        return false;
      }
      write(event, data);
      return true;
    },
    close(last) {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      res.off("drain", catchUp);
      if (last && !res.writableEnded) write(last.event, last.data);
      if (!res.writableEnded) res.end();
      options.onClose?.();
    },
    get closed() {
      return closed;
    },
  };
  const catchUp = (): void => {
    if (dropped === 0 || res.writableNeedDrain || closed) return;
    const count = dropped;
    dropped = 0;
    if (options.onDropped) options.onDropped(stream, count);
    else write("dropped", { count });
  };
  const keepAlive = setInterval(() => {
    if (!res.writableNeedDrain) res.write(": keep-alive\n\n");
  }, options.keepAliveMs ?? KEEP_ALIVE_MS);
  keepAlive.unref();
  res.on("drain", catchUp);
  res.once("close", () => stream.close());
  options.streams?.stream(res, () => stream.close());
  return stream;
}
