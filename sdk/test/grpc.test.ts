import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import {
  DomainPluginServiceClient,
  InitializeRequest,
  WebSocketMessage_Type,
  type ConfigSchemaResponse,
  type Empty,
  type ExecuteJobRequest,
  type ExecuteJobResponse,
  type GlyphDefResponse,
  type HealthResponse,
  type HTTPRequest,
  type HTTPResponse,
  type InitializeResponse,
  type MetadataResponse,
  type ParseAxQueryRequest,
  type ParseAxQueryResponse,
} from "@qntx/protocol";
import { definePlugin, json, startPlugin, type InitContext, type PluginHandle } from "../src/index.js";
import { bodyJson, call, dial, headerValues, wireRequest } from "./helpers.js";

const seen: { ctx?: InitContext } = {};

const plugin = definePlugin({
  metadata: { name: "grpc-test", version: "1.2.3", qntxVersion: ">=0.1.0", description: "under test", author: "me", license: "MIT" },
  configSchema: {
    greeting: { type: "string", description: "greeting word", default: "Hi" },
    retries: { type: "number", min: 0, max: 5, default: 2 },
    tags: { type: "array", elementType: "string", default: ["x", "y"] },
    strict: { type: "boolean", required: true },
  },
  initialize(ctx) {
    if (ctx.config.fail === "yes") throw new Error("config says fail");
    seen.ctx = ctx;
  },
  routes: {
    "GET /greet/:name": { handler: (req) => ({ message: `${seen.ctx?.config.greeting ?? "?"}, ${req.params.name}!` }), description: "greets" },
    "POST /cookies": () => json({}, { headers: { "set-cookie": ["a=1", "b=2"] } }),
  },
  health: () => ({ healthy: true, message: "fine", details: { uptime: 5, ok: true } }),
});

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

const empty: Empty = {};
const initRequest = (config: Record<string, string>): InitializeRequest =>
  InitializeRequest.fromPartial({ authToken: "tok", atsStoreEndpoint: "127.0.0.1:9000", queueEndpoint: "127.0.0.1:9000", config });

