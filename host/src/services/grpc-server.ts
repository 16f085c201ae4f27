/**
 * The host's own gRPC server, which plugins call back: ATSStoreService and QueueService on one
 * loopback port (PROTOCOL.md: one server may serve several services; the same address goes
 * in each endpoint field of InitializeRequest). Message limits match the plugin channels'.
 */
import * as grpc from "@grpc/grpc-js";
import { ATSStoreServiceService, QueueServiceService, grpcOptions, type ATSStoreServiceServer, type QueueServiceServer } from "@qntx/protocol";

/** A running services server. */
export interface ServicesServer {
  /** `host:port` for InitializeRequest endpoints. */
  readonly address: string;
  /** Stops accepting calls and ends open streams. */
  close(): Promise<void>;
}

/** Binds `listen` (`host:port`, port 0 = any) and serves the host's services. */
export async function startServicesServer(listen: string, services: { ats: ATSStoreServiceServer; queue: QueueServiceServer }): Promise<ServicesServer> {
  const server = new grpc.Server(grpcOptions());
  server.addService(ATSStoreServiceService, services.ats);
  server.addService(QueueServiceService, services.queue);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const host = listen.slice(0, listen.lastIndexOf(":"));
  return {
    address: `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Watch streams never end on their own: give calls a moment, then force.
        const timer = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
