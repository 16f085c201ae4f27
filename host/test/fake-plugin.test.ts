/**
 * Checks the fake-plugin fixture itself, scenario by scenario, with the protocol's PluginClient,
 * so host tests that rely on it fail for host reasons only.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { status } from "@grpc/grpc-js";
import { headerValue, parsePortLine, WebSocketMessage_Type, type WebSocketFrame } from "@qntx/protocol";
import { FAKE_PLUGIN, killFakePlugins, launchFakePlugin, spawnFakePlugin } from "./helpers/fake-plugin.js";
import { closePluginClients, grpcCode, httpRequest, initializeRequest, pluginClient, within } from "./helpers/plugin-client.js";
import { freePort } from "./helpers/ports.js";
import { once, waitFor } from "./helpers/wait.js";

const servers: Server[] = [];

afterEach(async () => {
  closePluginClients();
  await killFakePlugins();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const body = (response: { body: Buffer }): string => response.body.toString("utf8");
const json = (response: { body: Buffer }): unknown => JSON.parse(body(response));
const hasPortLine = (lines: readonly string[]): boolean => lines.some((line) => parsePortLine(line) !== undefined);

describe("fake plugin: ok", () => {
  it("answers Metadata with the name, version and qntx_version it was given", async () => {
    const plugin = await spawnFakePlugin("ok", { name: "hello", version: "2.3.4", qntxVersion: "^0.1.0" });
    const meta = await pluginClient(plugin.address).metadata(within());
    expect(meta).toMatchObject({ name: "hello", version: "2.3.4", qntxVersion: "^0.1.0" });
  });

  it("uses the documented defaults", async () => {
    const plugin = await spawnFakePlugin("ok");
    const meta = await pluginClient(plugin.address).metadata(within());
    expect(meta).toMatchObject({ name: "fake", version: "1.0.0", qntxVersion: ">=0.1.0" });
  });

  it("announces the port it was given when it is free", async () => {
    const plugin = await spawnFakePlugin("ok");
    expect(plugin.port).toBe(plugin.requestedPort);
  });

  it("probes upward when the given port is busy", async () => {
    const busy = createServer();
    servers.push(busy);
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const taken = (busy.address() as { port: number }).port;
    const plugin = await spawnFakePlugin("ok", { port: taken });
    expect(plugin.port).toBeGreaterThan(taken);
    expect(plugin.port).toBeLessThan(taken + 64);
    await expect(pluginClient(plugin.address).metadata(within())).resolves.toMatchObject({ name: "fake" });
  });

  it("announces GET /ping from Initialize and serves the config it received", async () => {
    const plugin = await spawnFakePlugin("ok");
    const client = pluginClient(plugin.address);
    const init = await client.initialize(initializeRequest({ greeting: "hi", n: "3" }), within());
    expect(init.httpRoutes).toEqual([{ method: "GET", path: "/ping", description: expect.any(String) }]);
    const config = await client.handleHTTP(httpRequest("GET", "/config"), within());
    expect(config.statusCode).toBe(200);
    expect(json(config)).toEqual({ greeting: "hi", n: "3" });
  });

  it("routes HandleHTTP", async () => {
    const plugin = await spawnFakePlugin("ok");
    const client = pluginClient(plugin.address);

    const ping = await client.handleHTTP(httpRequest("GET", "/ping"), within());
    expect([ping.statusCode, body(ping)]).toEqual([200, "pong"]);

    const headers = await client.handleHTTP(httpRequest("GET", "/headers", { headers: [{ name: "X-Test", values: ["a", "b"] }] }), within());
    expect(json(headers)).toEqual({ "x-test": ["a", "b"] });

    const cookies = await client.handleHTTP(httpRequest("GET", "/cookies"), within());
    const setCookie = cookies.headers.filter((header) => header.name.toLowerCase() === "set-cookie");
    expect(setCookie).toEqual([{ name: "Set-Cookie", values: ["a=1; Path=/", "b=2; Path=/"] }]);

    expect((await client.handleHTTP(httpRequest("GET", "/status/418"), within())).statusCode).toBe(418);
    expect(json(await client.handleHTTP(httpRequest("GET", "/path?x=1&y=%20"), within()))).toEqual({ path: "/path?x=1&y=%20" });
    expect(json(await client.handleHTTP(httpRequest("GET", "/?q=1"), within()))).toEqual({ path: "/?q=1" });
    expect((await client.handleHTTP(httpRequest("GET", "/nope"), within())).statusCode).toBe(404);

    const echo = await client.handleHTTP(httpRequest("POST", "/echo", { body: "raw body", headers: [{ name: "Content-Type", values: ["text/x-test"] }] }), within());
    expect([echo.statusCode, body(echo), headerValue(echo.headers, "content-type"), headerValue(echo.headers, "x-method")]).toEqual([
      200,
      "raw body",
      "text/x-test",
      "POST",
    ]);
  });

  it("never answers GET /hang", async () => {
    const plugin = await spawnFakePlugin("ok");
    const error = await pluginClient(plugin.address).handleHTTP(httpRequest("GET", "/hang"), within(300)).catch((e: unknown) => e);
    expect(grpcCode(error)).toBe(status.DEADLINE_EXCEEDED);
  });

  it("is healthy, runs jobs and echoes WebSocket DATA", async () => {
    const plugin = await spawnFakePlugin("ok");
    const client = pluginClient(plugin.address);
    expect(await client.health(within())).toMatchObject({ healthy: true });
    const job = await client.executeJob({ jobId: "j1", handlerName: "x", payload: Buffer.from("{}") }, within());
    expect([job.success, job.result.toString()]).toEqual([true, "{}"]);

    const stream = client.handleWebSocket({ deadline: Infinity });
    const frame = (type: WebSocketMessage_Type, data = ""): WebSocketFrame => ({ type, data: Buffer.from(data), headers: {}, timestamp: 0n });
    const received = once(stream, "data");
    stream.write(frame(WebSocketMessage_Type.CONNECT));
    stream.write(frame(WebSocketMessage_Type.DATA, "hi"));
    const [message] = (await received) as [WebSocketFrame];
    expect([message.type, message.data.toString()]).toEqual([WebSocketMessage_Type.DATA, "hi"]);
    const ended = once(stream, "end");
    stream.write(frame(WebSocketMessage_Type.CLOSE));
    await ended;
  });

  it("answers Shutdown, then exits 0", async () => {
    const plugin = await spawnFakePlugin("ok");
    await pluginClient(plugin.address).shutdown(within());
    expect(await plugin.exited).toEqual({ code: 0, signal: null });
  });

  it("exits 0 on SIGTERM", async () => {
    const plugin = await spawnFakePlugin("ok");
    plugin.child.kill("SIGTERM");
    expect(await plugin.exited).toEqual({ code: 0, signal: null });
  });

  it("takes the scenario from FAKE_SCENARIO when no --scenario is given", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [FAKE_PLUGIN, "--port", String(port)], {
      env: { ...process.env, FAKE_SCENARIO: "wrong-name" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const [chunk] = (await once(child.stdout, "data")) as [Buffer];
      const announced = parsePortLine(chunk.toString().split("\n")[0]!);
      expect(announced).toBeDefined();
      expect((await pluginClient(`127.0.0.1:${announced}`).metadata(within())).name).toBe("someone-else");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("refuses an unknown scenario with exit code 2", async () => {
    // Cast: the helper's type lists only the real scenarios.
    const proc = await launchFakePlugin("no-such-scenario" as "ok");
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr.join("\n")).toContain('unknown scenario "no-such-scenario"');
  });
});

describe("fake plugin: failure scenarios", () => {
  it("wrong-name answers Metadata with another name", async () => {
    const plugin = await spawnFakePlugin("wrong-name", { name: "hello" });
    expect((await pluginClient(plugin.address).metadata(within())).name).toBe("someone-else");
  });

  it("never-announces serves but prints no port line", async () => {
    const proc = await launchFakePlugin("never-announces");
    const client = pluginClient(`127.0.0.1:${proc.requestedPort}`);
    await waitFor(() => client.metadata(within(500)), { timeoutMs: 5_000, what: "Metadata of never-announces" });
    // Negative check over its whole life: end it, and read all it printed up to its exit.
    const closed = once(proc.child, "close");
    proc.child.kill("SIGTERM");
    await closed;
    expect(hasPortLine(proc.stdout)).toBe(false);
  });

  it("exits-early exits 3 with a stderr line and no port line", async () => {
    const proc = await launchFakePlugin("exits-early");
    expect(await proc.exited).toEqual({ code: 3, signal: null });
    await waitFor(() => proc.stderr.includes("fatal: cannot open database"), { what: "the stderr line" });
    expect(hasPortLine(proc.stdout)).toBe(false);
  });

  it("never-answers announces a port whose Metadata never answers", async () => {
    const plugin = await spawnFakePlugin("never-answers");
    const error = await pluginClient(plugin.address).metadata(within(500)).catch((e: unknown) => e);
    expect(grpcCode(error)).toBe(status.DEADLINE_EXCEEDED);
    expect(plugin.child.exitCode).toBeNull();
  });

  it("crash-after-ready answers Metadata, then exits 1 on the first HandleHTTP", async () => {
    const plugin = await spawnFakePlugin("crash-after-ready");
    const client = pluginClient(plugin.address);
    expect((await client.metadata(within())).name).toBe("fake");
    const error = await client.handleHTTP(httpRequest("GET", "/ping"), within()).catch((e: unknown) => e);
    expect(grpcCode(error)).toBeDefined();
    expect(grpcCode(error)).not.toBe(status.OK);
    expect(await plugin.exited).toEqual({ code: 1, signal: null });
  });

  it("hangs-initialize never answers Initialize but answers Metadata", async () => {
    const plugin = await spawnFakePlugin("hangs-initialize");
    const client = pluginClient(plugin.address);
    const error = await client.initialize(initializeRequest(), within(300)).catch((e: unknown) => e);
    expect(grpcCode(error)).toBe(status.DEADLINE_EXCEEDED);
    expect((await client.metadata(within())).name).toBe("fake");
  });

  it("ignores-shutdown survives Shutdown and SIGTERM, only SIGKILL stops it", async () => {
    const plugin = await spawnFakePlugin("ignores-shutdown");
    const client = pluginClient(plugin.address);
    await client.shutdown(within());
    plugin.child.kill("SIGTERM");
    await waitFor(() => plugin.stderr.includes("ignoring SIGTERM"), { what: "the SIGTERM to be seen" });
    expect((await client.health(within())).healthy).toBe(true);
    expect(plugin.child.exitCode).toBeNull();
    plugin.child.kill("SIGKILL");
    expect(await plugin.exited).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("full-path-only answers only under /api/<name>", async () => {
    const plugin = await spawnFakePlugin("full-path-only", { name: "hello" });
    const client = pluginClient(plugin.address);
    expect((await client.handleHTTP(httpRequest("GET", "/ping"), within())).statusCode).toBe(404);
    const ping = await client.handleHTTP(httpRequest("GET", "/api/hello/ping"), within());
    expect([ping.statusCode, body(ping)]).toEqual([200, "pong"]);
    expect(json(await client.handleHTTP(httpRequest("GET", "/api/hello/path?q=1"), within()))).toEqual({ path: "/api/hello/path?q=1" });
    expect((await client.handleHTTP(httpRequest("GET", "/api/other/ping"), within())).statusCode).toBe(404);
  });

  it("chatty logs plain and JSON lines on stdout and stderr around the port line", async () => {
    const plugin = await spawnFakePlugin("chatty");
    await waitFor(() => plugin.stdout.length >= 5 && plugin.stderr.length >= 6, { what: "the chatter" });
    const portIndex = plugin.stdout.findIndex((line) => parsePortLine(line) !== undefined);
    expect(portIndex).toBeGreaterThan(0);
    const jsonLevels = (lines: string[]): string[] =>
      lines.filter((line) => line.startsWith("{")).map((line) => (JSON.parse(line) as { level: string }).level);
    expect(jsonLevels(plugin.stdout)).toContain("info");
    expect(jsonLevels(plugin.stderr)).toEqual(expect.arrayContaining(["warn", "error"]));
    expect(plugin.stdout.some((line) => line.startsWith("plain"))).toBe(true);
    expect(plugin.stderr.some((line) => line.startsWith("plain"))).toBe(true);
    expect((await pluginClient(plugin.address).metadata(within())).name).toBe("fake");
  });
});
