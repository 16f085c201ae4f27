/**
 * The process contract (docs/protocol.md §2) with a real plugin process: flags, port probing,
 * the stdout port line, Shutdown RPC and signals, exit codes.
 */
import { afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { PORT_PROBE_SPAN, type Empty, type HTTPRequest, type HTTPResponse, type MetadataResponse } from "@qntx/protocol";
import { killSpawned, spawnPluginProcess, type PluginProcess } from "./fixtures/plugin-process.js";
import { bodyJson, call, dial, occupyPort, wireRequest } from "./helpers.js";

const fixture = fileURLToPath(new URL("./fixtures/plugin.mjs", import.meta.url));
const sdkDist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/** Spawns the fixture plugin with `args`. */
const start = (args: string[]): PluginProcess => spawnPluginProcess(fixture, args);

beforeAll(() => {
  if (!existsSync(sdkDist)) throw new Error(`${sdkDist} is missing: run \`pnpm --filter @qntx/sdk build\` first`);
});

afterEach(() => {
  // A failed test must not leave a plugin running (it would hold a port and the jest worker).
  killSpawned();
});

describe("plugin process", () => {
  it("skips a busy --port, announces the port it bound, serves there and exits 0 on Shutdown", async () => {
    const busy = await occupyPort();
    try {
      const plugin = start(["--port", String(busy.port)]);
      const port = await plugin.port;
      expect(port).toBeGreaterThan(busy.port);
      expect(port).toBeLessThan(busy.port + PORT_PROBE_SPAN);

      const client = dial(`127.0.0.1:${port}`);
      try {
        const meta = await call<Empty, MetadataResponse>(client, client.metadata, {});
        expect(meta.name).toBe("fixture");
        const res = await call<HTTPRequest, HTTPResponse>(client, client.handleHttp, wireRequest("GET", "/api/fixture/ping"));
        expect(bodyJson(res)).toEqual({ pong: true, pid: plugin.child.pid });
        await call<Empty, Empty>(client, client.shutdown, {});
      } finally {
        client.close();
      }
      expect(await plugin.exit).toEqual({ code: 0, signal: null });
      expect(plugin.stderr()).toContain("fixture: shutdown hook ran");
      // stdout carries the port line and nothing else: logs go to stderr.
      expect(plugin.stdoutLines).toEqual([`QNTX_PLUGIN_PORT=${port}`]);
    } finally {
      await busy.close();
    }
  });

  it("runs the shutdown hook and exits 0 on SIGTERM", async () => {
    const plugin = start(["--port=0"]);
    await plugin.port;
    plugin.child.kill("SIGTERM");
    expect(await plugin.exit).toEqual({ code: 0, signal: null });
    expect(plugin.stderr()).toContain("fixture: shutdown hook ran");
    const lines = plugin.stderr().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", msg: "stopping on signal" }));
  });

  it("exits 0 on SIGINT", async () => {
    const plugin = start([]);
    await plugin.port;
    plugin.child.kill("SIGINT");
    expect(await plugin.exit).toEqual({ code: 0, signal: null });
  });

  it("accepts --grpc-port (QNTX's TypeScript runtime flag) and unknown extra arguments", async () => {
    const free = await occupyPort();
    await free.close();
    const plugin = start(["--plugin-path", "x.ts", "--grpc-port", String(free.port)]);
    const port = await plugin.port;
    // Free a moment ago; if another test took it since, probing moves up.
    expect(port).toBeGreaterThanOrEqual(free.port);
    const client = dial(`127.0.0.1:${port}`);
    try {
      expect((await call<Empty, MetadataResponse>(client, client.metadata, {})).name).toBe("fixture");
    } finally {
      client.close();
    }
    plugin.child.kill("SIGTERM");
    expect((await plugin.exit).code).toBe(0);
  });

  it("binds the host of --address", async () => {
    const plugin = start(["--address", "127.0.0.1:0"]);
    const port = await plugin.port;
    const client = dial(`127.0.0.1:${port}`);
    try {
      expect((await call<Empty, MetadataResponse>(client, client.metadata, {})).name).toBe("fixture");
    } finally {
      client.close();
    }
    plugin.child.kill("SIGTERM");
    expect((await plugin.exit).code).toBe(0);
  });

  it("exits 2 with a clear message on a malformed --port", async () => {
    const plugin = start(["--port", "eighty"]);
    await expect(plugin.port).rejects.toThrow(/before its port line/);
    expect((await plugin.exit).code).toBe(2);
    expect(plugin.stderr()).toMatch(/--port: expected a port number/);
  });

  it("is still serving after a Metadata call times out on the client side", async () => {
    // Guards against a plugin that dies when a caller goes away mid-call.
    const plugin = start([]);
    const port = await plugin.port;
    const client = dial(`127.0.0.1:${port}`);
    try {
      const err = await call<Empty, MetadataResponse>(client, client.metadata, {}, -1).catch((e: grpc.ServiceError) => e);
      expect((err as grpc.ServiceError).code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect((await call<Empty, MetadataResponse>(client, client.metadata, {})).name).toBe("fixture");
    } finally {
      client.close();
    }
    plugin.child.kill("SIGTERM");
    expect((await plugin.exit).code).toBe(0);
  });
});
