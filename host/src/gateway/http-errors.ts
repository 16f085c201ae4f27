/**
 * How the host's HTTP API reports errors: always JSON `{error, code?, hint?}`, with the HTTP
 * status derived from the error's stable code. One place, so every route answers alike.
 */
import type { FastifyReply } from "fastify";
import { QntxError, grpcStatusName, grpcStatusToHttp, type QntxErrorCode } from "@qntx/protocol";
import { PluginCallError } from "../plugin/domain-plugin.js";

const STATUS_OF: Partial<Record<QntxErrorCode, number>> = {
  PLUGIN_NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  INVALID_ARGUMENT: 400,
  CONFIG_INVALID: 400,
  PLUGIN_UNAVAILABLE: 503,
  IN_USE: 409,
  DEPENDENCY_FAILED: 424,
};

/** Sends `error` as a JSON error answer. Unknown errors become 500 without internals beyond the message. */
export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof QntxError) {
    return reply.code(STATUS_OF[error.code] ?? 502).send(error.toJSON());
  }
  if (error instanceof PluginCallError) {
    // A plugin call that failed during a control action (Initialize on start, re-configure).
    return reply.code(grpcStatusToHttp(error.code)).send({ error: error.message, grpc_status: grpcStatusName(error.code) });
  }
  const message = error instanceof Error ? error.message : String(error);
  return reply.code(500).send({ error: message });
}
