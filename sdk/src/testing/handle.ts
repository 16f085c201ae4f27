/**
 * The handle `startTestPlugin` returns: every RPC of the plugin as the host would make it,
 * each with a deadline, and a `stop` that always finishes (Shutdown, then kill).
 */
import { InitializeRequest, type ConfigSchemaResponse, type HealthResponse, type InitializeResponse, type MetadataResponse, type CommandInfo } from "@qntx/protocol";
import { listCommands, runCommand, type CommandFlagInput, type CommandOptions, type CommandRun } from "./command.js";
import { TestPluginError } from "./errors.js";
import type { FakeHost } from "./fake-host.js";
import { sendHttp, type HttpOptions, type TestResponse } from "./http.js";
import { runTestJob, type JobOptions, type JobRun } from "./job.js";
import type { TestPluginCalls } from "./plugin-client.js";
import { openTestWebSocket, type TestWebSocket, type WebSocketOptions } from "./websocket.js";

/** Config values a test may give; sent as the host sends them (text; arrays as JSON). */
export type ConfigInput = Record<string, string | number | boolean | readonly (string | number | boolean)[]>;

/** Endpoints to send instead of the fake host's own (a test may run its own services); the fake host serves all but Ground. */
export interface ExtraEndpoints {
  schedule?: string;
  fileService?: string;
  llm?: string;
  embedding?: string;
  vectorSearch?: string;
  ground?: string;
  search?: string;
  fetch?: string;
}

/** A plugin under test. `await using plugin = await startTestPlugin(…)` stops it at the end of the scope. */
export interface TestPlugin extends AsyncDisposable {
  /** `in-process` for a definition, `process` for a file. */
  readonly mode: "in-process" | "process";
  /** `host:port` the plugin serves on. */
  readonly address: string;
  /** The plugin's name, from `Metadata`. */
  readonly name: string;
  /** The fake host the plugin was initialized against (undefined with `host: false`). */
  readonly host: FakeHost | undefined;
  /** The token the plugin was given. */
  readonly token: string;
  /** The answer of the `Initialize` made at start (undefined with `initialize: false`). */
  readonly initialized: InitializeResponse | undefined;
  /** Pid of the plugin process (undefined in process). */
  readonly pid: number | undefined;
  /** What the plugin process printed on stderr so far ("" in process). */
  stderr(): string;
  /** A request through `HandleHTTP`; `path` is relative to `/api/<name>` and may carry `?query`. */
  http(method: string, path: string, options?: HttpOptions): Promise<TestResponse>;
  /** Runs job handler `handler` (raw name or `<plugin>/<name>`) with `payload` (sent as JSON; bytes as is). */
  job(handler: string, payload?: unknown, options?: JobOptions): Promise<JobRun>;
  /** Opens a WebSocket session on `path` (default `/ws/<name>`). */
  websocket(path?: string, options?: WebSocketOptions): TestWebSocket;
  health(): Promise<HealthResponse>;
  metadata(): Promise<MetadataResponse>;
  configSchema(): Promise<ConfigSchemaResponse>;
  /** Initializes again, with `config` (default: the start's config) and the same host and token. */
  initialize(config?: ConfigInput): Promise<InitializeResponse>;
  /** The plugin's CLI commands (none when it does not implement `Commands`). */
  commands(): Promise<CommandInfo[]>;
  /** Runs a CLI command through `ExecuteCommand`. */
  command(name: string, args?: readonly string[], flags?: CommandFlagInput, options?: CommandOptions): Promise<CommandRun>;
  /** Shutdown RPC, then stops the server or kills the process group; closes a fake host it made. Idempotent. */
  stop(): Promise<void>;
}

/** What a handle needs from `startTestPlugin`. */
export interface HandleParts {
  readonly mode: "in-process" | "process";
  readonly client: TestPluginCalls;
  readonly name: string;
  readonly host: FakeHost | undefined;
  /** Close the host on stop (it was made for this plugin). */
  readonly ownsHost: boolean;
  readonly token: string;
  readonly config: ConfigInput;
  readonly endpoints: ExtraEndpoints;
  readonly timeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly pid: number | undefined;
  readonly stderr: () => string;
  /** Stops what serves the plugin; `shutdownAnswered` says whether the Shutdown RPC got through. */
  readonly halt: (shutdownAnswered: boolean) => Promise<void>;
}

