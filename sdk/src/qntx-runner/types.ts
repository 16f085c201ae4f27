/**
 * The shape of a QNTX-format TypeScript plugin (docs/protocol.md §2): a module whose default export
 * is a plain object. These types describe what the runner accepts; a module written for QNTX's
 * Bun runtime needs none of them (it never imported types from QNTX either).
 */
import type { JobContext } from "../types.js";

/** Request handed to `init`: QNTX's runtime passed the proto object with snake_case keys; both spellings are here. */
export interface QntxInitRequest {
  ats_store_endpoint: string;
  queue_endpoint: string;
  auth_token: string;
  /** The plugin's config table; every value is a string. */
  config: Record<string, string>;
  schedule_endpoint: string;
  file_service_endpoint: string;
  llm_endpoint: string;
  embedding_endpoint: string;
  vector_search_endpoint: string;
  ground_endpoint: string;
  search_endpoint: string;
  fetch_endpoint: string;
  atsStoreEndpoint: string;
  queueEndpoint: string;
  authToken: string;
  scheduleEndpoint: string;
  fileServiceEndpoint: string;
  llmEndpoint: string;
  embeddingEndpoint: string;
  vectorSearchEndpoint: string;
  groundEndpoint: string;
  searchEndpoint: string;
  fetchEndpoint: string;
}

/** One request header as QNTX's runtime hands it to a module: the name as the host sent it, every value. */
export interface QntxHeader {
  readonly name: string;
  readonly values: readonly string[];
}

/**
 * `req.headers`: what QNTX's runtime passes, the request's `HTTPHeader` list — one
 * `{name, values}` per header, names in Go's canonical form (`Content-Type`, `X-Request-Id`),
 * no `Host` — so `req.headers.find((h) => h.name === "Content-Type")` works as under QNTX.
 * It also answers `req.headers["content-type"]` (a lower-case name: the values joined with
 * `, `, Node's convention), except for names an array already has (`length`, `map`, digits).
 */
export type QntxHeaders = readonly QntxHeader[] & { readonly [lowerCaseName: string]: string | undefined };

/** What a route handler of a QNTX module receives as `req`. */
export interface QntxRequest {
  /** Upper-case method. */
  readonly method: string;
  /** Path relative to the plugin (`/x`), without the query string, whichever form the host sent. */
  readonly path: string;
  /** Path and query string exactly as the host sent them (`/x?y=1` or `/api/<name>/x?y=1`). */
  readonly url: string;
  /** Query parameters; a repeated key keeps its last value (all of them are in `searchParams`). */
  readonly query: Readonly<Record<string, string>>;
  /** The parsed query string, every value kept. */
  readonly searchParams: URLSearchParams;
  /** The request's headers as QNTX's runtime gives them, also readable by lower-case name: see {@link QntxHeaders}. */
  readonly headers: QntxHeaders;
  /** Headers by lower-case name with every value kept. */
  readonly headersDistinct: Readonly<Record<string, string[]>>;
  /** Values of the route's `:name` (or `{name}`) segments. */
  readonly params: Readonly<Record<string, string>>;
  /** Raw body bytes (empty when there is none). */
  readonly body: Buffer;
  /** First value of header `name` (case-insensitive). */
  header(name: string): string | undefined;
  /** The body parsed as JSON (a Promise, as in QNTX's runtime and the Fetch API); an empty or bad body answers 400. */
  json<T = unknown>(): Promise<T>;
  /** The body as UTF-8 text (a Promise, like `json()`). */
  text(): Promise<string>;
}

/** What a route handler of a QNTX module receives as `res`. Every method but `getHeader` chains. */
export interface QntxResponse {
  /** Sets the status code (100–599). */
  status(code: number): QntxResponse;
  /** Sets a header, replacing earlier values; an array sends several values (e.g. two `Set-Cookie`). */
  setHeader(name: string, value: string | number | readonly string[]): QntxResponse;
  /** Adds values to a header, keeping earlier ones. */
  appendHeader(name: string, value: string | number | readonly string[]): QntxResponse;
  /** The values set for a header, or undefined. */
  getHeader(name: string): string[] | undefined;
  /** Sends `value` as JSON (content type `application/json` unless one was set). */
  json(value: unknown): QntxResponse;
  /** Sends `body` as UTF-8 text (content type `text/plain` unless one was set). */
  text(body: string): QntxResponse;
  /** Sends a string (text), bytes (octet-stream) or any other value (JSON). */
  send(body?: unknown): QntxResponse;
  /** Whether a body has been sent. */
  readonly sent: boolean;
}

/** A QNTX route handler; it may be async. */
export type QntxHandler = (req: QntxRequest, res: QntxResponse) => unknown;

/** What `registerHTTP(mux)` receives. */
export interface QntxMux {
  /** `handle("GET", "/x", fn)`; also `handle("/x", fn)` (GET) and `handle("POST /x", fn)`. */
  handle(method: string, path: string | QntxHandler, handler?: QntxHandler): void;
}

/** The job handed to `execute_job` / `executeJob`. */
export interface QntxJob {
  job_id: string;
  jobId: string;
  /** The handler name without the `<plugin>/` prefix. */
  handler_name: string;
  handlerName: string;
  /** The payload parsed as JSON; the raw bytes (a Buffer) when it is not JSON; undefined when empty. */
  payload: unknown;
}

/**
 * An `ExecuteJobResponse`-shaped answer: a returned object with a boolean `success` is read
 * as this; anything else returned is the job's result.
 */
export interface QntxJobAnswer {
  success: boolean;
  error?: string;
  /** Bytes as is, a string as UTF-8, anything else as JSON. */
  result?: unknown;
  progress_current?: number;
  progress_total?: number;
  cost_actual?: number;
  log_entries?: Array<{ level?: string; message?: string; stage?: string; metadata?: unknown }>;
}

/** A job handler of a QNTX module. `ctx` is the SDK's job context (progress, log, addCost, signal, ats, queue). */
export type QntxExecuteJob = (job: QntxJob, ctx: JobContext) => unknown;

/** The default export of a QNTX-format plugin module. */
export interface QntxModule {
  name: string;
  version?: string;
  qntx_version?: string;
  description?: string;
  author?: string;
  license?: string;
  init?(request: QntxInitRequest): unknown;
  registerHTTP?(mux: QntxMux): unknown;
  registerGlyphs?(): unknown;
  shutdown?(): unknown;
  /** Job handler names (or a function returning them, called after `init`). */
  handler_names?: readonly string[] | (() => readonly string[]);
  /** Schedules (snake_case or camelCase ScheduleInfo fields), or a function returning them. */
  schedules?: readonly unknown[] | (() => readonly unknown[]);
  execute_job?: QntxExecuteJob;
  executeJob?: QntxExecuteJob;
  [key: string]: unknown;
}
