import { afterEach, describe, expect, it } from "@jest/globals";
import { createLogger, parsePluginArgs, startPlugin, type PluginHandle } from "../src/index.js";
import { occupyPort } from "./helpers.js";

describe("parsePluginArgs", () => {
  it("reads --port in both forms and --grpc-port as an alias", () => {
    expect(parsePluginArgs(["--port", "38700"])).toEqual({ port: 38700 });
    expect(parsePluginArgs(["--port=38701"])).toEqual({ port: 38701 });
    expect(parsePluginArgs(["--grpc-port", "38702"])).toEqual({ port: 38702 });
    expect(parsePluginArgs(["--grpc-port=0"])).toEqual({ port: 0 });
  });

  it("reads --address, IPv6 included, and lets --port win over its port", () => {
    expect(parsePluginArgs(["--address", "0.0.0.0:9000"])).toEqual({ host: "0.0.0.0", port: 9000 });
    expect(parsePluginArgs(["--address=[::1]:9001"])).toEqual({ host: "::1", port: 9001 });
    expect(parsePluginArgs(["--port", "5", "--address", "localhost:9002"])).toEqual({ host: "localhost", port: 5 });
  });

  it("ignores unknown arguments and returns nothing when no flag is given", () => {
    expect(parsePluginArgs(["--plugin-path", "p.ts", "--verbose"])).toEqual({});
    expect(parsePluginArgs([])).toEqual({});
  });

  it("names the flag in errors", () => {
    expect(() => parsePluginArgs(["--port"])).toThrow(/--port: expected a port number from 0 to 65535, got nothing/);
    expect(() => parsePluginArgs(["--port", "70000"])).toThrow(/"70000"/);
    expect(() => parsePluginArgs(["--grpc-port=x"])).toThrow(/--grpc-port/);
    expect(() => parsePluginArgs(["--address", "nocolon"])).toThrow(/--address: expected host:port/);
  });
});

describe("startPlugin port probing", () => {
  const handles: PluginHandle[] = [];
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close({ force: true });
  });

  it("moves to the next port when the first is busy", async () => {
    const busy = await occupyPort();
    try {
      const handle = await startPlugin({ metadata: { name: "probe", version: "1" } }, { port: busy.port });
      handles.push(handle);
      expect(handle.port).toBeGreaterThan(busy.port);
    } finally {
      await busy.close();
    }
  });

  it("fails with a clear message when every port of the span is busy", async () => {
    // Two adjacent busy ports: take an OS-assigned one, then try its neighbour.
    let pair: Array<{ port: number; close(): Promise<void> }> = [];
    for (let attempt = 0; attempt < 20 && pair.length < 2; attempt++) {
      const first = await occupyPort();
      const second = await occupyPort(first.port + 1).catch(() => undefined);
      if (second) pair = [first, second];
      else await first.close();
    }
    expect(pair).toHaveLength(2);
    try {
      await expect(startPlugin({ metadata: { name: "probe", version: "1" } }, { port: pair[0]!.port, probeSpan: 2 })).rejects.toThrow(
        `could not listen on 127.0.0.1: ports ${pair[0]!.port}–${pair[0]!.port + 1} are all in use`,
      );
    } finally {
      for (const p of pair) await p.close();
    }
  });
});

describe("logger", () => {
  it("writes one JSON line per call with level, msg, time and fields", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (line) => lines.push(line), fields: { plugin: "p" } });
    log.debug("hidden");
    log.info("hello", { n: 1 });
    log.child({ req: "r1" }).warn("careful", { level: "error" });
    log.error("failed", { err: new Error("boom") });
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed).toHaveLength(3);
    expect(parsed[0]).toMatchObject({ level: "info", msg: "hello", plugin: "p", n: 1 });
    expect(typeof parsed[0]!.time).toBe("string");
    expect(parsed[1]).toMatchObject({ level: "warn", msg: "careful", plugin: "p", req: "r1" });
    expect(parsed[2]).toMatchObject({ level: "error", err: { name: "Error", message: "boom" } });
  });

  it("survives circular fields", () => {
    const lines: string[] = [];
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    createLogger({ level: "info", write: (line) => lines.push(line) }).info("x", { circular });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", msg: "x" });
  });
});
