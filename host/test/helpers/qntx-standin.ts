/**
 * A QNTX-host stand-in: loads a plugin the way QNTX's host does, written only from the QNTX
 * contract of docs/protocol.md (never from this repository's host code), so a plugin that
 * works here works under a second, independent implementation of the host side of the contract.
 *
 * - spawn `<command> [args…] --port N`, N probed upward from a base port (QNTX: from 38700)
 *   in the plugin's own process group;
 * - wait up to 2 s for `QNTX_PLUGIN_PORT=<p>` on stdout, else assume N;
 * - poll `Metadata` until `name` is the expected one (5 s), a different name naming both;
 * - `Initialize` with endpoints as `host:port` (no scheme) and every config value a string;
 * - `HandleHTTP` with the `/api/<name>` prefix stripped, retried with the full path on 404;
 * - stop: `Shutdown`, then SIGTERM to the group, then SIGKILL after a bounded wait.
 *
 * The gRPC client is a plain grpc-js client over @grpc/proto-loader (keepCase: snake_case
 * fields, int64 as strings), not the generated ts-proto code the host and SDK share.
 */
import * as grpc from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { loadProtocol } from "./qntx-standin-services.js";

/** What QNTX waits for the port line before it assumes the port it passed. */
export const QNTX_PORT_LINE_MS = 2_000;
/** What QNTX polls Metadata for before it gives up. */
export const QNTX_READY_MS = 5_000;

/** Options of {@link loadUnderStandin}. */
export interface StandinLoad {
  /** The configured plugin name; Metadata must answer it. */
  readonly name: string;
  readonly command: string;
  /** Arguments before `--port N`. */
  readonly args?: readonly string[];
  /** First port probed. Tests pass a free ephemeral port (never 38700, another host's range). */
  readonly basePort: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly portLineMs?: number;
  readonly readyMs?: number;
}

