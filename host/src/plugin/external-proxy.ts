/**
 * ExternalDomainProxy: a DomainPlugin backed by a plugin process reached over gRPC.
 * It holds one long-lived channel for the plugin's whole life (never one per call); every
 * call carries a deadline and can be aborted, and every failure becomes a PluginCallError
 * with the gRPC status, so callers handle remote and built-in plugins the same way.
 */
import * as grpc from "@grpc/grpc-js";
import {
  DomainPluginServiceClient,
  grpcOptions,
  type ConfigSchemaResponse,
  type Empty,
  type ExecuteJobRequest,
  type ExecuteJobResponse,
  type HTTPRequest,
  type HTTPResponse,
  type HealthResponse,
  type InitializeRequest,
  type InitializeResponse,
  type MetadataResponse,
} from "@qntx/protocol";
import { PluginCallError, type CallOptions, type DomainPlugin } from "./domain-plugin.js";

/** A unary method of the generated client, in its callback form. */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

const EMPTY: Empty = {};

/** Proxies the DomainPlugin interface to a plugin listening at `address` (`host:port`). */
export class ExternalDomainProxy implements DomainPlugin {
  readonly address: string;
  private readonly client: DomainPluginServiceClient;

  constructor(address: string, options: { maxMessageBytes?: number } = {}) {
    this.address = address;
    this.client = new DomainPluginServiceClient(address, grpc.credentials.createInsecure(), grpcOptions(options.maxMessageBytes));
  }

  metadata(options: CallOptions): Promise<MetadataResponse> {
    return this.unary(this.client.metadata, EMPTY, options);
  }

  initialize(request: InitializeRequest, options: CallOptions): Promise<InitializeResponse> {
    return this.unary(this.client.initialize, request, options);
  }

  handleHTTP(request: HTTPRequest, options: CallOptions): Promise<HTTPResponse> {
    return this.unary(this.client.handleHttp, request, options);
  }

  health(options: CallOptions): Promise<HealthResponse> {
    return this.unary(this.client.health, EMPTY, options);
  }

  async shutdown(options: CallOptions): Promise<void> {
    await this.unary(this.client.shutdown, EMPTY, options);
  }

  configSchema(options: CallOptions): Promise<ConfigSchemaResponse> {
    return this.unary(this.client.configSchema, EMPTY, options);
  }

  executeJob(request: ExecuteJobRequest, options: CallOptions): Promise<ExecuteJobResponse> {
    return this.unary(this.client.executeJob, request, options);
  }

  /** Closes the channel; later calls fail with UNAVAILABLE-like errors. */
  close(): void {
    this.client.close();
  }

  /** Makes one unary call with a deadline, cancelled when `options.signal` aborts. */
  private unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: CallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new PluginCallError(grpc.status.CANCELLED, "call cancelled before it started"));
        return;
      }
      const call = method.call(this.client, request, new grpc.Metadata(), { deadline: options.deadline }, (error, response) => {
        options.signal?.removeEventListener("abort", onAbort);
        if (error) reject(new PluginCallError(error.code, error.details || error.message, { cause: error }));
        else resolve(response);
      });
      const onAbort = (): void => call.cancel();
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
