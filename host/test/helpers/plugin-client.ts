/**
 * A raw grpc-js client of DomainPluginService with promise methods and deadlines, for tests
 * that talk to a plugin directly. Every client made here is remembered; call
 * {@link closePluginClients} in `afterEach` (an open channel keeps jest alive).
 */
import * as grpc from "@grpc/grpc-js";
import {
  DomainPluginServiceClient,
  grpcOptions,
  type Empty,
  type ExecuteJobRequest,
  type ExecuteJobResponse,
  type HTTPHeader,
  type HTTPResponse,
  type HealthResponse,
  type InitializeRequest,
  type InitializeResponse,
  type MetadataResponse,
} from "@qntx/protocol";

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** Default deadline of a test call. */
const DEFAULT_TIMEOUT_MS = 3_000;

const open = new Set<PluginTestClient>();

/** An `InitializeRequest` with every endpoint empty and the given config. */
export function initializeRequest(config: Record<string, string> = {}): InitializeRequest {
  return {
    atsStoreEndpoint: "",
    queueEndpoint: "",
    authToken: "test-token",
    config,
    scheduleEndpoint: "",
    fileServiceEndpoint: "",
    llmEndpoint: "",
    embeddingEndpoint: "",
    vectorSearchEndpoint: "",
    groundEndpoint: "",
    searchEndpoint: "",
    fetchEndpoint: "",
  };
}

/** Promise-based DomainPluginService client; each call has a deadline. */
export class PluginTestClient {
  readonly raw: DomainPluginServiceClient;

  constructor(readonly address: string) {
    this.raw = new DomainPluginServiceClient(address, grpc.credentials.createInsecure(), grpcOptions());
    open.add(this);
  }

  metadata(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<MetadataResponse> {
    return this.unary<Empty, MetadataResponse>(this.raw.metadata, {}, timeoutMs);
  }

  initialize(config: Record<string, string> = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<InitializeResponse> {
    return this.unary<InitializeRequest, InitializeResponse>(this.raw.initialize, initializeRequest(config), timeoutMs);
  }

  http(
    method: string,
    path: string,
    options: { headers?: HTTPHeader[]; body?: Buffer | string; timeoutMs?: number } = {},
  ): Promise<HTTPResponse> {
    const request = { method, path, headers: options.headers ?? [], body: Buffer.from(options.body ?? "") };
    return this.unary(this.raw.handleHttp, request, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  health(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<HealthResponse> {
    return this.unary<Empty, HealthResponse>(this.raw.health, {}, timeoutMs);
  }

  shutdown(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Empty> {
    return this.unary<Empty, Empty>(this.raw.shutdown, {}, timeoutMs);
  }

  executeJob(request: ExecuteJobRequest, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExecuteJobResponse> {
    return this.unary<ExecuteJobRequest, ExecuteJobResponse>(this.raw.executeJob, request, timeoutMs);
  }

  close(): void {
    this.raw.close();
    open.delete(this);
  }

  private unary<Req, Res>(method: Unary<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.raw, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response),
      );
    });
  }
}

/** The gRPC status code of a rejected call (undefined when the error is not a gRPC one). */
export function grpcCode(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "number"
    ? (error as { code: number }).code
    : undefined;
}

/** Closes every client made by {@link PluginTestClient} that is still open. */
export function closePluginClients(): void {
  for (const client of [...open]) client.close();
}