/** How a stopped plugin ended: by itself after Shutdown, or by SIGTERM / SIGKILL to its group. */
export interface StopResult {
  readonly by: "shutdown" | "sigterm" | "sigkill";
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

type Callback = (error: grpc.ServiceError | null, response: any) => void;
type RawClient = grpc.Client & Record<string, (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback) => grpc.ClientUnaryCall>;

/** The first port at or above `base` that can be bound on 127.0.0.1 now (QNTX's probe). */
export async function probePort(base: number): Promise<number> {
  for (let port = base; port < Math.min(base + 1000, 65536); port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port from ${base}`);
}

/** A plugin loaded by the stand-in. */
export class StandinPlugin {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  /** The port passed with `--port`. */
  requestedPort = 0;
  /** The port dialled: announced, or the one passed when no line came in time. */
  port = 0;
  /** Whether the port line came within the budget. */
  announced = false;
  /** Resolves with the announced port whenever the line comes (never, if it does not). */
  readonly portLine: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private client: RawClient | undefined;
  private foundPort!: (port: number) => void;

  constructor(readonly name: string, readonly child: ChildProcess) {
    this.portLine = new Promise((resolve) => (this.foundPort = resolve));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      this.stdout.push(line);
      const match = /^QNTX_PLUGIN_PORT=(\d+)\s*$/.exec(line);
      if (match) this.foundPort(Number(match[1]));
    });
    createInterface({ input: child.stderr! }).on("line", (line) => this.stderr.push(line));
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Connects the client to `port`. */
  dial(port: number): void {
    this.port = port;
    const Service = loadProtocol("domain.proto").DomainPluginService!;
    this.client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as RawClient;
  }

  /** One unary call of DomainPluginService by its proto method name, with a deadline. */
  call<T = any>(method: string, request: unknown = {}, timeoutMs = 5_000): Promise<T> {
    const client = this.client;
    if (!client) return Promise.reject(new Error("not dialled"));
    return new Promise((resolve, reject) => {
      client[method]!.call(client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => (error ? reject(error) : resolve(response as T)));
    });
  }

  /** Polls Metadata until it answers; throws naming both names when it is another plugin. */
  async waitReady(budgetMs: number): Promise<any> {
    const giveUp = Date.now() + budgetMs;
    let last = "no answer";
    while (Date.now() < giveUp) {
      try {
        const metadata = await this.call("Metadata", {}, Math.max(1, Math.min(1_000, giveUp - Date.now())));
        if (metadata.name !== this.name) throw new Error(`plugin name mismatch: expected "${this.name}", the plugin says "${metadata.name}"`);
        return metadata;
      } catch (error) {
        if (!("code" in (error as object))) throw error;
        last = (error as Error).message;
        // QNTX dials a plugin that may not listen yet, and so does this stand-in: a bounded retry.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`plugin ${this.name} not ready within ${budgetMs} ms: ${last}`);
  }

  /** Initialize the QNTX way: endpoints `host:port` (""=not offered), config values strings. */
  initialize(services: { address: string; token: string }, config: Record<string, string>): Promise<any> {
    const endpoints = ["schedule", "file_service", "llm", "embedding", "vector_search", "ground", "search", "fetch"];
    return this.call("Initialize", {
      ats_store_endpoint: services.address,
      queue_endpoint: services.address,
      auth_token: services.token,
      config,
      ...Object.fromEntries(endpoints.map((e) => [`${e}_endpoint`, ""])),
    });
  }

  /** One HandleHTTP call with exactly `path`. */
  rawHttp(method: string, path: string, body: string | Buffer = "", headers: Record<string, string[]> = {}): Promise<{ status_code: number; headers: { name: string; values: string[] }[]; body: Buffer }> {
    return this.call("HandleHTTP", { method, path, headers: Object.entries(headers).map(([name, values]) => ({ name, values })), body: Buffer.from(body) });
  }

  /**
   * A browser request for `/api/<name><rest>` as QNTX serves it: the plugin gets `<rest>`
   * (`/` when empty) and, when it answers 404, the full path once more.
   */
  async http(method: string, rest: string, body: string | Buffer = "", headers: Record<string, string[]> = {}): Promise<{ status: number; headers: Record<string, string[]>; body: Buffer; text: string; fullPathUsed: boolean }> {
    const full = `/api/${this.name}${rest}`;
    let response = await this.rawHttp(method, rest === "" || rest.startsWith("?") ? `/${rest}` : rest, body, headers);
    let fullPathUsed = false;
    if (response.status_code === 404) {
      response = await this.rawHttp(method, full, body, headers);
      fullPathUsed = true;
    }
    const out: Record<string, string[]> = {};
    for (const h of response.headers) (out[h.name.toLowerCase()] ??= []).push(...h.values);
    return { status: response.status_code, headers: out, body: response.body, text: response.body.toString("utf8"), fullPathUsed };
  }

  /** ExecuteJob as QNTX's Pulse sends it: the raw handler name and `timeout_secs` set. */
  executeJob(handler: string, payload: unknown, jobId = `job-${Date.now()}`, timeoutSecs = 300): Promise<any> {
    return this.call("ExecuteJob", { job_id: jobId, handler_name: handler, payload: Buffer.from(JSON.stringify(payload)), timeout_secs: timeoutSecs }, 30_000);
  }

  /**
   * Stops it as QNTX does: Shutdown, a bounded wait for the process to exit by itself, then
   * SIGTERM to its process group and SIGKILL after another bounded wait.
   */
  async stop(graceMs = 3_000): Promise<StopResult> {
    let by: StopResult["by"] = "shutdown";
    if (!this.hasExited) await this.call("Shutdown", {}, graceMs).catch(() => undefined);
    if (!(await this.exitsWithin(graceMs))) {
      by = "sigterm";
      this.signalGroup("SIGTERM");
      if (!(await this.exitsWithin(graceMs))) {
        by = "sigkill";
        this.signalGroup("SIGKILL");
      }
    }
    const exit = await this.exited;
    // Children left in the group go too (QNTX signals the group, not only the leader).
    this.signalGroup("SIGKILL");
    this.client?.close();
    return { by, ...exit };
  }

  private exitsWithin(ms: number): Promise<boolean> {
    if (this.hasExited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // The group is empty already.
    }
  }
}

/**
 * Spawns and readies a plugin as QNTX does. Resolves once Metadata answers the expected name;
 * rejects (after killing the process) when it exits first, answers another name, or the budget runs out.
 */
export async function loadUnderStandin(load: StandinLoad): Promise<StandinPlugin> {
  const requested = await probePort(load.basePort);
  const child = spawn(load.command, [...(load.args ?? []), "--port", String(requested)], {
    env: { ...process.env, ...load.env }, stdio: ["ignore", "pipe", "pipe"], detached: true,
  });
  const plugin = new StandinPlugin(load.name, child);
  plugin.requestedPort = requested;
  child.once("error", () => undefined);
  try {
    const port = await Promise.race([
      plugin.portLine,
      new Promise<undefined>((resolve) => setTimeout(resolve, load.portLineMs ?? QNTX_PORT_LINE_MS)),
      plugin.exited.then(({ code, signal }) => {
        throw new Error(`plugin ${load.name} exited (${signal ?? code}) before it was ready; stderr: ${plugin.stderr.join("\n")}`);
      }),
    ]);
    plugin.announced = port !== undefined;
    plugin.dial(port ?? requested);
    await Promise.race([
      plugin.waitReady(load.readyMs ?? QNTX_READY_MS),
      plugin.exited.then(({ code, signal }) => {
        throw new Error(`plugin ${load.name} exited (${signal ?? code}) before it was ready; stderr: ${plugin.stderr.join("\n")}`);
      }),
    ]);
    return plugin;
  } catch (error) {
    await plugin.stop(500);
    throw error;
  }
}