describe("startPlugin over real gRPC", () => {
  it("binds an ephemeral loopback port", () => {
    expect(handle.port).toBeGreaterThan(0);
    expect(handle.address).toBe(`127.0.0.1:${handle.port}`);
  });

  it("answers Metadata", async () => {
    const meta = await call<Empty, MetadataResponse>(client, client.metadata, empty);
    expect(meta).toEqual({ name: "grpc-test", version: "1.2.3", qntxVersion: ">=0.1.0", description: "under test", author: "me", license: "MIT" });
  });

  it("passes config, token and endpoints to initialize and returns the routes", async () => {
    const res = await call<InitializeRequest, InitializeResponse>(client, client.initialize, initRequest({ greeting: "Howdy", strict: "true" }));
    expect(res.httpRoutes).toEqual([
      { method: "GET", path: "/greet/:name", description: "greets" },
      { method: "POST", path: "/cookies", description: "" },
    ]);
    expect(res.handlerNames).toEqual([]);
    expect(seen.ctx?.config).toEqual({ greeting: "Howdy", strict: "true", retries: "2", tags: '["x","y"]' });
    expect(seen.ctx?.authToken).toBe("tok");
    expect(seen.ctx?.endpoints.ats).toBe("127.0.0.1:9000");
    expect(seen.ctx?.endpoints.llm).toBe("");
  });

  it("fails Initialize with INTERNAL and the hook's message", async () => {
    const err = await call(client, client.initialize, initRequest({ strict: "false", fail: "yes" })).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.INTERNAL);
    expect((err as grpc.ServiceError).details).toBe("config says fail");
  });

  it("fails Initialize with a message listing every config problem", async () => {
    const err = (await call(client, client.initialize, initRequest({ retries: "9" })).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toMatch(/retries: must be at most 5 \(got 9\)/);
    expect(err.details).toMatch(/strict: required but missing/);
    // The host's rules (@qntx/protocol config-check): booleans are true or false, arrays JSON.
    const lenient = (await call(client, client.initialize, initRequest({ strict: "1", tags: "a,b" })).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(lenient.details).toBe('invalid config: strict: must be true or false (got "1"); tags: must be an array, like ["a", "b"] (got "a,b")');
  });

  it("routes HandleHTTP, with the /api/<name> prefix and multi-value headers", async () => {
    await call(client, client.initialize, initRequest({ greeting: "Howdy", strict: "true" }));
    const res = await call<HTTPRequest, HTTPResponse>(client, client.handleHttp, wireRequest("GET", "/api/grpc-test/greet/Ada"));
    expect(res.statusCode).toBe(200);
    expect(bodyJson(res)).toEqual({ message: "Howdy, Ada!" });
    const cookies = await call<HTTPRequest, HTTPResponse>(client, client.handleHttp, wireRequest("POST", "/cookies"));
    expect(headerValues(cookies, "set-cookie")).toEqual(["a=1", "b=2"]);
    const missing = await call<HTTPRequest, HTTPResponse>(client, client.handleHttp, wireRequest("GET", "/nope"));
    expect(missing.statusCode).toBe(404);
  });

  it("answers Health with string details", async () => {
    const res = await call<Empty, HealthResponse>(client, client.health, empty);
    expect(res).toEqual({ healthy: true, message: "fine", details: { uptime: "5", ok: "true" } });
  });

  it("answers ConfigSchema with string min/max/default", async () => {
    const res = await call<Empty, ConfigSchemaResponse>(client, client.configSchema, empty);
    expect(res.fields.greeting).toEqual({
      type: "string",
      description: "greeting word",
      defaultValue: "Hi",
      required: false,
      minValue: "",
      maxValue: "",
      pattern: "",
      elementType: "",
    });
    expect(res.fields.retries).toMatchObject({ type: "number", defaultValue: "2", minValue: "0", maxValue: "5" });
    expect(res.fields.tags).toMatchObject({ type: "array", elementType: "string", defaultValue: '["x","y"]' });
    expect(res.fields.strict).toMatchObject({ type: "boolean", required: true });
  });

  it("answers ExecuteJob with an error in the body, status OK", async () => {
    const res = await call<ExecuteJobRequest, ExecuteJobResponse>(client, client.executeJob, {
      jobId: "j1",
      handlerName: "resize",
      payload: Buffer.from("{}"),
    });
    expect(res.success).toBe(false);
    expect(res.error).toBe("no job handler named resize in plugin grpc-test (has: none)");
    expect(res.pluginVersion).toBe("1.2.3");
  });

  it("answers RegisterGlyphs with no glyphs and ParseAxQuery with an error", async () => {
    const glyphs = await call<Empty, GlyphDefResponse>(client, client.registerGlyphs, empty);
    expect(glyphs.glyphs).toEqual([]);
    const ax = await call<ParseAxQueryRequest, ParseAxQueryResponse>(client, client.parseAxQuery, { query: "x" });
    expect(ax.error).toBe("ParseAxQuery is not supported by this plugin");
  });

  it("ends HandleWebSocket with UNIMPLEMENTED", async () => {
    const stream = client.handleWebSocket();
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      stream.on("data", () => undefined);
      stream.on("error", () => undefined);
      stream.on("status", resolve);
      stream.write({ type: WebSocketMessage_Type.CONNECT, data: Buffer.alloc(0), headers: {}, timestamp: 0 });
    });
    expect(status.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});

describe("Shutdown RPC in process", () => {
  it("answers, runs the shutdown hook once and stops the server", async () => {
    let hookRuns = 0;
    const own = await startPlugin(
      { metadata: { name: "short-lived", version: "0.0.1" }, shutdown: () => void hookRuns++ },
      { port: 0 },
    );
    const c = dial(own.address);
    try {
      await call<Empty, Empty>(c, c.shutdown, empty);
      await own.closed;
      await own.close(); // idempotent: the hook does not run again
      expect(hookRuns).toBe(1);
      // The server is gone: a new call fails fast instead of being answered.
      const err = await call<Empty, MetadataResponse>(c, c.metadata, empty, 2_000).catch((e: grpc.ServiceError) => e);
      expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      c.close();
      await own.close({ force: true });
    }
  });

  it("defaults Health to healthy when there is no hook", async () => {
    const own = await startPlugin({ metadata: { name: "bare", version: "0.0.1" } });
    const c = dial(own.address);
    try {
      expect(await call<Empty, HealthResponse>(c, c.health, empty)).toEqual({ healthy: true, message: "", details: {} });
    } finally {
      c.close();
      await own.close({ force: true });
    }
  });

  it("reports a throwing health hook as unhealthy", async () => {
    const own = await startPlugin({
      metadata: { name: "sick", version: "0.0.1" },
      health: () => {
        throw new Error("db down");
      },
    });
    const c = dial(own.address);
    try {
      const res = await call<Empty, HealthResponse>(c, c.health, empty);
      expect(res.healthy).toBe(false);
      expect(res.message).toMatch(/db down/);
    } finally {
      c.close();
      await own.close({ force: true });
    }
  });
});
