/** WebSocket sessions over real gRPC: a raw grpc-js bidi client plays the host. */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceClient, DomainPluginServiceService, WebSocketMessage, WebSocketMessage_Type as T } from "@qntx/protocol";
import {
  decodeWebSocketFrame,
  definePlugin,
  encodeWebSocketFrame,
  startPlugin,
  type PluginHandle,
  type WebSocketCloseInfo,
  type WebSocketFrame,
  type WebSocketSession,
} from "../src/index.js";
import { dial } from "./helpers.js";

/** A nanosecond timestamp beyond Number.MAX_SAFE_INTEGER, as a Go host sends. */
const BIG_NS = 1712345678901234567n;

function deferred<V>(): { promise: Promise<V>; resolve(value: V): void } {
  let resolve!: (value: V) => void;
  const promise = new Promise<V>((r) => (resolve = r));
  return { promise, resolve };
}

const f = (type: T, data: string | Buffer = "", headers: Record<string, string> = {}, timestamp = 0n): WebSocketFrame => ({
  type, data: Buffer.from(data), headers, timestamp,
});

/** The host side of one HandleWebSocket call. */
interface HostStream {
  readonly call: grpc.ClientDuplexStream<WebSocketFrame, WebSocketFrame>;
  next(): Promise<WebSocketFrame>;
  readonly status: Promise<grpc.StatusObject>;
  readonly received: WebSocketFrame[];
}

