import { status as GrpcStatus } from "@grpc/grpc-js";

/**
 * The one mapping from a gRPC status of a plugin call to the HTTP status the gateway answers
 * (docs/protocol.md §3): NotFound/Unimplemented → 404, an expired deadline → 504 (QNTX has no
 * deadline; ours is configurable), anything else → 502. "Not ready" (503) is decided by the
 * host from the plugin's state before any call is made, not from a gRPC status.
 */
export function grpcStatusToHttp(code: number): number {
  switch (code) {
    case GrpcStatus.OK:
      return 200;
    case GrpcStatus.NOT_FOUND:
    case GrpcStatus.UNIMPLEMENTED:
      return 404;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 504;
    default:
      return 502;
  }
}

/** Name of a gRPC status code, for error messages ("DEADLINE_EXCEEDED"). */
export function grpcStatusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? `status ${code}`;
}
