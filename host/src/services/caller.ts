/**
 * Who calls a host service: the plugin its token names, if its grants let it use the service.
 * The services QNTX answers in the body (schedule, files, fetch) put a refusal in `error`; the
 * ones whose answers have no error field (search, LLM, embedding, vectors) end the call with a
 * gRPC status (UNAUTHENTICATED, PERMISSION_DENIED), as QNTX's own routers do.
 */
import { status } from "@grpc/grpc-js";
import { QntxError } from "@qntx/protocol";
import type { GRANTABLE_SERVICES } from "../config/types.js";
import { INVALID_TOKEN } from "./ats-service.js";
import type { GrantChecker } from "./grants.js";
import type { PluginTokens } from "./tokens.js";

/** A service a `services` grant names. */
export type ServiceName = (typeof GRANTABLE_SERVICES)[number];

/** The caller, or why it may not call: a gRPC status and a message. */
export type CallerCheck =
  | { readonly plugin: string; readonly refused?: undefined }
  | { readonly plugin?: undefined; readonly refused: { readonly code: status; readonly message: string } };

/** Identifies callers of the host's services. */
export class Callers {
  constructor(
    private readonly tokens: PluginTokens,
    private readonly grants: GrantChecker | undefined,
  ) {}

  /** The plugin behind `token`, when it may call `service`. */
  check(token: string, service: ServiceName): CallerCheck {
    const plugin = this.tokens.pluginFor(token);
    if (!plugin) {
      const message = token
        ? INVALID_TOKEN
        : `${INVALID_TOKEN}: the request carries no auth_token (send the one InitializeRequest gave the plugin)`;
      return { refused: { code: status.UNAUTHENTICATED, message } };
    }
    const refused = this.grants?.refusal(plugin, "services", service);
    if (refused) return { refused: { code: status.PERMISSION_DENIED, message: refused } };
    return { plugin };
  }
}

/** An error as one line for a body's `error` field: its message, and its hint when it has one. */
export function errorText(error: unknown): string {
  if (error instanceof QntxError) return error.hint ? `${error.message} (hint: ${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
