/**
 * WebSocket sessions: one `HandleWebSocket` stream (one browser connection through the host)
 * seen as a small socket-like object. The host sends CONNECT first (its headers carry the
 * browser's request headers plus `path` and `query`), then the browser's frames; only DATA
 * sent here reaches the browser. PINGs are answered automatically; a PING carrying
 * `cols`/`rows` (a terminal resize) is also reported as `resize`.
 */
import type { ServerDuplexStream } from "@grpc/grpc-js";
import { WebSocketMessage_Type } from "@qntx/protocol";
import type { Logger } from "./log.js";
import { frame, nowNs, type WebSocketFrame } from "@qntx/protocol";

/** How a session ended. */
export interface WebSocketCloseInfo {
  /**
   * `host`: the host closed it (the browser left, or the host sent CLOSE/ERROR or ended the
   * stream); `plugin`: this side called `close()` (or the handler threw); `cancelled`: the
   * host cancelled the call (browser vanished, PONG missed, plugin stopping).
   */
  readonly by: "host" | "plugin" | "cancelled";
  /** WebSocket close code: 1000 normal, 1011 error, 1006 cancelled, or the code given. */
  readonly code: number;
  readonly reason: string;
}

/** A terminal size, from a PING frame with `cols` and `rows` headers. */
export interface WebSocketResize {
  readonly cols: number;
  readonly rows: number;
}

/** Called once per session, when its CONNECT arrives. Register listeners before returning. */
export type WebSocketHandler = (session: WebSocketSession) => void | Promise<void>;

type Listeners = WebSocketEvents;

/** DATA frames kept while no `message` listener is registered yet (an async handler's await). */
const MAX_BUFFERED_FRAMES = 256;
const DEFAULT_PING_TIMEOUT_MS = 10_000;

/** Any frame, with a number (generated codec) or bigint timestamp, as a WebSocketFrame. */
function normalize(received: { type: number; data: Uint8Array; headers: Record<string, string>; timestamp: number | bigint }): WebSocketFrame {
  // The exact-timestamp codec already gives a frame of this shape, its data a fresh Buffer:
  // taken as is (no second copy per message).
  if (typeof received.timestamp === "bigint" && Buffer.isBuffer(received.data) && received.headers) return received as WebSocketFrame;
  const timestamp = typeof received.timestamp === "bigint" ? received.timestamp : BigInt(Math.trunc(received.timestamp || 0));
  return { type: received.type, data: Buffer.from(received.data), headers: received.headers ?? {}, timestamp };
}

function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,6}$/.test(value.trim())) return undefined;
  const n = Number(value);
  return n > 0 ? n : undefined;
}

/** One WebSocket session of a plugin (one browser connection through the host). */
export interface WebSocketSession {
  /** Headers of the CONNECT frame: the browser's request headers, `path` and `query`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The path the browser asked for, e.g. `/ws/term/tab1` ("" when the host sent none). */
  readonly path: string;
  /** The query string of the browser's request. */
  readonly query: URLSearchParams;
  /** Aborts when the session closes: pass it to work that should stop with it. */
  readonly signal: AbortSignal;
  /** Whether the session has ended (sends are then dropped). */
  readonly closed: boolean;
  /**
   * Sends `data` to the browser as a DATA frame (a string as UTF-8). Returns false when the
   * session is closed (dropped) or the stream's buffer is full (queued: wait for `drain`).
   */
  send(data: string | Uint8Array, headers?: Record<string, string>): boolean;
  /** Sends CLOSE (the host closes the browser socket with `code` and `reason`) and ends. Idempotent. */
  close(code?: number, reason?: string): void;
  /** PINGs the host; resolves with the round trip in ms once its PONG echoes the timestamp. */
  ping(timeoutMs?: number): Promise<number>;
  /** `message` (DATA: bytes and the frame), `resize`, `close` (once; also when added late), `drain`. */
  on<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
  off<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
}

/** The events of a session and their listeners. */
export interface WebSocketEvents {
  message: (data: Buffer, frame: WebSocketFrame) => void;
  resize: (size: WebSocketResize) => void;
  close: (info: WebSocketCloseInfo) => void;
  drain: () => void;
}

/** The SDK's session over one `HandleWebSocket` server call. */
class Session implements WebSocketSession {
  readonly headers: Readonly<Record<string, string>>;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly signal: AbortSignal;

