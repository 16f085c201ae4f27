import { status as GrpcStatus } from "@grpc/grpc-js";
import { ERROR_CATALOGUE, type QntxErrorCode } from "./error-catalogue.js";

/**
 * The catalogue code of an answer about a plugin call that failed with gRPC status `code`:
 * NotFound/Unimplemented → PLUGIN_UNIMPLEMENTED, an expired deadline → PLUGIN_TIMEOUT (QNTX has
 * no deadline; ours is configurable), anything else → PLUGIN_CALL_FAILED.
 */
export function pluginCallErrorCode(code: number): QntxErrorCode {
  switch (code) {
    case GrpcStatus.NOT_FOUND:
    case GrpcStatus.UNIMPLEMENTED:
      return "PLUGIN_UNIMPLEMENTED";
    case GrpcStatus.DEADLINE_EXCEEDED:
      return "PLUGIN_TIMEOUT";
    default:
      return "PLUGIN_CALL_FAILED";
  }
}

/**
 * The one mapping from a gRPC status of a plugin call to the HTTP status the gateway answers
 * (docs/protocol.md §3): the catalogue's status of {@link pluginCallErrorCode} — 404, 504 or 502 —
 * and 200 for OK. "Not ready" (503) is decided by the host from the plugin's state before any
 * call is made, not from a gRPC status.
 */
export function grpcStatusToHttp(code: number): number {
  return code === GrpcStatus.OK ? 200 : ERROR_CATALOGUE[pluginCallErrorCode(code)].status;
}

/** Name of a gRPC status code, for error messages ("DEADLINE_EXCEEDED"). */
export function grpcStatusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? `status ${code}`;
}
