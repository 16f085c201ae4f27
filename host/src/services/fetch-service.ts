/**
 * FetchService as the host serves it: an HTTP GET on a plugin's behalf, recorded as an
 * attestation, so plugins need no network access of their own (QNTX's reason for it).
 *
 * - Only hosts in `[host] fetch_allowed_hosts` (patterns with `*`, `host` or `host:port`) are
 *   fetched; the list is empty by default, and then every fetch is refused saying so.
 *   Redirects are followed by hand (at most 5), each hop checked against the list.
 * - A deadline (`fetch_timeout_ms`, or the caller's own when sooner) and a size limit
 *   (`fetch_max_bytes`: the body is read up to it, then the fetch fails).
 * - With `subjects` and `predicate` the response is attested as QNTX does it: predicates
 *   `http:get` (and the request's own), context the request's or the URL, actor the request's
 *   or `fetch-service`, attributes `{url, response, status_code}` — but the source is the
 *   caller's name from its token [ours], and its `attest` grant must allow the predicates.
 * - The cache is QNTX's: the newest attestation of the same subjects and predicate for the
 *   same URL answers instead of a fetch, unless `fresh` is set.
 *
 * Errors travel in the body, as QNTX's do.
 */
import type { AttestationStore } from "@qntx/ats";
import type { FetchRequest, FetchResponse, FetchServiceServer } from "@qntx/protocol";
import type { Logger } from "pino";
import type { ServiceSettings } from "../config/types.js";
import { errorText, type Callers } from "./caller.js";
import { matches, type GrantChecker } from "./grants.js";

/** What the service needs. */
export interface FetchServiceDeps {
  readonly store: AttestationStore;
  readonly settings: Pick<ServiceSettings, "fetchAllowedHosts" | "fetchTimeoutMs" | "fetchMaxBytes">;
  readonly callers: Callers;
  readonly grants?: GrantChecker;
  readonly logger: Logger;
}

/** Redirects followed before a fetch fails. */
const MAX_REDIRECTS = 5;

/** The predicate every fetch attestation carries (QNTX's). */
const HTTP_GET = "http:get";

/** Builds the grpc-js implementation of FetchService. */
export function createFetchService({ store, settings, callers, grants, logger }: FetchServiceDeps): FetchServiceServer {
  const empty: FetchResponse = { success: false, error: "", body: "", statusCode: 0, attestationId: "" };

  const fetchFor = async (plugin: string, req: FetchRequest, signal: AbortSignal): Promise<Partial<FetchResponse>> => {
    if (!req.url) throw new Error("url is required");
    const predicates = req.predicate && req.predicate !== HTTP_GET ? [HTTP_GET, req.predicate] : [HTTP_GET];
    const attest = req.subjects.length > 0 && req.predicate !== "";
    if (attest) {
      const refused = grants?.refusalOfAny(plugin, "attest", predicates);
      if (refused) throw new Error(refused);
    }
    const url = allowedUrl(req.url, settings.fetchAllowedHosts);
    if (attest && !req.fresh) {
      const cached = await cachedFetch(store, req);
      if (cached) return cached;
    }
    const { status, body } = await get(url, settings, signal);
    if (!attest) return { body, statusCode: status };
    const attestation = await store.generateAndCreate({
      subjects: req.subjects, predicates, contexts: [req.context || req.url], actors: [req.actor || "fetch-service"],
      attributes: { url: req.url, response: body, status_code: status }, source: plugin, sourceVersion: "",
    }, { source: plugin });
    return { body, statusCode: status, attestationId: attestation.id };
  };

  return {
    fetch(call, callback) {
      const caller = callers.check(call.request.authToken, "fetch");
      if (caller.refused) return callback(null, { ...empty, error: caller.refused.message });
      const controller = new AbortController();
      call.once("cancelled", () => controller.abort(new Error("the caller cancelled the fetch")));
      const deadline = call.getDeadline();
      const callerMs = deadline instanceof Date ? deadline.getTime() - Date.now() : Number.isFinite(deadline) ? Number(deadline) - Date.now() : Infinity;
      const timeoutMs = Math.max(1, Math.min(settings.fetchTimeoutMs, callerMs));
      const timer = setTimeout(() => controller.abort(new Error(`the fetch took longer than ${Math.round(timeoutMs)} ms (fetch_timeout_ms = ${settings.fetchTimeoutMs}, or the call's deadline)`)), timeoutMs);
      fetchFor(caller.plugin, call.request, controller.signal).then(
        (fields) => callback(null, { ...empty, ...fields, success: true }),
        (error: unknown) => {
          logger.debug({ plugin: caller.plugin, url: call.request.url, err: errorText(error) }, "fetch refused or failed");
          callback(null, { ...empty, error: errorText(error) });
        },
      ).finally(() => clearTimeout(timer));
    },
  };
}

