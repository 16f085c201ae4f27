/**
 * PluginClient, the one client of DomainPluginService, against a real plugin process that
 * misbehaves on request (fixtures/misbehaving-plugin.mjs): every failure is a PluginCallError
 * with the gRPC status, the details and the method; deadlines and abort signals end calls and
 * streams (and the plugin sees the cancel); HandleWebSocket keeps int64 timestamps exact and
 * sends the query as metadata; a process that dies mid-call fails the call, not the caller.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { status, type StatusObject } from "@grpc/grpc-js";
import { PluginCallError, PluginClient, WebSocketMessage_Type, callErrorOf, frame, parsePortLine, queryMetadata, type HTTPRequest, type WebSocketFrame } from "../src/index.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/misbehaving-plugin.mjs", import.meta.url));

/** A running fixture: its process, its address and its stdout lines. */
interface Plugin {
  child: ChildProcess;
  address: string;
  lines: Interface;
}

/** Spawns the fixture and resolves once it printed its port line. */
async function startPlugin(): Promise<Plugin> {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      const announced = parsePortLine(line);
      if (announced !== undefined) resolve(announced);
    });
    child.once("exit", () => reject(new Error("the fixture exited before its port line")));
  });
  return { child, address: `127.0.0.1:${port}`, lines };
}

/** Resolves when the fixture prints `text` on stdout. */
function printed(text: string): Promise<void> {
  return new Promise((resolve) => {
    const onLine = (line: string): void => {
      if (line !== text) return;
      plugin.lines.off("line", onLine);
      resolve();
    };
    plugin.lines.on("line", onLine);
  });
}

const get = (path: string): HTTPRequest => ({ method: "GET", path, headers: [], body: Buffer.alloc(0) });
const within = (ms: number): { deadline: number } => ({ deadline: Date.now() + ms });

let plugin: Plugin;
const clients: PluginClient[] = [];
const connect = (address = plugin.address): PluginClient => {
  const client = new PluginClient(address);
  clients.push(client);
  return client;
};

beforeAll(async () => {
  plugin = await startPlugin();
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  if (!plugin || plugin.child.exitCode !== null || plugin.child.signalCode !== null) return;
  const exited = once(plugin.child, "exit");
  plugin.child.kill("SIGKILL");
  await exited; // its pipes and process handle close with the exit
});

/** The fixture's count of calls it saw cancelled. */
async function cancelledCount(client: PluginClient): Promise<number> {
  return (JSON.parse(Buffer.from((await client.handleHTTP(get("/cancelled"), within(5_000))).body).toString()) as { cancelled: number }).cancelled;
}

/**
 * Polls until the fixture has seen `count` cancelled calls: the cancel reaches the plugin on its
 * side of the connection, and the fixture only tells by answering a request, so a bounded poll
 * (the test's timeout) is the one way to see it.
 */
