/**
 * The CLI's client of a running host's control API. It finds the host through `host.json`
 * in the data dir (or `--host <url>` / `QNTX_HOST`), sends the admin token from the data
 * dir, and turns "nothing is listening" into a HOST_NOT_RUNNING error that says how to
 * start a host.
 */
import { readFileSync } from "node:fs";
import { QntxError } from "@qntx/protocol";
import { dataDirFiles, readHostFile } from "../data-dir.js";

/** Where to find the host. */
export interface HostLocation {
  readonly dataDir: string;
  /** Explicit base URL (`--host`); wins over host.json. */
  readonly url?: string;
}

const START_HINT = "start one with `qntx server` (or `pnpm start` in the qntx repository)";

/** A small typed client of the control API. */
export class ControlClient {
  private constructor(readonly url: string, private readonly token: string | undefined) {}

  /** Locates the host; throws HOST_NOT_RUNNING when no host.json and no URL is known. */
  static locate(location: HostLocation): ControlClient {
    const url = location.url ?? process.env.QNTX_HOST ?? readHostFile(location.dataDir)?.url;
    if (!url) {
      throw new QntxError("HOST_NOT_RUNNING", `no qntx host is running (no ${dataDirFiles(location.dataDir).hostFile})`, { hint: START_HINT });
    }
    let token: string | undefined;
    try {
      token = readFileSync(dataDirFiles(location.dataDir).adminToken, "utf8").trim();
    } catch {
      token = process.env.QNTX_ADMIN_TOKEN;
    }
    return new ControlClient(url.replace(/\/$/, ""), token);
  }

  /** GET a JSON document (with the admin token when there is one). */
  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** POST (with the admin token) and return the JSON answer. */
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  /**
   * Reads a server-sent event stream (sending the admin token when there is one), calling
   * `onEvent` with each event's parsed JSON data, until the server ends it (or `onEvent`
   * returns true).
   */
  async events(path: string, onEvent: (event: string, data: unknown) => boolean | void): Promise<void> {
    let response: Response;
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (this.token) headers.authorization = `Bearer ${this.token}`;
      response = await fetch(`${this.url}${path}`, { headers });
    } catch (error) {
      throw new QntxError("HOST_NOT_RUNNING", `no qntx host is answering at ${this.url} (${causeOf(error)})`, { hint: START_HINT, cause: error });
    }
    if (!response.ok || !response.body) {
      const err = (await response.json().catch(() => ({}))) as { error?: string; hint?: string };
      throw new QntxError(codeOf(response.status), err.error ?? `GET ${path} answered ${response.status}`, { hint: err.hint });
    }
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let end = buffered.indexOf("\n\n"); end !== -1; end = buffered.indexOf("\n\n")) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (data.length && onEvent(event, JSON.parse(data.join("\n")))) return;
      }
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new QntxError("HOST_NOT_RUNNING", `no qntx host is answering at ${this.url} (${causeOf(error)})`, { hint: START_HINT, cause: error });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { error: text };
    }
    if (!response.ok) {
      const err = parsed as { error?: string; hint?: string; code?: string };
      throw new QntxError(codeOf(response.status), err.error ?? `${method} ${path} answered ${response.status}`, { hint: err.hint });
    }
    return parsed as T;
  }
}

/** The error code of an HTTP error status of the control API. */
function codeOf(status: number): "UNAUTHORIZED" | "PLUGIN_NOT_FOUND" | "INVALID_ARGUMENT" | "PLUGIN_UNAVAILABLE" {
  return status === 401 ? "UNAUTHORIZED" : status === 404 ? "PLUGIN_NOT_FOUND" : status === 400 ? "INVALID_ARGUMENT" : "PLUGIN_UNAVAILABLE";
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
