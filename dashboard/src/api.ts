/**
 * The dashboard's one client of the host's API: JSON reads and actions. Actions send the
 * session's CSRF token (the cookie alone is refused, docs/dashboard.md); every error answer
 * of the host is `{error, code, hint}` and becomes an ApiError with those three.
 */

/** What `GET /api/dashboard/session` says about this browser. */
export interface SessionInfo {
  readonly session: boolean;
  readonly csrf: string | null;
  readonly expiresAt: string | null;
  /** Whether actions are allowed (a session, which stands for the admin token). */
  readonly admin: boolean;
  /** Whether the host's API may be read from here (this machine, or signed in). */
  readonly readsOpen: boolean;
  readonly tokenFile: string;
}

/** An error answer of the host. */
export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly code: string, readonly hint: string) {
    super(message);
  }
}

let csrf: string | null = null;

/** Reads this browser's session (and keeps its CSRF token for actions). */
export async function loadSession(): Promise<SessionInfo> {
  const info = await getJson<SessionInfo>("/api/dashboard/session");
  csrf = info.csrf;
  return info;
}

/** GETs a JSON document. */
export function getJson<T>(path: string): Promise<T> {
  return request<T>("GET", path);
}

/** POSTs an action (with the CSRF token) and returns the JSON answer. */
export function postJson<T>(path: string, body?: unknown): Promise<T> {
  return request<T>("POST", path, body);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { error: text };
  }
  if (!response.ok) {
    throw new ApiError(String(parsed.error ?? `${method} ${path} answered ${response.status}`), response.status, String(parsed.code ?? ""), String(parsed.hint ?? ""));
  }
  return parsed as T;
}

/** A message for a person: the error and its hint. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
