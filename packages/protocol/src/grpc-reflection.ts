/**
 * gRPC server reflection (`grpc.reflection.v1` and `v1alpha`), so grpcurl-style tools list and
 * call the host's services and a plugin's without the .proto files. The answers are
 * @grpc/reflection's; what this file adds is loading it late. That library, proto-loader and
 * protobufjs, and parsing the .proto files, cost a process about 300 ms of CPU on this
 * machine (measured at 12:00 UTC, 2026-12-07, on the loaded 2-core box), which every
 * plugin's start would pay for a service almost nobody calls. So the service is registered
 * with pass-through (de)serializers, and the first call loads the library and the protos,
 * then decodes, answers and encodes with the library's own codec.
 *
 * The .proto files ship with this package (`dist/proto`, copied at build): the root `proto/`
 * files and the standard health.proto.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";

/** The folder of the .proto files this package ships (`dist/proto`; the bundle lives in `dist/bundle`). */
export const PROTO_DIR = fileURLToPath(new URL("../proto/", import.meta.url));

/** The standard health proto, relative to {@link PROTO_DIR}. */
export const HEALTH_PROTO = "grpc/health/v1/health.proto";

const REFLECTION_PATHS = [
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
] as const;

/** One loaded reflection version: decode a request, answer it, encode the answer. */
interface LoadedReflection {
  answer(request: Buffer): Buffer;
}

type Handler = (call: grpc.ServerDuplexStream<Buffer, Buffer>) => void;

const passThrough = (value: Buffer): Buffer => value;

/**
 * Loads @grpc/reflection over `protoFiles` (relative to {@link PROTO_DIR}) and returns, for
 * each reflection path, how to answer one request. The library registers its services on a
 * server; a stand-in server collects them, so its own handler and codec are what answers.
 */
function loadReflection(protoFiles: readonly string[], services: readonly string[] | undefined): Map<string, LoadedReflection> {
  const require = createRequire(import.meta.url);
  const protoLoader = require("@grpc/proto-loader") as typeof import("@grpc/proto-loader");
  const { ReflectionService } = require("@grpc/reflection") as typeof import("@grpc/reflection");
  const definition = protoLoader.loadSync([...protoFiles], { includeDirs: [PROTO_DIR] });
  const service = new ReflectionService(definition, services ? { services: [...services] } : undefined);
  const byPath = new Map<string, LoadedReflection>();
  const collector = {
    addService(serviceDefinition: grpc.ServiceDefinition) {
      for (const method of Object.values(serviceDefinition)) {
        const version = implementationFor(service, method.path);
        byPath.set(method.path, { answer: (request) => method.responseSerialize(version.handleServerReflectionRequest(method.requestDeserialize(request))) });
      }
    },
  };
  service.addToServer(collector as unknown as grpc.Server);
  return byPath;
}

/** The library's implementation of one reflection version. */
function implementationFor(service: object, path: string): { handleServerReflectionRequest(message: unknown): unknown } {
  const versions = service as { v1: { handleServerReflectionRequest(m: unknown): unknown }; v1Alpha: { handleServerReflectionRequest(m: unknown): unknown } };
  return path.includes(".v1alpha.") ? versions.v1Alpha : versions.v1;
}

/**
 * The full names of the services in grpc-js service definitions (`protocol.QueueService`, from
 * each method's path `/protocol.QueueService/Enqueue`).
 */
export function serviceNamesOf(definitions: Iterable<grpc.ServiceDefinition>): string[] {
  const names = new Set<string>();
  for (const definition of definitions) for (const method of Object.values(definition)) names.add(method.path.split("/")[1]!);
  return [...names];
}

/**
 * Serves reflection on `server` over `protoFiles` (relative to {@link PROTO_DIR}; include
 * {@link HEALTH_PROTO} when the server serves health), listing only `services` (full names)
 * when given: the ones the server really serves. Nothing is loaded until the first call.
 */
export function addReflection(server: grpc.Server, protoFiles: readonly string[], services?: readonly string[]): void {
  let loaded: Map<string, LoadedReflection> | undefined;
  for (const path of REFLECTION_PATHS) {
    const handler: Handler = (call) => {
      call.on("data", (request: Buffer) => {
        try {
          loaded ??= loadReflection(protoFiles, services);
          call.write(loaded.get(path)!.answer(request));
        } catch (error) {
          call.emit("error", { code: grpc.status.INTERNAL, details: `reflection failed: ${(error as Error).message}` });
        }
      });
      call.on("end", () => call.end());
    };
    server.addService(
      { serverReflectionInfo: { path, requestStream: true, responseStream: true, requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough } } as grpc.ServiceDefinition,
      { serverReflectionInfo: handler } as grpc.UntypedServiceImplementation,
    );
  }
}
