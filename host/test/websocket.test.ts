/**
 * WebSocket gateway end to end: a real host, real plugin processes (SDK fixture
 * fixtures/ws-plugin.mjs, plus the built-in clock), and the `ws` client as the browser.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { http, startTestHost, until, type TestHost } from "./harness.js";

const WS_PLUGIN = fileURLToPath(new URL("./fixtures/ws-plugin.mjs", import.meta.url));
const MAX_FRAME = 64 * 1024;

function wsPluginTable(name: string, mode = "sdk", extra = ""): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(WS_PLUGIN)}\nargs = ${JSON.stringify(["--name", name, "--mode", mode])}\n${extra}\n`;
}

/** A browser-side socket with a message queue and the close it ends with. */
interface Client {
  readonly ws: WebSocket;
  readonly received: Array<{ type: number; data: string; headers: Record<string, string>; timestamp: number }>;
  next(): Promise<{ type: number; data: string; headers: Record<string, string>; timestamp: number }>;
  /** Next DATA frame's payload as UTF-8. */
  nextText(): Promise<string>;
  readonly closed: Promise<{ code: number; reason: string }>;
  sendData(data: string | Buffer, headers?: Record<string, string | number>, type?: number): void;
}

/** Opens a socket; resolves once open, or rejects with the HTTP status of a refused upgrade. */
function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const received: Client["received"] = [];
    const waiters: Array<(m: Client["received"][number]) => void> = [];
    ws.on("message", (raw: Buffer) => {
      const message = JSON.parse(raw.toString("utf8")) as Client["received"][number];
      received.push(message);
      waiters.shift()?.(message);
    });
    let read = 0;
    const next = (): Promise<Client["received"][number]> => {
      const index = read++;
      return index < received.length ? Promise.resolve(received[index]!) : new Promise((r) => waiters.push(r));
    };
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
    ws.on("error", () => undefined);
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c));
      res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body })));
    });
    ws.once("open", () =>
      resolve({
        ws, received, next, closed,
        nextText: async () => Buffer.from((await next()).data, "base64").toString("utf8"),
        sendData: (data, headers = {}, type = 1) =>
          ws.send(JSON.stringify({ type, data: Buffer.from(data).toString("base64"), headers, timestamp: Date.now() * 1e6 })),
      }),
    );
  });
}

function refusal(promise: Promise<unknown>): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return promise.then(
    () => {
      throw new Error("the upgrade was accepted");
    },
    (error: { status: number; headers: Record<string, string>; body: string }) => error,
  );
}

