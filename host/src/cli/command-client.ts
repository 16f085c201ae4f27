/**
 * The CLI's client for plugin commands. Unlike `ControlClient` it keeps the error bodies
 * whole (the lists of known plugins and commands) and every request has a timeout, so
 * `qntx --help` stays fast when a host is listed in host.json but does not answer.
 */
import { readFileSync } from "node:fs";
import type { CommandInfo } from "@qntx/protocol";
import { loadConfig } from "../config/index.js";
import { defaultDataDir } from "../config/paths.js";
import { dataDirFiles, readHostFile } from "../data-dir.js";

/** The global options given before the plugin name. */
export interface GlobalWords {
  config?: string;
  dataDir?: string;
  host?: string;
}

/** An answer of the host: its status and JSON body (`{}` when empty, `{error}` when not JSON). */
export interface HostAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T & { error?: string; hint?: string };
}

/**
 * `qntx --help` gives up on the listing after this: longer than the host's own per-plugin
 * deadline of the listing (2 s), so a stuck plugin shows as "not answering", not the host.
 */
export const LISTING_TIMEOUT_MS = 3_000;

/** Where the host is and the admin token to send, found as the other client commands find them. */
export class CommandClient {
  private constructor(readonly url: string, private readonly token: string | undefined) {}

  /** The host of `--host`, `$QNTX_HOST` or host.json in the data dir; undefined when none is known. */
  static locate(globals: GlobalWords): CommandClient | undefined {
    const dataDir = globals.dataDir ?? configDataDir(globals.config);
    const url = globals.host || process.env.QNTX_HOST || readHostFile(dataDir)?.url;
    if (!url) return undefined;
    let token: string | undefined;
    try {
      token = readFileSync(dataDirFiles(dataDir).adminToken, "utf8").trim();
    } catch {
      token = process.env.QNTX_ADMIN_TOKEN;
    }
    return new CommandClient(url.replace(/\/$/, ""), token);
  }

  /** Every running plugin's commands. */
  listAll(timeoutMs = LISTING_TIMEOUT_MS): Promise<HostAnswer<{ plugins?: Array<{ plugin: string; commands: CommandInfo[] }>; unavailable?: Array<{ plugin: string; error: string }> }>> {
    return this.request("GET", "/api/plugins/commands", undefined, timeoutMs);
  }

  /** One plugin's commands (404 names the plugins that have some; 503 when it is not running). */
  list(plugin: string, timeoutMs = 10_000): Promise<HostAnswer<{ commands?: CommandInfo[]; plugins?: string[] }>> {
    return this.request("GET", `/api/plugins/${encodeURIComponent(plugin)}/commands`, undefined, timeoutMs);
  }

  /** Runs a command; waits as long as the host's deadline allows. */
  run(plugin: string, command: string, body: Record<string, unknown>): Promise<HostAnswer<{ exitCode?: number; stdout?: string; stderr?: string; commands?: string[] }>> {
    return this.request("POST", `/api/plugins/${encodeURIComponent(plugin)}/commands/${encodeURIComponent(command)}`, body);
  }

  private async request<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<HostAnswer<T>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new HostUnreachable(this.url, error);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { error: text };
    }
    return { status: response.status, body: parsed as HostAnswer<T>["body"] };
  }
}

/** Nothing answered at the host's URL (not running, wrong URL, or it did not answer in time). */
export class HostUnreachable extends Error {
  constructor(readonly url: string, cause: unknown) {
    const reason = (cause as { name?: string }).name === "TimeoutError" ? "no answer in time" : causeOf(cause);
    super(`no qntx host is answering at ${url} (${reason})`, { cause });
    this.name = "HostUnreachable";
  }
}

function configDataDir(configPath: string | undefined): string {
  try {
    return loadConfig({ configPath }).host.dataDir;
  } catch {
    return defaultDataDir();
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
