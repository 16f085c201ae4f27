/**
 * `clock`: the example built-in plugin. It runs inside the host process and implements
 * DomainPlugin directly — no gRPC — yet the registry, the gateway and the CLI treat it
 * exactly like an external plugin. Routes: `GET /hello`, `POST /echo`, `GET /now`; job
 * handler `now` (enqueue `clock/now`), registered with Pulse the same way as external ones;
 * a WebSocket at `/ws/clock` that answers DATA `now` with the time and echoes other DATA;
 * CLI command `qntx clock now [--unix]`, listed and run like an external plugin's.
 */
import { status } from "@grpc/grpc-js";
import { WebSocketMessage_Type, type CommandInfo, type CommandsResponse, type ExecuteCommandRequest, type ExecuteCommandResponse, type ExecuteJobRequest, type ExecuteJobResponse, type HTTPRequest, type HTTPResponse, type HealthResponse, type InitializeRequest, type InitializeResponse, type MetadataResponse } from "@qntx/protocol";
import { PluginCallError, type CallOptions, type DomainPlugin, type WebSocketChannel, type WebSocketOpen } from "../plugin/domain-plugin.js";
import { HOST_VERSION } from "../version.js";

const ROUTES = [
  { method: "GET", path: "/hello", description: "greets ?name= (default world)" },
  { method: "POST", path: "/echo", description: "answers the JSON body it was sent" },
  { method: "GET", path: "/now", description: "the host's clock, ISO 8601 and unix ms" },
];

const COMMANDS: CommandInfo[] = [
  {
    name: "now",
    description: "prints the host's time (ISO 8601)",
    usage: "[--unix]",
    flags: [{ name: "unix", description: "unix milliseconds instead", takesValue: false, defaultValue: "", short: "u" }],
    readsStdin: false,
  },
];

/** `clock now [--unix]`, with the same usage errors (exit 2) as an SDK plugin's commands. */
function runCommand(request: ExecuteCommandRequest): ExecuteCommandResponse {
  const answer = (stdout: string, stderr: string, exitCode: number): ExecuteCommandResponse => ({ stdout: Buffer.from(stdout), stderr: Buffer.from(stderr), exitCode });
  if (request.command !== "now") return answer("", `usage error: unknown command ${JSON.stringify(request.command)} of plugin clock (commands: now)\n`, 2);
  const unknown = Object.keys(request.flags).find((flag) => flag !== "unix" && flag !== "u");
  if (unknown !== undefined) return answer("", `usage error: now: unknown flag --${unknown} (flags: --unix)\n`, 2);
  if (request.args.length > 0) return answer("", `usage error: now takes no arguments (got ${request.args.length})\n`, 2);
  const value = request.flags.unix ?? request.flags.u;
  const now = Date.now();
  return answer(`${value !== undefined && value !== "false" ? now : new Date(now).toISOString()}\n`, "", 0);
}

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
    handleWebSocket(open: WebSocketOpen): WebSocketChannel {
      let ended = false;
      return {
        send(frame) {
          if (ended) return true;
          const text = frame.data.toString("utf8");
          if (frame.type === WebSocketMessage_Type.DATA) {
            const data = text.trim() === "now" ? Buffer.from(new Date().toISOString()) : frame.data;
            open.onFrame({ type: WebSocketMessage_Type.DATA, data, headers: {}, timestamp: frame.timestamp });
          } else if (frame.type === WebSocketMessage_Type.PING) {
            open.onFrame({ type: WebSocketMessage_Type.PONG, data: Buffer.alloc(0), headers: {}, timestamp: frame.timestamp });
          } else if (frame.type === WebSocketMessage_Type.CLOSE) {
            ended = true;
            open.onEnd();
          }
          return true;
        },
        end() {
          if (!ended) open.onEnd();
          ended = true;
        },
      };
    },
    async commands(): Promise<CommandsResponse> {
      return { commands: COMMANDS.map((c) => ({ ...c, flags: c.flags.map((f) => ({ ...f })) })) };
    },
    async executeCommand(request: ExecuteCommandRequest): Promise<ExecuteCommandResponse> {
      return runCommand(request);
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
