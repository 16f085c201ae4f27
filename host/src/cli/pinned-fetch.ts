/**
 * `fetch` that trusts one certificate (authority) instead of the system's: how the CLI reaches
 * a host serving HTTPS with its own certificate (`[host] tls`). Node 20's global fetch takes no
 * CA option (that needs undici's dispatcher, which Node does not export), so this is a small
 * fetch over node:https that answers a standard `Response` (streamed body, for server-sent
 * events too). Only what the CLI's client uses is supported: method, headers, a string body
 * and an abort signal.
 */
import { request } from "node:https";
import { Readable } from "node:stream";

/** A fetch for https:// URLs that trusts only `ca` (PEM: a CA, or a self-signed certificate itself). */
export function pinnedFetch(ca: Buffer): typeof fetch {
  return (input, init = {}) => new Promise<Response>((resolve, reject) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => (headers[key] = value));
    const req = request(url, { method: init.method ?? "GET", headers, ca, signal: init.signal ?? undefined }, (res) => {
      const responseHeaders = new Headers();
      for (const [key, value] of Object.entries(res.headers)) {
        if (value !== undefined) responseHeaders.set(key, Array.isArray(value) ? value.join(", ") : value);
      }
      const status = res.statusCode ?? 500;
      const bodyless = status === 204 || status === 304 || init.method === "HEAD";
      if (bodyless) res.resume();
      resolve(new Response(bodyless ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: responseHeaders }));
    });
    // fetch's shape: the failure's reason is `cause`, a timeout is a TimeoutError.
    req.once("error", (error) => reject(init.signal?.aborted ? init.signal.reason : Object.assign(new TypeError("fetch failed"), { cause: error })));
    if (typeof init.body === "string") req.end(init.body);
    else req.end();
  });
}