describe("WebSocket gateway", () => {
  let t: TestHost;
  let base: string;
  const clients: Client[] = [];
  const open = async (path: string, options?: WebSocket.ClientOptions): Promise<Client> => {
    const client = await connect(base + path, options);
    clients.push(client);
    return client;
  };
  const stats = async (name = "wsp") => (await http(`${t.url}/api/${name}/stats`)).json() as { opened: number; closes: Array<{ by: string; code: number; reason: string }> };

  beforeAll(async () => {
    t = await startTestHost(
      `${wsPluginTable("wsp")}\n${wsPluginTable("idle", "sdk", "auto_start = false")}\n[plugins.clock]\nbuiltin = "clock"\n`,
      // A TOML array: hostTable writes values with JSON.stringify.
      { ws_max_frame_bytes: MAX_FRAME, allowed_origins: ["https://*.example.test"] as unknown as string },
    );
    base = t.url.replace(/^http/, "ws");
  });

  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    await t?.close();
  });

  it("echoes text DATA and binary data through /ws/<name>", async () => {
    const c = await open("/ws/wsp");
    c.sendData("hello");
    const echoed = await c.next();
    expect(echoed).toMatchObject({ type: 1, data: Buffer.from("hello").toString("base64"), headers: {} });
    expect(typeof echoed.timestamp).toBe("number");

    // Non-UTF-8 bytes, with the JSON itself sent as a binary WebSocket message.
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    c.ws.send(Buffer.from(JSON.stringify({ type: 1, data: bytes.toString("base64"), headers: { k: "v" } })), { binary: true });
    const binary = await c.next();
    expect(Buffer.from(binary.data, "base64")).toEqual(bytes);
    expect(binary.headers).toEqual({ k: "v" });
    c.ws.close(1000);
    expect((await c.closed).code).toBe(1000);
  });

  it("sends CONNECT with the request headers, path and query", async () => {
    const c = await open("/ws/wsp/term/tab1?x=1&y=two", { headers: { "x-test": "yes", cookie: "a=1" } });
    c.sendData("headers");
    const seen = JSON.parse(await c.nextText()) as { headers: Record<string, string>; path: string; query: string };
    expect(seen.path).toBe("/ws/wsp/term/tab1");
    expect(seen.query).toBe("x=1&y=two");
    expect(seen.headers).toMatchObject({ "x-test": "yes", cookie: "a=1", path: "/ws/wsp/term/tab1", query: "x=1&y=two" });
    expect(seen.headers.host).toBeDefined();
    expect(seen.headers["sec-websocket-key"]).toBeUndefined();
    expect(seen.headers.upgrade).toBeUndefined();
  });

  it("serves the seed's /<name>-ws alias with the requested path", async () => {
    const c = await open("/wsp-ws?from=alias");
    c.sendData("headers");
    const seen = JSON.parse(await c.nextText()) as { path: string; query: string };
    expect(seen).toMatchObject({ path: "/wsp-ws", query: "from=alias" });
  });

  it("forwards a PING with cols/rows as a resize", async () => {
    const c = await open("/ws/wsp");
    c.sendData("", { cols: 120, rows: 40 }, 3);
    expect(JSON.parse(await c.nextText())).toEqual({ resize: { cols: 120, rows: 40 } });
  });

  it("answers the plugin's PING with a PONG echoing its timestamp", async () => {
    const c = await open("/ws/wsp");
    c.sendData("ping-host");
    expect(await c.nextText()).toBe("pong-ok");
  });

  it("closes a browser frame over the limit with 1009 and tells the plugin", async () => {
    const before = (await stats()).closes.length;
    const c = await open("/ws/wsp");
    c.sendData(Buffer.alloc(MAX_FRAME, "a"));
    expect((await c.closed).code).toBe(1009);
    const closes = await until(async () => {
      const s = await stats();
      return s.closes.length > before ? s.closes : undefined;
    }, "the plugin to see the close");
    expect(closes.at(-1)?.by).toBe("host");
  });

  it("closes with 1009 when the plugin sends a DATA frame over the limit", async () => {
    const c = await open("/ws/wsp");
    c.sendData(`big:${MAX_FRAME + 1}`);
    const closed = await c.closed;
    expect(closed.code).toBe(1009);
    expect(closed.reason).toMatch(/exceeds the 65536-byte limit/);
    expect(c.received).toEqual([]);
  });

  it("closes garbage frames with 1003 and forwards nothing", async () => {
    const before = (await stats()).closes.length;
    const notJson = await open("/ws/wsp");
    notJson.ws.send("hello?");
    const closed = await notJson.closed;
    expect(closed).toEqual({ code: 1003, reason: expect.stringMatching(/not JSON/) });
    expect(notJson.received).toEqual([]);

    const wrongShape = await open("/ws/wsp");
    wrongShape.ws.send(JSON.stringify({ type: 9, data: "aGk=" }));
    expect(await wrongShape.closed).toEqual({ code: 1003, reason: expect.stringMatching(/type/) });
    const badData = await open("/ws/wsp");
    badData.ws.send(JSON.stringify({ type: 1, data: "not base64!" }));
    expect(await badData.closed).toEqual({ code: 1003, reason: expect.stringMatching(/base64/) });
    expect([...wrongShape.received, ...badData.received]).toEqual([]);
    // The three sessions were ended cleanly (CLOSE from the host) on the plugin's side.
    const closes = await until(async () => {
      const s = await stats();
      return s.closes.length >= before + 3 ? s.closes.slice(before) : undefined;
    }, "three closes");
    expect(closes.map((c) => c.by)).toEqual(["host", "host", "host"]);
  });

  it("checks the Origin at the upgrade: 403 for others, loopback and allowed globs pass", async () => {
    const refused = await refusal(connect(`${base}/ws/wsp`, { origin: "https://evil.example.com" }));
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toMatch(/origin https:\/\/evil\.example\.com is not allowed/);
    expect((await refusal(connect(`${base}/ws/wsp`, { origin: "https://example.test.evil.com" }))).status).toBe(403);
    expect((await refusal(connect(`${base}/ws/wsp`, { origin: "null" }))).status).toBe(403);
    for (const origin of ["http://localhost:5173", "http://127.0.0.1", "https://[::1]:8443", "https://app.example.test", undefined]) {
      const c = await open("/ws/wsp", origin ? { origin } : {});
      c.sendData("hi");
      expect(await c.nextText()).toBe("hi");
    }
  });

  it("answers 404 for an unknown plugin or route and 503 with Retry-After for a stopped plugin", async () => {
    const unknown = await refusal(connect(`${base}/ws/nope`));
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toMatch(/no plugin named "nope"/);
    expect((await refusal(connect(`${base}/nope-ws`))).status).toBe(404);
    expect((await refusal(connect(`${base}/api/wsp/x`))).status).toBe(404);
    const stopped = await refusal(connect(`${base}/ws/idle`));
    expect(stopped.status).toBe(503);
    expect(stopped.headers["retry-after"]).toBe("2");
    expect(JSON.parse(stopped.body).error).toMatch(/plugin idle is stopped/);
    // A plain GET is told to upgrade.
    expect((await http(`${t.url}/ws/wsp`)).status).toBe(426);
  });

  it("closes the browser socket with the plugin's CLOSE code, and 1011 on its ERROR", async () => {
    const c = await open("/ws/wsp");
    c.sendData("close:4001:bye now");
    expect(await c.closed).toEqual({ code: 4001, reason: "bye now" });

    const e = await open("/ws/wsp");
    e.sendData(`error:${"é".repeat(100)}`);
    const closed = await e.closed;
    expect(closed.code).toBe(1011);
    expect(closed.reason).toMatch(/^WebSocket handler failed: é+$/);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
  });

  it("tells the plugin when the browser closes or disconnects", async () => {
    const before = (await stats()).closes.length;
    const clean = await open("/ws/wsp");
    clean.ws.close(1000);
    const afterClean = await until(async () => {
      const s = await stats();
      return s.closes.length > before ? s.closes : undefined;
    }, "the plugin to see the browser's close");
    expect(afterClean.at(-1)).toMatchObject({ by: "host", code: 1000 });

    const gone = await open("/ws/wsp");
    gone.sendData("hi");
    await gone.nextText();
    gone.ws.terminate(); // the socket is destroyed: no close frame
    const afterGone = await until(async () => {
      const s = await stats();
      return s.closes.length > before + 1 ? s.closes : undefined;
    }, "the plugin to see the disconnect");
    expect(["host", "cancelled"]).toContain(afterGone.at(-1)!.by);
  });

  it("serves the built-in clock's WebSocket in process", async () => {
    const c = await open("/ws/clock");
    c.sendData("now");
    expect(new Date(await c.nextText()).getTime()).toBeGreaterThan(Date.now() - 60_000);
    c.sendData("echo me");
    expect(await c.nextText()).toBe("echo me");
    c.ws.close(1000);
    expect((await c.closed).code).toBe(1000);
  });

  it("closes open sessions with 1001 on a person's restart (not a crash), and takes new ones after it", async () => {
    const c = await open("/ws/wsp");
    c.sendData("hi");
    expect(await c.nextText()).toBe("hi");
    const restarting = t.host.manager.restart("wsp");
    // Before the fix: 1011, as if the plugin had crashed.
    expect(await c.closed).toMatchObject({ code: 1001, reason: "plugin wsp is restarting" });
    await restarting;
    const again = await open("/ws/wsp");
    again.sendData("back");
    expect(await again.nextText()).toBe("back");
    again.ws.close(1000);
    expect((await again.closed).code).toBe(1000);
  });

  // Last in this block: it stops the plugin.
  it("closes open sessions with 1001 when the plugin is stopped", async () => {
    const c = await open("/ws/wsp");
    c.sendData("hi");
    expect(await c.nextText()).toBe("hi");
    const stopping = t.host.manager.stop("wsp");
    expect((await c.closed).code).toBe(1001);
    await stopping;
    expect((await refusal(connect(`${base}/ws/wsp`))).status).toBe(503);
  });
});

