/**
 * The standard gRPC health service, `grpc.health.v1.Health` (Check and Watch), served by the
 * host's services port and by every SDK plugin, so grpcurl, Kubernetes probes and go-plugin
 * hosts (which ask for service `plugin`) get an answer. QNTX's own `DomainPluginService/Health`
 * is separate and unchanged.
 *
 * Why not the `grpc-health-check` package: it loads @grpc/proto-loader and protobufjs and
 * parses health.proto when a server starts, which cost a plugin's start about 100 ms of CPU on
 * this machine, for two messages of one field each. Those are read and written here with
 * @bufbuild/protobuf's wire reader and writer, which every process loads already. The
 * standard proto is kept in packages/protocol/proto for reflection.
 */
import * as grpc from "@grpc/grpc-js";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";

/** A service's status as `HealthCheckResponse.ServingStatus` names it. */
export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

const STATUS_NUMBERS: Record<ServingStatus, number> = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };
const STATUS_NAMES = Object.keys(STATUS_NUMBERS) as ServingStatus[];

/** The service names go-plugin hosts and generic tools ask for: the whole server, and `plugin`. */
export const STANDARD_HEALTH_SERVICES = ["", "plugin"] as const;

function decodeRequest(bytes: Buffer): { service: string } {
  const reader = new BinaryReader(bytes);
  let service = "";
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === 2) service = reader.string();
    else reader.skip(wireType);
  }
  return { service };
}

function encodeRequest(request: { service: string }): Buffer {
  const writer = new BinaryWriter();
  if (request.service) writer.uint32(10).string(request.service);
  return Buffer.from(writer.finish());
}

function decodeResponse(bytes: Buffer): { status: ServingStatus } {
  const reader = new BinaryReader(bytes);
  let status = 0;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === 0) status = reader.int32();
    else reader.skip(wireType);
  }
  return { status: STATUS_NAMES[status] ?? "UNKNOWN" };
}

function encodeResponse(response: { status: ServingStatus }): Buffer {
  const writer = new BinaryWriter();
  const status = STATUS_NUMBERS[response.status];
  if (status !== 0) writer.uint32(8).int32(status);
  return Buffer.from(writer.finish());
}

/** `grpc.health.v1.Health` as a grpc-js service definition (server and client side). */
export const HealthServiceDefinition = {
  check: {
    path: "/grpc.health.v1.Health/Check", requestStream: false, responseStream: false,
    requestSerialize: encodeRequest, requestDeserialize: decodeRequest, responseSerialize: encodeResponse, responseDeserialize: decodeResponse,
  },
  watch: {
    path: "/grpc.health.v1.Health/Watch", requestStream: false, responseStream: true,
    requestSerialize: encodeRequest, requestDeserialize: decodeRequest, responseSerialize: encodeResponse, responseDeserialize: decodeResponse,
  },
} satisfies grpc.ServiceDefinition;

/** A client of `grpc.health.v1.Health` (tests, `qntx plugin check`). */
export const HealthClient = grpc.makeGenericClientConstructor(HealthServiceDefinition, "grpc.health.v1.Health");

/**
 * The statuses one server reports, and its Check and Watch. The one owner of those statuses:
 * the host and the SDK set them as they start, pause and drain.
 */
export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<(status: ServingStatus) => void>>();
  /** Open Watch calls, ended by {@link close} so they do not hold a graceful server stop. */
  private readonly watchCalls = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  /** @param initial each service's first status (default: {@link STANDARD_HEALTH_SERVICES} SERVING). */
  constructor(initial: Readonly<Record<string, ServingStatus>> = { "": "SERVING", plugin: "SERVING" }) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  /** A service's status, undefined when it is not known. */
  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Sets a service's status; its watchers hear of a change. */
  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const notify of this.watchers.get(service) ?? []) notify(status);
  }

  /** Sets every known service at once (NOT_SERVING while a server drains). */
  setAll(status: ServingStatus): void {
    for (const service of [...this.statuses.keys()]) this.set(service, status);
  }

  /** Reports every service NOT_SERVING and ends open Watch calls: the server is stopping. */
  close(): void {
    this.setAll("NOT_SERVING");
    for (const call of this.watchCalls) call.end();
    this.watchCalls.clear();
    this.watchers.clear();
  }

  /** Serves Check and Watch on `server`. */
  addToServer(server: grpc.Server): void {
    server.addService(HealthServiceDefinition, {
      check: (call: grpc.ServerUnaryCall<{ service: string }, { status: ServingStatus }>, callback: grpc.sendUnaryData<{ status: ServingStatus }>) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        else callback(null, { status });
      },
      watch: (call: grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>) => {
        const service = call.request.service;
        // The protocol: the current status at once (SERVICE_UNKNOWN for an unknown service), then every change.
        const send = (status: ServingStatus): void => void call.write({ status });
        send(this.statuses.get(service) ?? "SERVICE_UNKNOWN");
        let set = this.watchers.get(service);
        if (!set) this.watchers.set(service, (set = new Set()));
        set.add(send);
        this.watchCalls.add(call);
        call.on("cancelled", () => {
          set.delete(send);
          this.watchCalls.delete(call);
        });
      },
    });
  }
}