/** The URL when it is http(s) and its host is allowed; else an error saying what to change. */
function allowedUrl(raw: string, allowed: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`only http and https URLs are fetched, not ${url.protocol}`);
  if (allowed.length === 0) {
    throw new Error(`fetches are off: [host] fetch_allowed_hosts is empty (hint: add "${url.host}" to fetch_allowed_hosts in the host's config to let plugins fetch from it)`);
  }
  if (!hostAllowed(url, allowed)) {
    throw new Error(`${url.host} is not in [host] fetch_allowed_hosts (${allowed.join(", ")}) (hint: add "${url.host}" to it to let plugins fetch from it)`);
  }
  return url;
}

/** Whether `url`'s host (or host:port) matches one of the patterns. */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return allowed.some((pattern) => {
    const bracketless = pattern.replace(/^\[(.*)\](:\d+)?$/, "$1$2");
    const at = bracketless.lastIndexOf(":");
    const withPort = at > 0 && /^\d+$/.test(bracketless.slice(at + 1)) && !bracketless.slice(0, at).includes(":");
    return withPort ? matches(bracketless.slice(0, at), host) && bracketless.slice(at + 1) === port : matches(bracketless, host);
  });
}

/** QNTX's dedup: the newest attestation of these subjects and predicate for this URL. */
async function cachedFetch(store: AttestationStore, req: FetchRequest): Promise<Partial<FetchResponse> | undefined> {
  const [latest] = await store.query({ subjects: req.subjects, predicates: [req.predicate], contexts: [], actors: [], limit: 1 });
  const attributes = latest?.attributes as Record<string, unknown> | undefined;
  if (!latest || !attributes || attributes.url !== req.url) return undefined;
  const status = typeof attributes.status_code === "number" ? attributes.status_code : 200;
  return { body: typeof attributes.response === "string" ? attributes.response : "", statusCode: status, attestationId: latest.id };
}

/** GETs `url`, following allowed redirects, reading at most `fetchMaxBytes` of the body. */
async function get(start: URL, settings: FetchServiceDeps["settings"], signal: AbortSignal): Promise<{ status: number; body: string }> {
  let url = start;
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await fetch(url, { redirect: "manual", signal, headers: { "user-agent": "qntx-fetch" } });
    } catch (error) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      throw new Error(`failed to fetch ${url.href}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new Error(`${start.href} redirected more than ${MAX_REDIRECTS} times`);
      url = allowedUrl(new URL(location, url).href, settings.fetchAllowedHosts);
      continue;
    }
    return { status: response.status, body: await readCapped(response, settings.fetchMaxBytes, url.href) };
  }
}

/** The body as UTF-8 text, or an error once it passes `max` bytes (what was read is dropped). */
async function readCapped(response: Response, max: number, href: string): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await response.body?.cancel();
    throw new Error(`the response of ${href} has ${declared} bytes, over fetch_max_bytes (${max}) (hint: raise [host] fetch_max_bytes, at most 12 MiB)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const next = reader ? await reader.read() : { done: true as const, value: undefined };
    if (next.done) break;
    size += next.value.byteLength;
    if (size > max) {
      await reader!.cancel().catch(() => undefined);
      throw new Error(`the response of ${href} is over fetch_max_bytes (${max} bytes) (hint: raise [host] fetch_max_bytes, at most 12 MiB)`);
    }
    chunks.push(Buffer.from(next.value));
  }
  return Buffer.concat(chunks).toString("utf8");
}
