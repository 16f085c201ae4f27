/**
 * The host's own gRPC server, which plugins call back: ATSStoreService, QueueService and the
 * other host services (schedule, files, fetch, search, LLM, embedding, vectors: `extra`) on one
 * loopback port (docs/protocol.md §1.1: one server may serve several services; the same address goes
 * in each endpoint field of InitializeRequest). Message limits match the plugin channels'.
 * Beside them, the standard surfaces generic gRPC tools expect: `grpc.health.v1.Health`
 * (service "" and "plugin": NOT_SERVING once the host stops) and server reflection.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import {
  ATSStoreServiceService, HEALTH_PROTO, HealthServiceDefinition, HealthStatus, QueueServiceService, addReflection, grpcOptions, serviceNamesOf,
  type ATSStoreServiceServer, type QueueServiceServer,
} from "@qntx/protocol";
import type { TlsFiles } from "../config/types.js";

/** The .proto files of the services this server may serve (for reflection). */
const HOST_PROTOS = ["atsstore.proto", "queue.proto", "schedule.proto", "fileservice.proto", "fetch.proto", "search.proto", "llm.proto", "embedding.proto", "vectorsearch.proto"];

/** A running services server. */
export interface ServicesServer {
  /** `host:port` for InitializeRequest endpoints. */
  readonly address: string;
  /** What `grpc.health.v1.Health` answers (the host sets NOT_SERVING as it drains). */
  readonly health: HealthStatus;
  /** Stops accepting calls and ends open streams. */
  close(): Promise<void>;
}

/** The implementations the services server serves. */
export interface HostServiceImpls {
  readonly ats: ATSStoreServiceServer;
  readonly queue: QueueServiceServer;
  /** Further services (a definition and its implementation each). */
  readonly extra?: ReadonlyArray<{ readonly definition: grpc.ServiceDefinition; readonly implementation: grpc.UntypedServiceImplementation }>;
}

/**
 * Binds `listen` (`host:port`, port 0 = any) and serves the host's services: plaintext, or with
 * `tls` (`[host] grpc_tls`) TLS that requires a client certificate issued by `tls.ca`. The
 * files are read now; a plugin's token is still checked on every call either way.
 */
export async function startServicesServer(listen: string, services: HostServiceImpls, tls?: TlsFiles): Promise<ServicesServer> {
  const server = new grpc.Server(grpcOptions());
  server.addService(ATSStoreServiceService, services.ats);
  server.addService(QueueServiceService, services.queue);
  for (const { definition, implementation } of services.extra ?? []) server.addService(definition, implementation);
  const health = new HealthStatus();
  health.addToServer(server);
  const definitions = [ATSStoreServiceService, QueueServiceService, ...(services.extra ?? []).map((s) => s.definition), HealthServiceDefinition];
  addReflection(server, [...HOST_PROTOS, HEALTH_PROTO], serviceNamesOf(definitions));
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(readFileSync(tls.ca), [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }], true)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const host = listen.slice(0, listen.lastIndexOf(":"));
  return {
    address: `${host}:${port}`,
    health,
    close: () =>
      new Promise<void>((resolve) => {
        health.close();
        // Watch streams never end on their own: give calls a moment, then force.
        const timer = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
