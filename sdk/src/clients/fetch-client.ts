/**
 * `FetchClient`: the host's FetchService (fetch.proto): the host GETs a URL for the plugin
 * (only hosts on its allow-list) and, given subjects and a predicate, records the response as
 * an attestation; a repeated fetch of the same URL for them answers from that record unless
 * `fresh` is set.
 */
import { FetchServiceClient } from "@qntx/protocol";
import { checkBody, DEFAULT_HOST_CALL_TIMEOUT_MS, unaryCall, hostClient, type HostCallOptions, type HostClientOptions } from "./call.js";

/** How to record and cache a fetch. */
export interface FetchInput {
  /** The attestation's subjects: with `predicate`, the fetch is recorded (and cached). */
  subjects?: string[];
  predicate?: string;
  /** Default: the URL. */
  context?: string;
  /** Default: `fetch-service`. */
  actor?: string;
  /** Fetch even when a recorded response exists. */
  fresh?: boolean;
}

/** What a fetch answered. */
export interface FetchResult {
  body: string;
  statusCode: number;
  /** The attestation recording it ("" when none was made). */
  attestationId: string;
}

/** Fetches through the host. */
export interface FetchClient {
  readonly endpoint: string;
  /** GETs `url`; refusals (a host not allowed, too large, too slow) are `HOST_ERROR`s saying so. */
  fetch(url: string, input?: FetchInput, options?: HostCallOptions): Promise<FetchResult>;
  close(): void;
}

/** A client of the FetchService at `endpoint` that sends `authToken` with every call. */
export function createFetchClient(endpoint: string, authToken: string, options: HostClientOptions & { source?: string } = {}): FetchClient {
  const client = hostClient(FetchServiceClient, endpoint, options);
  // The host's own deadline on a fetch is 30 s by default: wait a little longer than that.
  const timeoutMs = options.timeoutMs ?? 3 * DEFAULT_HOST_CALL_TIMEOUT_MS + 5_000;
  return {
    endpoint,
    async fetch(url, input = {}, callOptions) {
      const method = "FetchService/Fetch";
      const request = {
        authToken, url, subjects: input.subjects ?? [], predicate: input.predicate ?? "", context: input.context ?? "", fresh: input.fresh ?? false,
        actor: input.actor ?? "", source: options.source ?? "",
      };
      const res = await unaryCall(client, client.fetch, method, request, timeoutMs, callOptions);
      checkBody(method, res);
      return { body: res.body, statusCode: res.statusCode, attestationId: res.attestationId };
    },
    close: () => client.close(),
  };
}
