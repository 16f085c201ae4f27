/**
 * The HTTP gateway end to end: a spawned SDK plugin (examples/hello), the built-in `clock`
 * and the fake fixture, all real, behind a real host on an ephemeral port.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect } from "node:net";
import { HELLO_PLUGIN, fakePluginTable, http, startTestHost, until, type TestHost } from "./harness.js";

let t: TestHost;

beforeAll(async () => {
  t = await startTestHost(
    `[plugins.hello]\nbinary = ${JSON.stringify(HELLO_PLUGIN)}\nconfig = { greeting = "Howdy" }\n\n` +
      `[plugins.clock]\nbuiltin = "clock"\nconfig = { greeting = "Howdy" }\n\n` +
      fakePluginTable("fake", "ok") +
      fakePluginTable("legacy", "full-path-only"),
    { request_timeout_ms: 1500, max_body_bytes: 1024 },
  );
});

afterAll(async () => {
  await t?.close();
});

describe("proxy to a spawned SDK plugin", () => {
  it("serves /api/hello/hello with the plugin's config", async () => {
    const res = await http(`${t.url}/api/hello/hello?name=qntx`);
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ message: "Howdy, qntx!" });
  });

  it("posts JSON bodies through", async () => {
    const res = await http(`${t.url}/api/hello/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ a: [1, 2] }) });
    expect(res.status).toBe(200);
    expect(res.json().echo).toEqual({ a: [1, 2] });
  });
});

describe("wire behaviour", () => {
  it("strips /api/<name> and keeps the query", async () => {
    expect((await http(`${t.url}/api/fake/path?x=1&y=%20`)).json()).toEqual({ path: "/path?x=1&y=%20" });
    expect((await http(`${t.url}/api/fake`)).json()).toEqual({ path: "/" });
  });

  it("keeps several Set-Cookie headers from the plugin", async () => {
    const res = await http(`${t.url}/api/fake/cookies`);
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
  });

  it("forwards request headers, repeated ones with every value", async () => {
    const headers = new Headers();
    headers.append("x-multi", "one");
    headers.append("x-multi", "two");
    headers.set("x-single", "yes");
    const seen = (await http(`${t.url}/api/fake/headers`, { headers })).json();
    expect(seen["x-single"]).toEqual(["yes"]);
    expect(seen["x-multi"].join(",")).toContain("one");
    expect(seen["x-multi"].join(",")).toContain("two");
    expect(seen.connection).toBeUndefined();
  });

  it("keeps every value of a repeated header among many (raw request, 40 headers)", async () => {
    const { port } = new URL(t.url);
    const socket = connect({ host: "127.0.0.1", port: Number(port) });
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const many = Array.from({ length: 40 }, (_, i) => `x-h${i}: v${i}\r\n`).join("");
    // One value before the grouping switches to a map, one after, one differently cased.
    socket.write(`GET /api/fake/headers HTTP/1.1\r\nHost: x\r\nX-Rep: a\r\n${many}x-rep: b\r\nX-REP: c\r\nConnection: close\r\n\r\n`);
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    await new Promise((resolve) => socket.once("close", resolve));
    const seen = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as Record<string, string[]>;
    expect(seen["x-rep"]).toEqual(["a", "b", "c"]);
    for (let i = 0; i < 40; i++) expect(seen[`x-h${i}`]).toEqual([`v${i}`]);
    expect(seen.connection).toBeUndefined();
  });

  it("passes the plugin's status through", async () => {
    expect((await http(`${t.url}/api/fake/status/418`)).status).toBe(418);
  });

  it("answers 502 for a status that is not a final HTTP status, and keeps serving", async () => {
    for (const status of [42, 101, 700]) {
      const res = await http(`${t.url}/api/fake/any-status/${status}`);
      expect(res.status).toBe(502);
      expect(res.json().error).toBe(`plugin fake answered an invalid HTTP status ${status}`);
    }
    expect((await http(`${t.url}/api/fake/ping`)).text).toBe("pong");
  });

  it("answers 502 for a plugin header that cannot be sent, never splitting the response", async () => {
    const res = await http(`${t.url}/api/fake/bad-header`);
    expect(res.status).toBe(502);
    expect(res.json().error).toContain("plugin fake answered a header that cannot be sent");
    expect(res.headers.get("injected")).toBeNull();
    expect((await http(`${t.url}/api/fake/ping`)).text).toBe("pong");
  });

  it("sends a 204 without a body or Content-Length, and HEAD without a body", async () => {
    const empty = await http(`${t.url}/api/fake/status/204`);
    expect(empty.status).toBe(204);
    expect(empty.headers.get("content-length")).toBeNull();
    expect(empty.text).toBe("");
    const head = await http(`${t.url}/api/hello/hello`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
  });

  it("routes a percent-encoded plugin name to that plugin with the path after it", async () => {
    const res = await http(`${t.url}/api/%66ake/path?x=1`);
    expect(res.status).toBe(200);
    expect(res.json().path).toBe("/path?x=1");
  });

  it("answers 404 for an unknown plugin and for a route the plugin does not have", async () => {
    const unknown = await http(`${t.url}/api/nope/x`);
    expect(unknown.status).toBe(404);
    expect(unknown.json().error).toContain("nope");
    expect((await http(`${t.url}/api/fake/missing`)).status).toBe(404);
  });

  it("retries a 404 with the full path, as QNTX does", async () => {
    const res = await http(`${t.url}/api/legacy/ping`);
    expect(res.status).toBe(200);
    expect(res.text).toBe("pong");
    // The plugin's root with a query is retried as QNTX sends it: no slash before the query.
    const root = await http(`${t.url}/api/legacy?x=1`);
    expect(root.json()).toEqual({ path: "/api/legacy?x=1" });
  });

  it("gives 504 when the plugin does not answer within the deadline", async () => {
    const started = Date.now();
    const res = await http(`${t.url}/api/fake/hang`);
    expect(res.status).toBe(504);
    expect(res.json().error).toContain("1500 ms");
    expect(Date.now() - started).toBeLessThan(10_000);
    // The plugin keeps serving other requests.
    expect((await http(`${t.url}/api/fake/ping`)).text).toBe("pong");
  });

  it("refuses bodies over the limit with 413 before they reach the plugin", async () => {
    const res = await http(`${t.url}/api/hello/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ big: "x".repeat(4096) }) });
    expect(res.status).toBe(413);
    // The host's error shape, as every other error: what, a stable code, and what to do.
    expect(res.json()).toEqual({ error: expect.stringContaining("too large"), code: "PAYLOAD_TOO_LARGE", hint: expect.stringContaining("max_body_bytes") });
    // A control-API body over the limit answers the same way.
    const control = await http(`${t.url}/api/attestations`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ subjects: ["x".repeat(4096)] }) });
    expect(control.status).toBe(413);
    expect(control.json().code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("built-in next to external", () => {
  it("lists both with the same fields", async () => {
    const { plugins } = (await http(`${t.url}/api/plugins`)).json();
    const byName = Object.fromEntries(plugins.map((p: { name: string }) => [p.name, p]));
    for (const name of ["hello", "clock"]) {
      expect(byName[name]).toMatchObject({ name, state: "running" });
      expect(byName[name].version).toEqual(expect.any(String));
      expect(byName[name].routes.length).toBeGreaterThan(0);
      expect(Object.keys(byName[name]).sort()).toEqual(Object.keys(byName.hello).sort());
    }
    expect(byName.hello.pid).toEqual(expect.any(Number));
    expect(byName.hello.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(byName.clock.kind).toBe("builtin");
  });

  it("serves the same routes the same way", async () => {
    for (const name of ["hello", "clock"]) {
      const hello = await http(`${t.url}/api/${name}/hello?name=x`);
      expect(hello.status).toBe(200);
      expect(hello.json().message).toBe("Howdy, x!");
      const echo = await http(`${t.url}/api/${name}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: "[1]" });
      expect(echo.json().echo).toEqual([1]);
      expect((await http(`${t.url}/api/${name}/no-such-route`)).status).toBe(404);
    }
  });

  it("lists every plugin's routes under their full paths", async () => {
    const { routes } = (await http(`${t.url}/api/plugins/routes`)).json();
    expect(routes).toEqual(expect.arrayContaining([
      expect.objectContaining({ plugin: "clock", method: "GET", path: "/api/clock/now" }),
      expect.objectContaining({ plugin: "hello", method: "POST", path: "/api/hello/echo" }),
    ]));
  });

  it("reports health of both", async () => {
    await t.host.manager.checkHealth(2000);
    const { plugins } = (await http(`${t.url}/api/plugins`)).json();
    for (const p of plugins.filter((x: { name: string }) => ["hello", "clock"].includes(x.name))) {
      expect(p.health.healthy).toBe(true);
    }
  });
});

describe("control API", () => {
  it("needs the admin token to act", async () => {
    const res = await http(`${t.url}/api/plugins/fake/stop`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(res.json().hint).toContain("admin.token");
  });

  it("stop → 503 with Retry-After, start → serves again, for built-in and external", async () => {
    const token = (await import("node:fs")).readFileSync(`${t.dir}/data/admin.token`, "utf8").trim();
    const auth = { authorization: `Bearer ${token}` };
    for (const name of ["clock", "fake"]) {
      const stopped = await http(`${t.url}/api/plugins/${name}/stop`, { method: "POST", headers: auth });
      expect(stopped.json().plugin.state).toBe("stopped");
      const down = await http(`${t.url}/api/${name}/ping`);
      expect(down.status).toBe(503);
      expect(down.headers.get("retry-after")).toBeTruthy();
      const started = await http(`${t.url}/api/plugins/${name}/start`, { method: "POST", headers: auth });
      expect(started.json().plugin.state).toBe("running");
      const restarted = await http(`${t.url}/api/plugins/${name}/restart`, { method: "POST", headers: auth });
      expect(restarted.json().plugin.state).toBe("running");
    }
    expect((await http(`${t.url}/api/fake/ping`)).text).toBe("pong");
    expect((await http(`${t.url}/api/clock/now`)).status).toBe(200);
  });

  it("names the plugin it does not know", async () => {
    const token = (await import("node:fs")).readFileSync(`${t.dir}/data/admin.token`, "utf8").trim();
    const res = await http(`${t.url}/api/plugins/ghost/start`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
    expect(res.json().error).toContain("ghost");
  });
});

describe("HTTP API errors", () => {
  it("accepts an action POST with a JSON content-type and no body", async () => {
    const token = (await import("node:fs")).readFileSync(`${t.dir}/data/admin.token`, "utf8").trim();
    const res = await http(`${t.url}/api/plugins/clock/restart`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect(res.json().plugin.state).toBe("running");
  });

  it("answers malformed JSON with 400 in the API's error shape", async () => {
    const token = (await import("node:fs")).readFileSync(`${t.dir}/data/admin.token`, "utf8").trim();
    const res = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{nope" });
    expect(res.status).toBe(400);
    expect(res.json().error).toContain("not JSON");
  });
});

describe("a client that goes away", () => {
  let slow: TestHost;
  beforeAll(async () => {
    // A deadline far beyond the test, so only the disconnect can end the plugin's call.
    slow = await startTestHost(fakePluginTable("fake", "ok"), { request_timeout_ms: 120_000 });
  });
  afterAll(async () => {
    await slow?.close();
  });

  const counts = async (): Promise<{ hanging: number; cancelled: number }> => (await http(`${slow.url}/api/fake/cancelled`)).json();

  it("cancels its calls in flight, each of them, and the plugin keeps serving", async () => {
    const { port } = new URL(slow.url);
    const socket = connect({ host: "127.0.0.1", port: Number(port) });
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    // Two pipelined requests on one keep-alive connection: both reach the plugin and hang.
    socket.write("GET /api/fake/hang HTTP/1.1\r\nHost: x\r\n\r\nGET /api/fake/hang?second HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(async () => ((await counts()).hanging === 2 ? true : undefined), "both calls hanging in the plugin");
    socket.destroy();
    const after = await until(async () => {
      const c = await counts();
      return c.hanging === 0 ? c : undefined;
    }, "the plugin's calls cancelled");
    expect(after.cancelled).toBe(2);
    expect((await http(`${slow.url}/api/fake/ping`)).text).toBe("pong");
  });
});