async function untilCancelled(client: PluginClient, count: number): Promise<void> {
  while ((await cancelledCount(client)) < count) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("unary calls", () => {
  it("answer, on one channel", async () => {
    const client = connect();
    const answers = await Promise.all(["/a", "/b"].map((path) => client.handleHTTP(get(path), within(5_000))));
    expect(answers.map((a) => Buffer.from(a.body).toString())).toEqual(["/a", "/b"]);
  });

  it("fail with the status, its details and the method", async () => {
    const client = connect();
    const refused = await client.handleHTTP(get("/refuse"), within(5_000)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PluginCallError);
    expect(refused).toMatchObject({ code: status.UNIMPLEMENTED, details: "no such thing here", message: "no such thing here", method: "HandleHTTP", errorCode: "PLUGIN_UNIMPLEMENTED", httpStatus: 404 });
    // A method the plugin does not serve at all.
    expect(await client.health(within(5_000)).catch((e: unknown) => e)).toMatchObject({ code: status.UNIMPLEMENTED, method: "Health" });
  });

  it("end at their deadline with DEADLINE_EXCEEDED, and the plugin sees the cancel", async () => {
    const client = connect();
    const before = await cancelledCount(client);
    const error = await client.handleHTTP(get("/hang"), within(200)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: status.DEADLINE_EXCEEDED, method: "HandleHTTP", errorCode: "PLUGIN_TIMEOUT", grpcStatus: "DEADLINE_EXCEEDED", httpStatus: 504 });
    await untilCancelled(client, before + 1);
  });

  it("end when their signal aborts, with CANCELLED, and the plugin sees the cancel", async () => {
    const client = connect();
    const before = await cancelledCount(client);
    const controller = new AbortController();
    const arrived = printed("hang: call arrived");
    const call = client.handleHTTP(get("/hang"), { deadline: Date.now() + 60_000, signal: controller.signal }).catch((e: unknown) => e);
    await arrived; // the call is in the plugin: abort it there
    controller.abort();
    expect(await call).toMatchObject({ code: status.CANCELLED, method: "HandleHTTP" });
    await untilCancelled(client, before + 1);
  });

  it("never start with a signal already aborted", async () => {
    const client = connect();
    const controller = new AbortController();
    controller.abort();
    const error = await client.handleHTTP(get("/hang"), { deadline: Date.now() + 60_000, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: status.CANCELLED, message: "call cancelled before it started", method: "HandleHTTP" });
  });
  it("fail with UNAVAILABLE once the client is closed (grpc-js throws; the client rejects)", async () => {
    const client = connect();
    client.close();
    const error = await client.handleHTTP(get("/a"), within(5_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginCallError);
    expect(error).toMatchObject({ code: status.UNAVAILABLE, method: "HandleHTTP", errorCode: "PLUGIN_CALL_FAILED" });
  });
});

describe("HandleWebSocket", () => {
  /** The next frame the stream delivers. */
  const nextFrame = async (stream: NodeJS.EventEmitter): Promise<WebSocketFrame> => ((await once(stream, "data")) as [WebSocketFrame])[0];
  /** The stream's final status (not `events.once`: it rejects on the `error` a failed stream emits first). */
  const finalStatus = (stream: NodeJS.EventEmitter): Promise<StatusObject> => new Promise((resolve) => stream.once("status", resolve));

  it("keeps an int64 timestamp beyond 2^53 exact, and sends the query as call metadata", async () => {
    const client = connect();
    const stream = client.handleWebSocket({ deadline: Infinity, metadata: queryMetadata("q=1&q=2&grpc-x=no") });
    stream.write(frame(WebSocketMessage_Type.CONNECT, undefined, { path: "/ws/x" }));
    // Every value travels; the receiving grpc-js joins a repeated key's values, as HTTP/2 allows.
    expect(JSON.parse((await nextFrame(stream)).data.toString())).toEqual(["1, 2"]);
    const big = 1712345678901234567n;
    stream.write(frame(WebSocketMessage_Type.DATA, Buffer.from("hi"), {}, big));
    expect(await nextFrame(stream)).toMatchObject({ type: WebSocketMessage_Type.DATA, timestamp: big });
    const ended = finalStatus(stream);
    stream.end();
    expect(callErrorOf(await ended, "HandleWebSocket")).toBeUndefined();
  });

  it("is cancelled by its signal: the status says CANCELLED and the plugin sees it", async () => {
    const client = connect();
    const before = await cancelledCount(client);
    const controller = new AbortController();
    const stream = client.handleWebSocket({ deadline: Infinity, signal: controller.signal });
    stream.on("error", () => undefined);
    stream.write(frame(WebSocketMessage_Type.CONNECT));
    await nextFrame(stream);
    const ended = finalStatus(stream);
    controller.abort();
    const error = callErrorOf(await ended, "HandleWebSocket");
    expect(error).toMatchObject({ code: status.CANCELLED, method: "HandleWebSocket" });
    await untilCancelled(client, before + 1);
  });

  it("refuses to open with a signal already aborted", () => {
    const controller = new AbortController();
    controller.abort();
    expect(() => connect().handleWebSocket({ deadline: Infinity, signal: controller.signal })).toThrow(PluginCallError);
  });

  it("refuses to open on a closed client with UNAVAILABLE", () => {
    const client = connect();
    client.close();
    let thrown: unknown;
    try {
      client.handleWebSocket({ deadline: Infinity });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: status.UNAVAILABLE, method: "HandleWebSocket" });
  });
});

describe("a plugin process that dies", () => {
  it("fails the call in flight and the next one with a PluginCallError, never hanging", async () => {
    const dying = await startPlugin();
    try {
      const client = connect(dying.address);
      const exited = once(dying.child, "exit");
      const error = await client.handleHTTP(get("/exit"), within(10_000)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PluginCallError);
      expect(error).toMatchObject({ method: "HandleHTTP", errorCode: "PLUGIN_CALL_FAILED" });
      expect((error as PluginCallError).code).not.toBe(status.DEADLINE_EXCEEDED);
      expect((await exited)[0]).toBe(3);
      expect(await client.handleHTTP(get("/a"), within(5_000)).catch((e: unknown) => e)).toMatchObject({ code: status.UNAVAILABLE, method: "HandleHTTP" });
    } finally {
      dying.child.kill("SIGKILL");
    }
  });
});
