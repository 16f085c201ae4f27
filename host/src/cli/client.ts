/**
 * The CLI's client of a running host's control API. It finds the host through `host.json`
 * in the data dir (or `--host <url>` / `QNTX_HOST`), sends the admin token from the data
 * dir, and turns "nothing is listening" (or no answer within a request's timeout) into a
 * HOST_NOT_RUNNING error that says how to start a host. `get`/`post` throw on an error
 * status; `send` hands back the status and the whole error body, which plugin commands show
 * (the lists of known plugins and commands).
 */
import { readFileSync } from "node:fs";
import { createParser } from "eventsource-parser";
import { ERROR_CATALOGUE, QntxError, isQntxErrorCode, type CommandInfo, type QntxErrorCode } from "@qntx/protocol";
import { dataDirFiles, readHostFile } from "../data-dir.js";
import { pinnedFetch } from "./pinned-fetch.js";

/** Where to find the host. */
export interface HostLocation {
  readonly dataDir: string;
  /** Explicit base URL (`--host`); wins over host.json. */
  readonly url?: string;
}

/** How to start a host, the hint of every HOST_NOT_RUNNING error. */
export const START_HINT: string = ERROR_CATALOGUE.HOST_NOT_RUNNING.hint;

/** An answer of the host: its status and JSON body (`{}` when empty, `{error}` when not JSON). */
export interface HostAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T & { error?: string; code?: string; hint?: string };
}

/**
 * `qntx --help` gives up on the plugin command listing after this: longer than the host's own
 * per-plugin deadline of the listing (2 s), so a stuck plugin shows as "not answering", not
 * the host.
 */
export const LISTING_TIMEOUT_MS = 3_000;

/** A small typed client of the control API. */
export class ControlClient {
  private constructor(readonly url: string, private readonly token: string | undefined, private readonly fetch: typeof globalThis.fetch = globalThis.fetch) {}

  /** Locates the host; throws HOST_NOT_RUNNING when no host.json and no URL is known. */
  static locate(location: HostLocation): ControlClient {
    const client = ControlClient.find(location);
    if (!client) {
      throw new QntxError("HOST_NOT_RUNNING", `no qntx host is running (no ${dataDirFiles(location.dataDir).hostFile})`, { hint: START_HINT });
    }
    return client;
  }

