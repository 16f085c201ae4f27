/**
 * `startTestPlugin`: runs a plugin for a test — in this process (a `definePlugin` result) or
 * as a process (a path) — and initializes it against a fake host, as the qntx host would.
 */
import { randomBytes } from "node:crypto";
import type { PluginDefinition } from "../define.js";
import type { PluginDef } from "../types.js";
import { outputTail, TestPluginError } from "./errors.js";
import { createFakeHost, type FakeHost } from "./fake-host.js";
import { createHandle, type ConfigInput, type ExtraEndpoints, type TestPlugin } from "./handle.js";
import { serveInProcess } from "./in-process-plugin.js";
import { IN_PROCESS_LIFELINE, TestPluginCalls } from "./plugin-client.js";
import { spawnPluginProcess, type ProcessOptions } from "./process-plugin.js";

/** Options of {@link startTestPlugin}. The process options apply to a plugin given as a path. */
export interface TestPluginOptions extends ProcessOptions {
  /** Config sent with `Initialize`. Default `{}` (the plugin's schema defaults apply). */
  config?: ConfigInput;
  /**
   * The fake host to initialize against: one you made with `createFakeHost` (shared by several
   * plugins, kept open on stop), `false` for none (empty endpoints, as a host offering no
   * services), or omitted for a new one, closed on stop.
   */
  host?: FakeHost | false;
  /** Send `Initialize` at start. Default true. */
  initialize?: boolean;
  /** Name the plugin must answer in `Metadata` (the host's readiness check). Default: any. */
  name?: string;
  /** Endpoints of other host services, sent in `Initialize`. */
  endpoints?: ExtraEndpoints;
  /** Deadline of each call (HTTP, job, health…), overridable per call. Default 10 000 ms. */
  timeoutMs?: number;
  /** Bound on stopping: Shutdown, then kill. Default 5000 ms. */
  stopTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;

/**
 * Starts `plugin` and resolves with a handle once it answers `Metadata` and (unless
 * `initialize: false`) has accepted `Initialize`. A plugin that fails to start fails here with
 * a {@link TestPluginError} saying why; nothing is left running.
 *
 * @example
 * await using plugin = await startTestPlugin(myPlugin, { config: { greeting: "Hi" } });
 * const res = await plugin.http("GET", "/hello?name=ada");
 * expect(res.json()).toEqual({ message: "Hi, ada!" });
 */
export async function startTestPlugin(plugin: PluginDefinition | PluginDef | string, options: TestPluginOptions = {}): Promise<TestPlugin> {
  if (typeof plugin !== "string" && (typeof plugin !== "object" || plugin === null)) {
    throw new TypeError("startTestPlugin: expected a definePlugin(...) result or the path of a plugin file");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };

  let stderr = (): string => "";
  try {
    let client: TestPluginCalls;
    let halt: (answered: boolean) => Promise<void>;
    let pid: number | undefined;
    if (typeof plugin === "string") {
      const proc = await spawnPluginProcess(plugin, options);
      cleanups.push(() => proc.kill(1_000));
      client = new TestPluginCalls(`127.0.0.1:${proc.port}`, proc.lifeline);
      pid = proc.pid;
      stderr = proc.stderr;
      halt = async (answered) => {
        // After a Shutdown that got through, the plugin exits by itself; give it the time.
        if (answered) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([proc.exited(), new Promise((resolve) => (timer = setTimeout(resolve, stopTimeoutMs)))]);
          clearTimeout(timer);
        }
        await proc.kill(1_000);
      };
    } else {
      const served = await serveInProcess(plugin as PluginDefinition | PluginDef, stopTimeoutMs);
      cleanups.push(() => served.handle.close({ force: true }));
      client = new TestPluginCalls(served.handle.address, IN_PROCESS_LIFELINE);
      halt = (answered) => served.stop(answered ? stopTimeoutMs : 0);
    }
    cleanups.push(async () => client.close());

    const metadata = await client.call("Metadata", timeoutMs, (plugin, options) => plugin.metadata(options));
    if (options.name !== undefined && metadata.name !== options.name) {
      throw new TestPluginError("WRONG_NAME", `the plugin answers Metadata with name "${metadata.name}", expected "${options.name}"`);
    }

    let host: FakeHost | undefined;
    let ownsHost = false;
    if (options.host === undefined) {
      host = await createFakeHost();
      ownsHost = true;
      cleanups.push(() => host!.close());
    } else if (options.host !== false) {
      host = options.host;
    }
    // Each plugin gets its own token, as the host gives it: what it writes is stamped with its name.
    const token = host ? host.issueToken(metadata.name || "plugin") : randomBytes(18).toString("base64url");

    const handle = createHandle({
      mode: typeof plugin === "string" ? "process" : "in-process",
      client,
      name: metadata.name,
      host,
      ownsHost,
      token,
      config: options.config ?? {},
      endpoints: options.endpoints ?? {},
      timeoutMs,
      stopTimeoutMs,
      pid,
      stderr,
      halt,
    });
    if (options.initialize !== false) handle.initialized = await handle.initialize();
    return handle;
  } catch (err) {
    await cleanup();
    const lines = stderr().split("\n").filter(Boolean).slice(-20);
    if (err instanceof TestPluginError && lines.length > 0 && !err.message.includes("last stderr lines:")) {
      // The process's own words are the best clue to why it failed a call at start.
      throw new TestPluginError(err.code, err.message + outputTail(lines), { grpcCode: err.grpcCode, cause: err });
    }
    throw err;
  }
}
