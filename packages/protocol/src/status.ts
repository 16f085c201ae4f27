import { status as GrpcStatus } from "@grpc/grpc-js";

/**
 * The one mapping from a gRPC status of a plugin call to the HTTP status the gateway answers
 * (PROTOCOL.md §3): NotFound/Unimplemented → 404, an expired deadline → 504, a plugin that
 * cannot be reached → 503, anything else → 502.
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
    case GrpcStatus.UNAVAILABLE:
      return 503;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 413;
    default:
      return 502;
  }
}

/** Name of a gRPC status code, for error messages ("DEADLINE_EXCEEDED"). */
export function grpcStatusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? `status ${code}`;
}
