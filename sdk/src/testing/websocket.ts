/**
 * `TestPlugin.websocket`: a `HandleWebSocket` session opened the way the host's gateway opens
 * one for a browser — CONNECT first with the request headers plus `path` and `query` (the query
 * also as call metadata), frames in the exact-timestamp codec of @qntx/protocol, the plugin's
 * PINGs answered with a PONG echoing the timestamp, CLOSE then end of stream to close — seen
 * by the test as a queue of DATA frames with deadlines.
 */
import * as grpc from "@grpc/grpc-js";
import { WebSocketMessage_Type, frame, nowNs, queryMetadata, type WebSocketFrame } from "@qntx/protocol";
import { TestPluginError } from "./errors.js";
import type { TestPluginCalls } from "./plugin-client.js";

/** Options of {@link TestPlugin.websocket}. */
export interface WebSocketOptions {
  /** Query string of the browser's request (text without `?`, or an object). */
  query?: string | Record<string, string>;
  /** The browser's request headers (sent lower-cased in CONNECT). */
  headers?: Record<string, string>;
  /** Default deadline of `next()`, `ping()` and `close()`. Default: the handle's `timeoutMs`. */
  timeoutMs?: number;
}

/** A frame from the plugin. */
export interface TestFrame extends WebSocketFrame {
  /** `data` as UTF-8 text. */
  text(): string;
  /** `data` parsed as JSON. */
  json<T = unknown>(): T;
}

/** How a session ended. */
export interface WebSocketEnd {
  /** `plugin`: it sent CLOSE/ERROR or ended its stream; `test`: `close()` was called; `error`: the call failed. */
  readonly by: "plugin" | "test" | "error";
  /** WebSocket close code the browser would get: the plugin's CLOSE code (1000 default), 1011 on ERROR or failure. */
  readonly code: number;
  readonly reason: string;
}

/** A session with the plugin, as a browser connected through the host would have. */
export interface TestWebSocket extends AsyncIterable<TestFrame> {
  /** Every frame the plugin sent (DATA, PING, CLOSE…), in order. */
  readonly received: readonly TestFrame[];
  /** Settles with how the session ended (never rejects). */
  readonly ended: Promise<WebSocketEnd>;
  /** Sends a DATA frame (a string as UTF-8). Throws once the session has ended. */
  send(data: string | Uint8Array, headers?: Record<string, string>): void;
  /** The next DATA frame; rejects (code `WEBSOCKET`) when the session ends first or none comes within the deadline. */
  next(timeoutMs?: number): Promise<TestFrame>;
  /** Sends a terminal resize, as a browser's PING with `cols` and `rows` headers is forwarded. */
  resize(cols: number, rows: number): void;
  /** PINGs the plugin and resolves once its PONG echoes the exact timestamp. */
  ping(timeoutMs?: number): Promise<void>;
  /** Sends CLOSE and ends the stream, as the host does when the browser closes; resolves when the plugin's side is over. */
  close(timeoutMs?: number): Promise<WebSocketEnd>;
}

function toTestFrame(received: WebSocketFrame): TestFrame {
  return {
    ...received,
    text: () => received.data.toString("utf8"),
    json: <T>() => JSON.parse(received.data.toString("utf8")) as T,
  };
}

/**
 * Opens a session on `path` (e.g. `/ws/<name>`). `open` holds a canceller of every session
 * still running, so stopping the handle cuts them.
 */