function openStream(client: DomainPluginServiceClient, connect: Record<string, string> | null = { path: "/ws/term/1", query: "a=1&b=2", "x-user": "ada" }): HostStream {
  const call = client.makeBidiStreamRequest<WebSocketFrame, WebSocketFrame>(
    DomainPluginServiceService.handleWebSocket.path, encodeWebSocketFrame, decodeWebSocketFrame, new grpc.Metadata(),
  );
  const received: WebSocketFrame[] = [];
  const waiters: Array<(frame: WebSocketFrame) => void> = [];
  let read = 0;
  call.on("data", (frame: WebSocketFrame) => {
    received.push(frame);
    waiters.shift()?.(frame);
  });
  call.on("error", () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
  if (connect) call.write(f(T.CONNECT, "", connect, BIG_NS));
  return {
    call, received, status,
    next: () => {
      const index = read++;
      return index < received.length ? Promise.resolve(received[index]!) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** Sessions the plugin saw, in order, each with its close (once it ends). */
const sessions: Array<{ session: WebSocketSession; closed: Promise<WebSocketCloseInfo> }> = [];
const sessionArrived: Array<(s: (typeof sessions)[number]) => void> = [];

const plugin = definePlugin({
  metadata: { name: "ws-sdk", version: "1.0.0" },
  websocket: async (session) => {
    const closed = deferred<WebSocketCloseInfo>();
    session.on("close", closed.resolve);
    const entry = { session, closed: closed.promise };
    sessions.push(entry);
    sessionArrived.shift()?.(entry);
    if (session.path === "/throw") throw new Error("handler blew up");
    if (session.path === "/late") await new Promise((resolve) => setTimeout(resolve, 50));
    session.on("resize", (size) => session.send(JSON.stringify({ resize: size })));
    session.on("message", (data, frame) => {
      const text = data.toString("utf8");
      if (text === "listener-throws") throw new Error("listener blew up");
      if (text === "bye") return session.close(4001, "see you");
      session.send(text === "binary" ? Buffer.from([0, 255]) : `echo:${text}`, frame.headers);
    });
  },
});

function nextSession(): Promise<(typeof sessions)[number]> {
  return new Promise((resolve) => sessionArrived.push(resolve));
}

let handle: PluginHandle;
let client: DomainPluginServiceClient;

beforeAll(async () => {
  handle = await startPlugin(plugin, { port: 0 });
  client = dial(handle.address);
});

afterAll(async () => {
  client?.close();
  await handle?.close({ force: true });
});

describe("WebSocket frame codec", () => {
  it("round-trips int64 nanosecond timestamps exactly, negative ones too", () => {
    for (const timestamp of [0n, 1n, BIG_NS, (1n << 63n) - 1n, -5n]) {
      const frame = f(T.PING, "x", { cols: "80" }, timestamp);
      expect(decodeWebSocketFrame(encodeWebSocketFrame(frame))).toEqual(frame);
    }
  });

  it("reads and writes what the generated codec does for safe values", () => {
    const message: WebSocketMessage = { type: T.DATA, data: Buffer.from("hi"), headers: { a: "1", b: "2" }, timestamp: 1_700_000_000_000 };
    const ours = decodeWebSocketFrame(Buffer.from(WebSocketMessage.encode(message).finish()));
    expect(ours).toEqual({ ...message, timestamp: 1_700_000_000_000n });
    expect(WebSocketMessage.decode(encodeWebSocketFrame(ours))).toEqual(message);
    // A header named __proto__ stays a header (the generated decoder would drop it).
    const proto = decodeWebSocketFrame(encodeWebSocketFrame(f(T.DATA, "", { ["__proto__"]: "x" })));
    expect(Object.getOwnPropertyNames(proto.headers)).toEqual(["__proto__"]);
  });

  it("skips unknown fields and rejects truncated input", () => {
    const extra = Buffer.concat([encodeWebSocketFrame(f(T.DATA, "ok")), Buffer.from([0x2a, 0x02, 0x01, 0x02, 0x30, 0x07])]);
    expect(decodeWebSocketFrame(extra).data.toString()).toBe("ok");
    expect(() => decodeWebSocketFrame(Buffer.from([0x12, 0x05, 0x61]))).toThrow(/truncated/);
  });
});

describe("WebSocket sessions over gRPC", () => {
  it("starts a session at CONNECT with its headers, path and query, and exchanges DATA", async () => {
    const arrived = nextSession();
    const host = openStream(client);
    const { session } = await arrived;
    expect(session.headers).toEqual({ path: "/ws/term/1", query: "a=1&b=2", "x-user": "ada" });
    expect(session.path).toBe("/ws/term/1");
    expect(session.query.get("b")).toBe("2");

    host.call.write(f(T.DATA, "hello", { k: "v" }, BIG_NS));
    const echoed = await host.next();
    expect([echoed.type, echoed.data.toString(), echoed.headers]).toEqual([T.DATA, "echo:hello", { k: "v" }]);
    expect(echoed.timestamp).toBeGreaterThan(1_600_000_000_000_000_000n);
    host.call.write(f(T.DATA, "binary"));
    expect((await host.next()).data).toEqual(Buffer.from([0, 255]));
    host.call.end();
  });

  it("answers PING with a PONG echoing the exact timestamp and reports cols/rows as resize", async () => {
    const host = openStream(client);
    host.call.write(f(T.PING, "", {}, BIG_NS));
    expect(await host.next()).toEqual(f(T.PONG, "", {}, BIG_NS));
    host.call.write(f(T.PING, "", { cols: "120", rows: "40" }, 7n));
    const answers = [await host.next(), await host.next()];
    expect(answers.find((a) => a.type === T.PONG)?.timestamp).toBe(7n);
    expect(JSON.parse(answers.find((a) => a.type === T.DATA)!.data.toString())).toEqual({ resize: { cols: 120, rows: 40 } });
    // A PING without a usable size is only answered.
    host.call.write(f(T.PING, "", { cols: "wide", rows: "40" }, 8n));
    expect(await host.next()).toMatchObject({ type: T.PONG, timestamp: 8n });
    host.call.write(f(T.DATA, "after"));
    expect((await host.next()).data.toString()).toBe("echo:after");
    host.call.end();
  });

  it("session.ping() resolves when the host's PONG echoes it", async () => {
    const arrived = nextSession();
    const host = openStream(client);
    const { session } = await arrived;
    const rtt = session.ping(2_000);
    const ping = await host.next();
    expect(ping.type).toBe(T.PING);
    host.call.write(f(T.PONG, "", {}, ping.timestamp + 1n)); // not ours: ignored
    host.call.write(f(T.PONG, "", {}, ping.timestamp));
    expect(await rtt).toBeGreaterThanOrEqual(0);
    host.call.end();
  });

  it("a host CLOSE ends the session (close by host) and the stream", async () => {
    const arrived = nextSession();
    const host = openStream(client);
    const { session, closed } = await arrived;
    host.call.write(f(T.CLOSE, "browser left", { code: "1001" }));
    expect(await closed).toEqual({ by: "host", code: 1001, reason: "browser left" });
    expect((await host.status).code).toBe(grpc.status.OK);
    expect(session.closed).toBe(true);
    expect(session.signal.aborted).toBe(true);
    expect(session.send("late")).toBe(false);
  });

  it("session.close(code, reason) sends CLOSE with the code and ends the stream", async () => {
    const arrived = nextSession();
    const host = openStream(client);
    const { closed } = await arrived;
    host.call.write(f(T.DATA, "bye"));
    const close = await host.next();
    expect([close.type, close.data.toString(), close.headers]).toEqual([T.CLOSE, "see you", { code: "4001" }]);
    expect((await host.status).code).toBe(grpc.status.OK);
    expect(await closed).toEqual({ by: "plugin", code: 4001, reason: "see you" });
  });

  it("a cancelled call closes the session (close by cancelled)", async () => {
    const arrived = nextSession();
    const host = openStream(client);
    const { closed } = await arrived;
    host.call.cancel();
    expect(await closed).toMatchObject({ by: "cancelled", code: 1006 });
  });

  it("a handler that throws sends ERROR and ends the stream", async () => {
    const host = openStream(client, { path: "/throw" });
    const error = await host.next();
    expect([error.type, error.data.toString()]).toEqual([T.ERROR, "WebSocket handler failed: handler blew up"]);
    expect((await host.status).code).toBe(grpc.status.OK);
  });

  it("a listener that throws is logged and the session keeps serving", async () => {
    const host = openStream(client);
    host.call.write(f(T.DATA, "listener-throws"));
    host.call.write(f(T.DATA, "still here"));
    expect((await host.next()).data.toString()).toBe("echo:still here");
    host.call.end();
  });

  it("keeps DATA that arrives before an async handler registers its listener", async () => {
    const host = openStream(client, { path: "/late" });
    host.call.write(f(T.DATA, "early"));
    expect((await host.next()).data.toString()).toBe("echo:early");
    host.call.end();
  });

  it("starts a session without headers when the host skips CONNECT", async () => {
    const arrived = nextSession();
    const host = openStream(client, null);
    host.call.write(f(T.DATA, "no connect"));
    const { session } = await arrived;
    expect(session.headers).toEqual({});
    expect((await host.next()).data.toString()).toBe("echo:no connect");
    host.call.end();
  });

  it("closes open sessions with 1001 when the plugin stops, without waiting for the timeout", async () => {
    const own = await startPlugin(plugin, { port: 0, shutdownTimeoutMs: 10_000 });
    const c = dial(own.address);
    try {
      const arrived = nextSession();
      const host = openStream(c);
      const { closed } = await arrived;
      const started = Date.now();
      const stopping = own.close();
      const close = await host.next();
      expect([close.type, close.data.toString(), close.headers]).toEqual([T.CLOSE, "plugin shutting down", { code: "1001" }]);
      expect(await closed).toMatchObject({ by: "plugin", code: 1001 });
      host.call.end();
      await stopping;
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      c.close();
      await own.close({ force: true });
    }
  });
});