/** The wire form of a config map: text, arrays as JSON (elements may hold commas). */
export function wireConfig(config: ConfigInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) out[key] = Array.isArray(value) ? JSON.stringify(value) : String(value);
  return out;
}

/** Builds the handle. `initialized` is set by `startTestPlugin` after the first Initialize. */
export function createHandle(parts: HandleParts): TestPlugin & { initialized: InitializeResponse | undefined } {
  const { client, timeoutMs } = parts;
  const sockets = new Set<() => void>();
  let stopping: Promise<void> | undefined;
  const live = (what: string): void => {
    if (stopping) throw new TestPluginError("STOPPED", `${what}: the test plugin ${parts.name} was stopped`);
  };

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const cancel of [...sockets]) cancel();
      let answered = false;
      if (!client.lifeline.isGone()) {
        try {
          await client.call("Shutdown", Math.min(parts.stopTimeoutMs, 2_000), (plugin, options) => plugin.shutdown(options));
          answered = true;
        } catch {
          // A plugin that cannot answer Shutdown is stopped the hard way below.
        }
      }
      try {
        await parts.halt(answered);
      } finally {
        client.close();
        if (parts.ownsHost) await parts.host?.close();
      }
    })());

  const handle: TestPlugin & { initialized: InitializeResponse | undefined } = {
    mode: parts.mode,
    address: client.address,
    name: parts.name,
    host: parts.host,
    token: parts.token,
    initialized: undefined,
    pid: parts.pid,
    stderr: parts.stderr,
    async http(method, path, options = {}) {
      live("http");
      return sendHttp(client, parts.name, method, path, options, options.timeoutMs ?? timeoutMs);
    },
    async job(handler, payload, options = {}) {
      live("job");
      return runTestJob(client, parts.name, parts.host, handler, payload, options, timeoutMs);
    },
    websocket(path = `/ws/${parts.name}`, options = {}) {
      live("websocket");
      return openTestWebSocket(client, path, options, timeoutMs, sockets);
    },
    async health() {
      live("health");
      return client.call("Health", timeoutMs, (plugin, options) => plugin.health(options));
    },
    async metadata() {
      live("metadata");
      return client.call("Metadata", timeoutMs, (plugin, options) => plugin.metadata(options));
    },
    async configSchema() {
      live("configSchema");
      return client.call("ConfigSchema", timeoutMs, (plugin, options) => plugin.configSchema(options));
    },
    async initialize(config = parts.config) {
      live("initialize");
      const request = InitializeRequest.fromPartial({
        atsStoreEndpoint: parts.host?.address ?? "",
        queueEndpoint: parts.host?.address ?? "",
        authToken: parts.token,
        config: wireConfig(config),
        scheduleEndpoint: parts.endpoints.schedule ?? parts.host?.address ?? "",
        fileServiceEndpoint: parts.endpoints.fileService ?? parts.host?.address ?? "",
        llmEndpoint: parts.endpoints.llm ?? parts.host?.address ?? "",
        embeddingEndpoint: parts.endpoints.embedding ?? parts.host?.address ?? "",
        vectorSearchEndpoint: parts.endpoints.vectorSearch ?? parts.host?.address ?? "",
        groundEndpoint: parts.endpoints.ground ?? "",
        searchEndpoint: parts.endpoints.search ?? parts.host?.address ?? "",
        fetchEndpoint: parts.endpoints.fetch ?? parts.host?.address ?? "",
      });
      try {
        return await client.call("Initialize", timeoutMs, (plugin, options) => plugin.initialize(request, options));
      } catch (err) {
        if (err instanceof TestPluginError && err.code === "CALL_FAILED") {
          throw new TestPluginError("INITIALIZE_FAILED", `plugin ${parts.name} refused Initialize: ${err.message.replace(/^Initialize failed: /, "")}`, { grpcCode: err.grpcCode, cause: err });
        }
        throw err;
      }
    },
    async commands() {
      live("commands");
      return listCommands(client, timeoutMs);
    },
    async command(name, args = [], flags = {}, options = {}) {
      live("command");
      return runCommand(client, name, args, flags, options, timeoutMs);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return handle;
}