describe("WebSocket keepalive and plugin failure", () => {
  let t: TestHost;
  let base: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    t = await startTestHost(`${wsPluginTable("deaf", "no-pong")}\n${wsPluginTable("victim")}`, { ws_ping_interval_ms: 100, ws_pong_timeout_ms: 300 });
    base = t.url.replace(/^http/, "ws");
  });

  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await t?.close();
  });

  it("echoes a plugin PING's int64 timestamp exactly", async () => {
    const c = await connect(`${base}/ws/deaf`);
    sockets.push(c.ws);
    c.sendData("ping-ts");
    expect(await c.nextText()).toBe("pong:1712345678901234567");
  });

  it("disconnects a plugin that never answers PING with 1011 and a reason", async () => {
    const c = await connect(`${base}/ws/deaf`);
    sockets.push(c.ws);
    const started = Date.now();
    const closed = await c.closed;
    expect(closed.code).toBe(1011);
    expect(closed.reason).toBe("plugin deaf did not answer PING within 300 ms");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(t.logs.some((l) => l.msg === closed.reason)).toBe(true);
  });

  it("keeps a session whose plugin answers PINGs", async () => {
    const c = await connect(`${base}/ws/victim`);
    sockets.push(c.ws);
    // Several ping intervals and pong timeouts pass while the session keeps working. The time
    // passing is the subject here (the host's ping timer must fire): no event stands for it.
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      c.sendData(`round ${i}`);
      expect(await c.nextText()).toBe(`round ${i}`);
    }
  });

  it("closes the browser socket with 1011 promptly when the plugin is killed", async () => {
    const c = await connect(`${base}/ws/victim`);
    sockets.push(c.ws);
    c.sendData("hi");
    expect(await c.nextText()).toBe("hi");
    const pid = t.host.registry.get("victim")!.pid!;
    const killedAt = Date.now();
    process.kill(pid, "SIGKILL");
    const closed = await c.closed;
    expect(closed.code).toBe(1011);
    expect(closed.reason).toMatch(/victim/);
    expect(Date.now() - killedAt).toBeLessThan(3_000);
  });
});