  /** The host of `--host`, `$QNTX_HOST` or host.json (an empty value counts as unset); undefined when none is known. */
  static find(location: HostLocation): ControlClient | undefined {
    const hostFile = readHostFile(location.dataDir);
    const url = location.url || process.env.QNTX_HOST || hostFile?.url;
    if (!url) return undefined;
    // An HTTPS host with its own certificate: trust exactly the one it named in host.json (when
    // the URL is that host's), or the file in QNTX_HOST_CA.
    const caFile = process.env.QNTX_HOST_CA || (hostFile?.tlsCa && url.replace(/\/$/, "") === hostFile.url ? hostFile.tlsCa : undefined);
    let fetcher: typeof globalThis.fetch | undefined;
    if (caFile && url.startsWith("https:")) {
      try {
        fetcher = pinnedFetch(readFileSync(caFile));
      } catch (error) {
        throw new QntxError("HOST_NOT_RUNNING", `cannot read the certificate to trust for ${url}: ${caFile} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
          hint: "host.json names it from [host] tls (ca, else cert); QNTX_HOST_CA overrides it",
        });
      }
    }
    let token: string | undefined;
    try {
      token = readFileSync(dataDirFiles(location.dataDir).adminToken, "utf8").trim();
    } catch {
      token = process.env.QNTX_ADMIN_TOKEN;
    }
    return new ControlClient(url.replace(/\/$/, ""), token, fetcher);
  }

  /** GET a JSON document (with the admin token when there is one). */
  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** POST (with the admin token) and return the JSON answer. */
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  /** POST raw bytes (with the admin token) as `contentType`, and return the JSON answer. */
  postBytes<T>(path: string, data: Uint8Array, contentType: string): Promise<T> {
    return this.request<T>("POST", path, data, contentType);
  }

  /** Every running plugin's commands (`qntx --help`); bounded by `timeoutMs`. */
  listAllCommands(timeoutMs = LISTING_TIMEOUT_MS): Promise<HostAnswer<{ plugins?: Array<{ plugin: string; commands: CommandInfo[] }>; unavailable?: Array<{ plugin: string; error: string }> }>> {
    return this.send("GET", "/api/plugins/commands", undefined, timeoutMs);
  }

  /** One plugin's commands (404 names the host's plugins; 503 when it is not running). */
  listCommands(plugin: string, timeoutMs = 10_000): Promise<HostAnswer<{ commands?: CommandInfo[]; plugins?: string[] }>> {
    return this.send("GET", `/api/plugins/${encodeURIComponent(plugin)}/commands`, undefined, timeoutMs);
  }

  /** Runs a plugin command; waits as long as the host's deadline allows. */
  runCommand(plugin: string, command: string, body: Record<string, unknown>): Promise<HostAnswer<{ exitCode?: number; stdout?: string; stderr?: string; commands?: string[] }>> {
    return this.send("POST", `/api/plugins/${encodeURIComponent(plugin)}/commands/${encodeURIComponent(command)}`, body);
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
      response = await this.fetch(`${this.url}${path}`, { headers });
    } catch (error) {
      throw new QntxError("HOST_NOT_RUNNING", `no qntx host is answering at ${this.url} (${causeOf(error)})`, { hint: START_HINT, cause: error });
    }
    if (!response.ok || !response.body) {
      const err = (await response.json().catch(() => ({}))) as HostAnswer["body"];
      throw answerError(response.status, err, `GET ${path} answered ${response.status}`);
    }
    // eventsource-parser reads the format as the spec says (multi-line data, comments, CRLF).
    let done = false;
    let failure: unknown;
    const parser = createParser({
      onEvent: (message) => {
        if (done) return;
        try {
          if (onEvent(message.event ?? "message", JSON.parse(message.data))) done = true;
        } catch (error) {
          failure = error;
          done = true;
        }
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (failure) throw failure;
      if (done) return;
    }
  }

  /**
   * Sends one request (with the admin token when there is one) and returns the status and the
   * parsed body, error statuses included. Throws HOST_NOT_RUNNING when nothing answers, or
   * nothing answers within `timeoutMs`.
   */
  async send<T>(method: string, path: string, body?: unknown, timeoutMs?: number, contentType?: string): Promise<HostAnswer<T>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    // Bytes go as they are (a file upload); anything else as JSON.
    const raw = body instanceof Uint8Array;
    if (body !== undefined) headers["content-type"] = raw ? (contentType ?? "application/octet-stream") : "application/json";
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : raw ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
        signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
      });
      // Inside the try: a timeout may also strike while the body arrives.
      text = await response.text();
    } catch (error) {
      const reason = (error as { name?: string }).name === "TimeoutError" ? "no answer in time" : causeOf(error);
      throw new QntxError("HOST_NOT_RUNNING", `no qntx host is answering at ${this.url} (${reason})`, { hint: START_HINT, cause: error });
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { error: text };
    }
    return { status: response.status, body: parsed as HostAnswer<T>["body"] };
  }

  private async request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const { status, body: parsed } = await this.send<T>(method, path, body, undefined, contentType);
    if (status < 200 || status > 299) {
      throw answerError(status, parsed, `${method} ${path} answered ${status}`);
    }
    return parsed as T;
  }
}

/**
 * The error of an error answer: its message, hint and code as the host sent them. A body
 * without a catalogue code (a proxy in front of the host, an older host) gets one from the
 * status; the message and hint then say what the body said, or the catalogue's.
 */
function answerError(status: number, body: HostAnswer["body"], fallback: string): QntxError {
  const code = isQntxErrorCode(body.code) ? body.code : codeOf(status);
  return new QntxError(code, typeof body.error === "string" ? body.error : fallback, { hint: typeof body.hint === "string" ? body.hint : undefined });
}

/** A code for an error status whose body names none. */
function codeOf(status: number): QntxErrorCode {
  return status === 401 ? "UNAUTHORIZED" : status === 404 ? "PLUGIN_NOT_FOUND" : status === 400 ? "INVALID_ARGUMENT" : "PLUGIN_UNAVAILABLE";
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
