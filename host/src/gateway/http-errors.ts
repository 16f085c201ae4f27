/**
 * How the host's HTTP API reports errors: always JSON `{error, code, hint}` (some answers add
 * extras such as `state` or `grpc_status`), with the HTTP status the error catalogue gives the
 * code (@qntx/protocol error-catalogue.ts). One place, so every route answers alike.
 */
import type { FastifyReply } from "fastify";
import { QntxError, errorBody, httpStatusOf, type QntxErrorCode } from "@qntx/protocol";
import { PluginCallError } from "../plugin/domain-plugin.js";

/**
 * Sends `error` as a JSON error answer: a QntxError (Pulse's and the store's included) with its
 * code's status, a failed plugin call by its gRPC status, anything else as 500 INTERNAL with
 * its message and nothing more of the host's internals.
 */
export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof QntxError) return reply.code(error.status).send(error.toJSON());
  if (error instanceof PluginCallError) {
    // A plugin call that failed during a control action (Initialize on start, re-configure).
    return sendCode(reply, error.errorCode, error.message, undefined, { grpc_status: error.grpcStatus });
  }
  return sendCode(reply, "INTERNAL", error instanceof Error ? error.message : String(error));
}

/**
 * Answers `{error, code, hint}` (plus `extra`) with the code's status; `message` and `hint`
 * default to the catalogue's.
 */
export function sendCode(reply: FastifyReply, code: QntxErrorCode, message?: string, hint?: string, extra?: object): FastifyReply {
  return reply.code(httpStatusOf(code)).send(errorBody(code, message, hint, extra));
}