  private readonly controller = new AbortController();
  private readonly listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = { message: new Set(), resize: new Set(), close: new Set(), drain: new Set() };
  private readonly pendingPings = new Map<bigint, { resolve: (rtt: number) => void; reject: (error: Error) => void; timer: NodeJS.Timeout; sentAt: number }>();
  private buffered: WebSocketFrame[] = [];
  private closeInfo: WebSocketCloseInfo | undefined;

  constructor(
    private readonly call: ServerDuplexStream<unknown, unknown>,
    headers: Readonly<Record<string, string>>,
    private readonly log: Logger,
  ) {
    this.headers = Object.freeze({ ...headers });
    this.path = headers.path ?? "";
    this.query = new URLSearchParams(headers.query ?? "");
    this.signal = this.controller.signal;
    call.on("drain", () => this.emit("drain"));
  }

  /** Whether the session has ended (sends are then dropped). */
  get closed(): boolean {
    return this.closeInfo !== undefined;
  }

  /**
   * Sends `data` to the browser as a DATA frame (a string as UTF-8). Returns false when the
   * session is closed (dropped) or the stream's buffer is full (queued: wait for `drain`).
   */
  send(data: string | Uint8Array, headers: Record<string, string> = {}): boolean {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) throw new TypeError("session.send: data must be a string or a Buffer/Uint8Array");
    if (this.closed) return false;
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.write(frame(WebSocketMessage_Type.DATA, bytes, headers));
  }

  /**
   * Closes the session: sends CLOSE (the host closes the browser socket with `code` and
   * `reason`) and ends the stream. Idempotent.
   */
  close(code = 1000, reason = ""): void {
    if (this.closed) return;
    this.write(frame(WebSocketMessage_Type.CLOSE, Buffer.from(reason, "utf8"), code === 1000 ? {} : { code: String(code) }));
    this.endStream();
    this.finish({ by: "plugin", code, reason });
  }

  /** Sends a PING to the host; resolves with the round trip in ms when its PONG echoes it. */
  ping(timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<number> {
    if (this.closed) return Promise.reject(new Error("session is closed"));
    const timestamp = nowNs();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingPings.delete(timestamp);
        reject(new Error(`no PONG within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingPings.set(timestamp, { resolve, reject, timer, sentAt: performance.now() });
      this.write(frame(WebSocketMessage_Type.PING, undefined, {}, timestamp));
    });
  }

  /** Adds a listener: `message` (DATA), `resize`, `close` (once), `drain`. */
  on<K extends keyof Listeners>(event: K, listener: Listeners[K]): this {
    if (!(event in this.listeners)) throw new TypeError(`session.on: unknown event "${String(event)}" (message, resize, close, drain)`);
    this.listeners[event].add(listener);
    if (event === "message" && this.buffered.length > 0) {
      const frames = this.buffered;
      this.buffered = [];
      queueMicrotask(() => frames.forEach((f) => this.emit("message", f.data, f)));
    }
    // A close listener added after the end still hears about it.
    if (event === "close" && this.closeInfo) {
      const info = this.closeInfo;
      queueMicrotask(() => this.invoke("close", listener as Listeners["close"], [info]));
    }
    return this;
  }

  /** Removes a listener. */
  off<K extends keyof Listeners>(event: K, listener: Listeners[K]): this {
    this.listeners[event]?.delete(listener);
    return this;
  }

  /** A frame from the host. */
  receive(received: WebSocketFrame): void {
    if (this.closed) return;
    switch (received.type) {
      case WebSocketMessage_Type.DATA:
        if (this.listeners.message.size > 0) this.emit("message", received.data, received);
        else if (this.buffered.length < MAX_BUFFERED_FRAMES) this.buffered.push(received);
        else this.log.warn("WebSocket DATA dropped: no message listener registered", { path: this.path });
        return;
      case WebSocketMessage_Type.PING: {
        this.write(frame(WebSocketMessage_Type.PONG, undefined, {}, received.timestamp));
        const cols = positiveInt(received.headers.cols);
        const rows = positiveInt(received.headers.rows);
        if (cols !== undefined && rows !== undefined) this.emit("resize", { cols, rows });
        return;
      }
      case WebSocketMessage_Type.PONG: {
        const pending = this.pendingPings.get(received.timestamp);
        if (!pending) return;
        this.pendingPings.delete(received.timestamp);
        clearTimeout(pending.timer);
        pending.resolve(performance.now() - pending.sentAt);
        return;
      }
      case WebSocketMessage_Type.CLOSE: {
        const code = Number(received.headers.code ?? 1000);
        this.endStream();
        this.finish({ by: "host", code: Number.isInteger(code) ? code : 1000, reason: received.data.toString("utf8") });
        return;
      }
      case WebSocketMessage_Type.ERROR:
        this.endStream();
        this.finish({ by: "host", code: 1011, reason: received.data.toString("utf8") });
        return;
      default:
        // A second CONNECT, or a type this SDK does not know: nothing to do.
        return;
    }
  }

  /** The host ended its side without CLOSE. */
  hostEnded(): void {
    this.endStream();
    this.finish({ by: "host", code: 1000, reason: "" });
  }

  /** The host cancelled the call. */
  cancelled(): void {
    this.finish({ by: "cancelled", code: 1006, reason: "cancelled by the host" });
  }

  /** The handler failed: tell the host (ERROR → the browser gets 1011) and end. */
  fail(message: string): void {
    if (this.closed) return;
    this.write(frame(WebSocketMessage_Type.ERROR, Buffer.from(message, "utf8")));
    this.endStream();
    this.finish({ by: "plugin", code: 1011, reason: message });
  }

  private write(message: WebSocketFrame): boolean {
    if (!this.call.writable || this.call.cancelled) return false;
    return this.call.write(message);
  }

  private endStream(): void {
    if (this.call.writable && !this.call.cancelled) this.call.end();
  }

  private finish(info: WebSocketCloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = info;
    this.buffered = [];
    for (const pending of this.pendingPings.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error("session closed"));
    }
    this.pendingPings.clear();
    this.controller.abort();
    this.emit("close", info);
    this.listeners.message.clear();
    this.listeners.resize.clear();
    this.listeners.drain.clear();
  }

  private emit<K extends keyof Listeners>(event: K, ...args: Parameters<Listeners[K]>): void {
    const listeners = this.listeners[event];
    // The usual single listener needs no snapshot; several are copied so one may remove another.
    if (listeners.size === 1) this.invoke(event, listeners.values().next().value!, args);
    else for (const listener of [...listeners]) this.invoke(event, listener, args);
  }

  /** Runs a listener; a throw or a rejection is logged, never allowed to kill the plugin. */
  private invoke<K extends keyof Listeners>(event: K, listener: Listeners[K], args: Parameters<Listeners[K]>): void {
    try {
      const result = (listener as (...a: unknown[]) => unknown)(...args);
      if (result && typeof (result as Promise<unknown>).then === "function") {
        (result as Promise<unknown>).then(undefined, (err: unknown) => this.log.error(`WebSocket ${event} listener failed`, { err, path: this.path }));
      }
    } catch (err) {
      this.log.error(`WebSocket ${event} listener failed`, { err, path: this.path });
    }
  }
}

/**
 * Serves one `HandleWebSocket` call with `handler`: the session starts at the first frame
 * (CONNECT; a host that skips it gets a session without headers). Live sessions are kept in
 * `sessions` so a stopping plugin can close them.
 */
export function acceptWebSocket(call: ServerDuplexStream<unknown, unknown>, handler: WebSocketHandler, sessions: Set<WebSocketSession>, log: Logger): void {
  let session: Session | undefined;
  call.on("error", () => undefined);
  call.on("data", (raw: Parameters<typeof normalize>[0]) => {
    let received: WebSocketFrame;
    try {
      received = normalize(raw);
    } catch {
      return;
    }
    if (!session) {
      const current = new Session(call, received.type === WebSocketMessage_Type.CONNECT ? received.headers : {}, log);
      session = current;
      sessions.add(current);
      current.on("close", () => sessions.delete(current));
      start(current, handler, log);
      if (received.type === WebSocketMessage_Type.CONNECT) return;
    }
    session.receive(received);
  });
  call.on("end", () => {
    // A cancelled call also ends its read side, just before `cancelled`: let that come first.
    setImmediate(() => {
      if (call.cancelled) return session?.cancelled();
      if (session) session.hostEnded();
      else if (call.writable) call.end();
    });
  });
  call.on("cancelled", () => session?.cancelled());
}

function start(session: Session, handler: WebSocketHandler, log: Logger): void {
  const failed = (err: unknown): void => {
    log.error("WebSocket handler failed", { err, path: session.path });
    session.fail(`WebSocket handler failed: ${err instanceof Error ? err.message : String(err)}`);
  };
  try {
    // Called synchronously, so listeners registered before an await miss no frame.
    const result = handler(session);
    if (result && typeof (result as Promise<void>).then === "function") (result as Promise<void>).then(undefined, failed);
  } catch (err) {
    failed(err);
  }
}
