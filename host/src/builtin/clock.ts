/**
 * `clock`: the example built-in plugin. It runs inside the host process and implements
 * DomainPlugin directly — no gRPC — yet the registry, the gateway and the CLI treat it
 * exactly like an external plugin. Routes: `GET /hello`, `POST /echo`, `GET /now`; job
 * handler `now` (enqueue `clock/now`), registered with Pulse the same way as external ones.
 */
import { status } from "@grpc/grpc-js";
import type { ExecuteJobRequest, ExecuteJobResponse, HTTPRequest, HTTPResponse, HealthResponse, InitializeRequest, InitializeResponse, MetadataResponse } from "@qntx/protocol";
import { PluginCallError, type CallOptions, type DomainPlugin } from "../plugin/domain-plugin.js";
import { HOST_VERSION } from "../version.js";

const ROUTES = [
  { method: "GET", path: "/hello", description: "greets ?name= (default world)" },
  { method: "POST", path: "/echo", description: "answers the JSON body it was sent" },
  { method: "GET", path: "/now", description: "the host's clock, ISO 8601 and unix ms" },
];

/** Creates a fresh `clock` plugin instance. */
export function createClockPlugin(): DomainPlugin {
  let greeting = "Hello";
  let initialized = false;
  const startedAt = Date.now();

  return {
    async metadata(): Promise<MetadataResponse> {
      return { name: "clock", version: HOST_VERSION, qntxVersion: `>=${HOST_VERSION}`, description: "Built-in example: tells the time", author: "qntx", license: "MIT" };
    },
    async initialize(request: InitializeRequest): Promise<InitializeResponse> {
      greeting = request.config.greeting ?? greeting;
      initialized = true;
      return { handlerNames: ["now"], schedules: [], llmProvider: false, watchers: [], vectorSearchProvider: false, searchProvider: false, embeddingProvider: false, httpRoutes: ROUTES, pythonProvider: false };
    },
    async handleHTTP(request: HTTPRequest, options: CallOptions): Promise<HTTPResponse> {
      if (Date.now() > options.deadline) throw new PluginCallError(status.DEADLINE_EXCEEDED, "deadline passed");
      const url = new URL(request.path, "http://plugin");
      const path = url.pathname.replace(/^\/api\/clock(?=\/|$)/, "") || "/";
      if (request.method === "GET" && path === "/hello") {
        return json(200, { message: `${greeting}, ${url.searchParams.get("name") ?? "world"}!`, from: "clock" });
      }
      if (request.method === "POST" && path === "/echo") {
        try {
          return json(200, { echo: request.body.length ? JSON.parse(request.body.toString("utf8")) : null });
        } catch (error) {
          return json(400, { error: `body is not JSON: ${(error as Error).message}` });
        }
      }
      if (request.method === "GET" && path === "/now") {
        const now = Date.now();
        return json(200, { iso: new Date(now).toISOString(), unixMs: now });
      }
      return json(404, { error: `no route for ${request.method} ${path}` });
    },
    async executeJob(request: ExecuteJobRequest): Promise<ExecuteJobResponse> {
      const base = { progressCurrent: 1, progressTotal: 1, costActual: 0, logEntries: [], pluginVersion: HOST_VERSION };
      if (request.handlerName !== "now") {
        return { ...base, success: false, error: `no job handler named ${request.handlerName} in plugin clock (has: now)`, result: Buffer.alloc(0), progressCurrent: 0 };
      }
      const now = Date.now();
      return { ...base, success: true, error: "", result: Buffer.from(JSON.stringify({ iso: new Date(now).toISOString(), unixMs: now })) };
    },
    async health(): Promise<HealthResponse> {
      return { healthy: initialized, message: initialized ? "ok" : "not initialized", details: { uptime_ms: String(Date.now() - startedAt) } };
    },
    async shutdown(): Promise<void> {
      initialized = false;
    },
  };
}

function json(statusCode: number, value: unknown): HTTPResponse {
  return { statusCode, headers: [{ name: "content-type", values: ["application/json; charset=utf-8"] }], body: Buffer.from(JSON.stringify(value)) };
}