export function openTestWebSocket(client: TestPluginCalls, path: string, options: WebSocketOptions, defaultTimeoutMs: number, open: Set<() => void>): TestWebSocket {
  const query = typeof options.query === "string" ? options.query.replace(/^\?/, "") : new URLSearchParams(options.query ?? {}).toString();
  const connect: Record<string, string> = { host: "127.0.0.1:8770" };
  for (const [name, value] of Object.entries(options.headers ?? {})) connect[name.toLowerCase()] = value;
  connect.path = path;
  connect.query = query;

  const timeoutOf = (ms: number | undefined): number => ms ?? options.timeoutMs ?? defaultTimeoutMs;
  // A session lasts until it is closed, as a browser's does: no deadline; next() and ping() bound their waits.
  const call = client.client.handleWebSocket({ deadline: Infinity, metadata: queryMetadata(query) });
  const received: TestFrame[] = [];
  const data: TestFrame[] = [];
  const waiting = new Set<() => void>();
  const pongs = new Map<bigint, () => void>();
  let end: WebSocketEnd | undefined;
  let closedByTest = false;
  let resolveEnded!: (info: WebSocketEnd) => void;
  const ended = new Promise<WebSocketEnd>((resolve) => (resolveEnded = resolve));

  const wake = (): void => {
    for (const waiter of [...waiting]) waiter();
  };
  const cancel = (): void => call.cancel();
  open.add(cancel);
  let unsubscribe = (): void => undefined;
  const finish = (info: WebSocketEnd): void => {
    if (end) return;
    end = info;
    open.delete(cancel);
    unsubscribe();
    resolveEnded(info);
    wake();
  };
  const write = (message: WebSocketFrame): void => {
    if (call.writable) call.write(message);
  };

  call.on("data", (incoming: WebSocketFrame) => {
    const got = toTestFrame(incoming);
    received.push(got);
    if (end) return;
    switch (incoming.type) {
      case WebSocketMessage_Type.DATA:
        data.push(got);
        return wake();
      case WebSocketMessage_Type.PING:
        return write(frame(WebSocketMessage_Type.PONG, undefined, {}, incoming.timestamp));
      case WebSocketMessage_Type.PONG:
        return pongs.get(incoming.timestamp)?.();
      case WebSocketMessage_Type.CLOSE:
        // The host closes the browser with the plugin's code and ends its own side.
        finish({ by: "plugin", code: Number(incoming.headers.code ?? 1000) || 1000, reason: got.text() });
        if (call.writable) call.end();
        return;
      case WebSocketMessage_Type.ERROR:
        finish({ by: "plugin", code: 1011, reason: got.text() || "plugin reported an error" });
        call.cancel();
        return;
      default:
        return;
    }
  });
  call.on("error", () => undefined); // the status event below carries the same information
  call.on("status", (status: grpc.StatusObject) => {
    if (status.code === grpc.status.OK) return finish({ by: closedByTest ? "test" : "plugin", code: 1000, reason: "" });
    if (closedByTest && status.code === grpc.status.CANCELLED) return finish({ by: "test", code: 1000, reason: "" });
    const reason = client.lifeline.isGone()
      ? `the plugin process is gone (${client.lifeline.describe()})`
      : `HandleWebSocket failed: ${grpc.status[status.code] ?? status.code}: ${status.details}`;
    finish({ by: "error", code: 1011, reason });
  });
  unsubscribe = client.lifeline.onGone(() => {
    if (!end) finish({ by: "error", code: 1011, reason: `the plugin process is gone (${client.lifeline.describe()})` });
  });
  write(frame(WebSocketMessage_Type.CONNECT, undefined, connect));

  /** Waits for `ready()` to give a value, the end of the session, or the deadline. */
  const waitFor = <T>(ready: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = ready();
        if (value !== undefined) {
          cleanup();
          resolve(value);
        } else if (end) {
          cleanup();
          reject(new TestPluginError("WEBSOCKET", `${what}: the session ended (by ${end.by}, code ${end.code}${end.reason ? `: ${end.reason}` : ""})`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new TestPluginError("WEBSOCKET", `${what}: nothing within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiting.delete(check);
      };
      waiting.add(check);
      check();
    });

  const session: TestWebSocket = {
    received,
    ended,
    send(payload, headers = {}) {
      if (end) throw new TestPluginError("WEBSOCKET", `send on a session that ended (by ${end.by}, code ${end.code})`);
      const bytes = typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      write(frame(WebSocketMessage_Type.DATA, bytes, headers));
    },
    next: (timeoutMs) => waitFor(() => data.shift(), timeoutOf(timeoutMs), "waiting for a DATA frame"),
    resize(cols, rows) {
      if (end) throw new TestPluginError("WEBSOCKET", "resize on a session that ended");
      write(frame(WebSocketMessage_Type.PING, undefined, { cols: String(cols), rows: String(rows) }));
    },
    async ping(timeoutMs) {
      if (end) throw new TestPluginError("WEBSOCKET", "ping on a session that ended");
      const timestamp = nowNs();
      let answered = false;
      pongs.set(timestamp, () => {
        answered = true;
        wake();
      });
      write(frame(WebSocketMessage_Type.PING, undefined, {}, timestamp));
      try {
        await waitFor(() => (answered ? true : undefined), timeoutOf(timeoutMs), "waiting for the PONG");
      } finally {
        pongs.delete(timestamp);
      }
    },
    async close(timeoutMs) {
      if (!end) {
        closedByTest = true;
        write(frame(WebSocketMessage_Type.CLOSE));
        if (call.writable) call.end();
        // A plugin that never ends its side after CLOSE is cancelled, as the host does.
        const timer = setTimeout(() => call.cancel(), timeoutOf(timeoutMs));
        await ended;
        clearTimeout(timer);
      }
      return ended;
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (data.length === 0 && end) return;
        try {
          yield await session.next();
        } catch (err) {
          // A clean end ends the iteration; a failed session or a missing frame is an error.
          if (end && data.length === 0 && end.by !== "error" && (err as Error).message.includes("the session ended")) return;
          throw err;
        }
      }
    },
  };
  return session;
}
