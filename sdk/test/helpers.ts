/** Shared helpers of the SDK tests: wire requests, free ports, promisified gRPC calls. */
import { createServer, type Server as NetServer } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceClient, type HTTPHeader, type HTTPRequest, type HTTPResponse } from "@qntx/protocol";

/** A wire request as the host would send it. */
export function wireRequest(method: string, path: string, init: { headers?: HTTPHeader[]; body?: string | Buffer } = {}): HTTPRequest {
  const body = init.body === undefined ? Buffer.alloc(0) : Buffer.from(init.body);
  return { method, path, headers: init.headers ?? [], body };
}

/** The response body parsed as JSON. */
export function bodyJson(response: HTTPResponse): unknown {
  return JSON.parse(Buffer.from(response.body).toString("utf8"));
}

/** Every value of response header `name` (case-insensitive). */
export function headerValues(response: HTTPResponse, name: string): string[] {
  return response.headers.filter((h) => h.name.toLowerCase() === name.toLowerCase()).flatMap((h) => h.values);
}

/** Listens on an OS-assigned loopback port and keeps it busy until `close()`. */
export async function occupyPort(port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const server: NetServer = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return { port: address.port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A DomainPluginService client on `address`. Close it in afterAll. */
export function dial(address: string): DomainPluginServiceClient {
  return new DomainPluginServiceClient(address, grpc.credentials.createInsecure());
}

type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (err: grpc.ServiceError | null, res: Res) => void) => unknown;

/** Calls a unary method and resolves with the response (rejects with the ServiceError). */
export function call<Req, Res>(client: DomainPluginServiceClient, method: UnaryMethod<Req, Res>, request: Req, deadlineMs = 5_000): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    method.call(client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
