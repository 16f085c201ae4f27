/**
 * What the ATS and queue clients share: the error they throw, deadlines, abort signals,
 * and turning grpc-js calls into promises and async iterables.
 */
import { credentials, Metadata, status as GrpcStatus, type CallOptions, type ChannelCredentials, type ChannelOptions, type ClientReadableStream, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { callMetadata, grpcOptions, type QntxErrorCode } from "@qntx/protocol";
import { currentTrace } from "../trace.js";

/** Default deadline of a call to a host service. */
export const DEFAULT_HOST_CALL_TIMEOUT_MS = 10_000;

/** Per-call options of the host service clients. */
export interface HostCallOptions {
  /**
   * Deadline of this call in milliseconds; overrides the client's default (10 s).
   * `0` or `Infinity` means no deadline.
   */
  timeoutMs?: number;
  /** Cancels the call when aborted; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options shared by `createAtsClient` and `createQueueClient`. */
export interface HostClientOptions {
  /** Default deadline of every call, in milliseconds. Default 10 000. `0` = none. */
  timeoutMs?: number;
  /** Channel credentials (default plaintext); see `hostChannelFromEnv` for mutual TLS. */
  credentials?: ChannelCredentials;
  /** Channel options added to the SDK's (e.g. `grpc.ssl_target_name_override`). */
  channelOptions?: ChannelOptions;
}

/**
 * A generated grpc-js client of `endpoint` with the options' credentials (plaintext when none)
 * and the SDK's channel options plus the given ones: one channel per client, reused by every call.
 */
export function hostClient<C>(Client: new (address: string, creds: ChannelCredentials, options: ChannelOptions) => C, endpoint: string, options: HostClientOptions): C {
  return new Client(endpoint, options.credentials ?? credentials.createInsecure(), { ...grpcOptions(), ...options.channelOptions });
}

/**
 * Thrown by the ATS and queue clients.
 * - `code: "HOST_ERROR"`: the host answered with `success:false`; `message` is its `error`
 *   text, verbatim (e.g. `invalid authentication token`).
 * - `code: "HOST_CALL_FAILED"`: the call itself failed with a gRPC status (`grpcCode`):
 *   host unreachable, deadline exceeded, method not implemented (`WatchAttestations` on a QNTX host)…
 */
export class HostServiceError extends Error {
  /** A code of the error catalogue (@qntx/protocol, docs/errors.md). */
  readonly code: Extract<QntxErrorCode, "HOST_ERROR" | "HOST_CALL_FAILED">;
  /** The RPC, e.g. `ATSStoreService/GetAttestations`. */
  readonly method: string;
  /** gRPC status code when `code` is `HOST_CALL_FAILED`; undefined for body errors. */
  readonly grpcCode: number | undefined;

  constructor(code: HostServiceError["code"], method: string, message: string, options: { grpcCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HostServiceError";
    this.code = code;
    this.method = method;
    this.grpcCode = options.grpcCode;
  }
}

/** True when `value` is a {@link HostServiceError}, also one from another copy of the SDK. */
export function isHostServiceError(value: unknown): value is HostServiceError {
  return value instanceof HostServiceError || (value instanceof Error && value.name === "HostServiceError" && typeof (value as { method?: unknown }).method === "string");
}

/** Wraps a gRPC status error of `method`. */
export function callFailed(method: string, err: unknown): HostServiceError {
  const serviceError = err as Partial<ServiceError>;
  const code = typeof serviceError.code === "number" ? serviceError.code : GrpcStatus.UNKNOWN;
  const details = serviceError.details || (err instanceof Error ? err.message : String(err));
  return new HostServiceError("HOST_CALL_FAILED", method, `${method} failed: ${GrpcStatus[code] ?? code}: ${details}`, { grpcCode: code, cause: err });
}

/** Throws the body error of a `{success, error}` answer. */
export function checkBody(method: string, body: { success: boolean; error: string }): void {
  if (!body.success) throw new HostServiceError("HOST_ERROR", method, body.error || `${method} failed without an error message`);
}

/** A call's metadata: the trace of the handler running now, when there is one (see trace.ts). */
function traceMetadata(): Metadata {
  return callMetadata(currentTrace());
}

function callOptions(defaultTimeoutMs: number, options: HostCallOptions | undefined): Partial<CallOptions> {
  const timeoutMs = options?.timeoutMs ?? defaultTimeoutMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return {};
  return { deadline: Date.now() + timeoutMs };
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

type StreamMethod<Req, Res> = (request: Req, metadata?: Metadata, options?: Partial<CallOptions>) => ClientReadableStream<Res>;

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error("aborted");
}

/**
 * Calls a unary RPC with a deadline; rejects with a {@link HostServiceError} on a gRPC
 * status, or with the signal's reason once `options.signal` aborts.
 */
export function unaryCall<Req, Res>(
  client: object,
  method: UnaryMethod<Req, Res>,
  name: string,
  request: Req,
  defaultTimeoutMs: number,
  options?: HostCallOptions,
): Promise<Res> {
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<Res>((resolve, reject) => {
    const onAbort = (): void => {
      call.cancel();
      reject(abortReason(signal!));
    };
    let call: ClientUnaryCall;
    try {
      call = method.call(client, request, traceMetadata(), callOptions(defaultTimeoutMs, options), (err, response) => {
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(callFailed(name, err));
        else resolve(response);
      });
    } catch (err) {
      // grpc-js throws synchronously on a closed client ("Channel has been shut down").
      reject(callFailed(name, err));
      return;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A server stream as an async iterable. The call starts on the first `next()`, so an
 * iterable that is never iterated costs nothing. Iteration ends quietly when `signal`
 * aborts, and breaking out of a `for await` cancels the call.
 */
export function streamCall<Req, Res>(
  client: object,
  method: StreamMethod<Req, Res>,
  name: string,
  request: Req,
  defaultTimeoutMs: number,
  options?: HostCallOptions,
): AsyncIterable<Res> {
  return {
    async *[Symbol.asyncIterator]() {
      const signal = options?.signal;
      if (signal?.aborted) return;
      let call: ClientReadableStream<Res>;
      try {
        call = method.call(client, request, traceMetadata(), callOptions(defaultTimeoutMs, options));
      } catch (err) {
        throw callFailed(name, err);
      }
      // grpc-js emits the final status as an 'error' event, also after we cancelled and the
      // iterator let go of the stream: without a listener that would be an uncaught exception.
      // The iterator still sees errors through its own listener.
      call.on("error", () => undefined);
      const onAbort = (): void => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        for await (const item of call as AsyncIterable<Res>) {
          // Items buffered before the abort are dropped: the caller asked to stop.
          if (signal?.aborted) return;
          yield item;
        }
      } catch (err) {
        if (signal?.aborted) return;
        throw callFailed(name, err);
      } finally {
        signal?.removeEventListener("abort", onAbort);
        // No-op when the stream ended; stops the host's work when the caller broke out early.
        call.cancel();
      }
    },
  };
}
