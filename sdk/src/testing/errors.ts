/**
 * The one error the test helpers throw, with a code a test can match on and, for a plugin
 * process, the last lines it printed: a failing test then says why the plugin failed.
 */
import { QntxError, grpcStatusToHttp } from "@qntx/protocol";

/** What went wrong: codes of the error catalogue (@qntx/protocol error-catalogue.ts, docs/errors.md). */
export type TestPluginErrorCode =
  /** The plugin process could not be started (no such file, not executable). */
  | "SPAWN_FAILED"
  /** The process exited before printing `QNTX_PLUGIN_PORT=`. */
  | "EXITED_BEFORE_PORT"
  /** The process printed no port line within the start deadline. */
  | "NO_PORT_LINE"
  /** The plugin answers `Metadata` with another name than the one expected. */
  | "WRONG_NAME"
  /** `Initialize` failed (the plugin's error is in the message). */
  | "INITIALIZE_FAILED"
  /** An RPC failed with a gRPC status (`grpcCode`), or passed its deadline. */
  | "CALL_FAILED"
  /** The plugin process exited while a call was in flight. */
  | "PROCESS_EXITED"
  /** The handle was stopped. */
  | "STOPPED"
  /** A WebSocket session ended, or no frame came in time. */
  | "WEBSOCKET";

/**
 * Thrown by `startTestPlugin` and the methods of its handle: a QntxError (so it also has a
 * `hint`) with one of {@link TestPluginErrorCode}.
 */
export class TestPluginError extends QntxError<TestPluginErrorCode> {
  /** gRPC status of a failed call, when there was one. */
  readonly grpcCode: number | undefined;
  /** The HTTP status the host would have answered a browser for this failure (504, 502, 404…). */
  readonly httpStatus: number | undefined;

  constructor(code: TestPluginErrorCode, message: string, options: { grpcCode?: number; hint?: string; cause?: unknown } = {}) {
    super(code, message, { hint: options.hint, cause: options.cause });
    this.name = "TestPluginError";
    this.grpcCode = options.grpcCode;
    // The gateway's own mapping, so a test can assert what a browser would have seen.
    this.httpStatus = options.grpcCode === undefined ? undefined : grpcStatusToHttp(options.grpcCode);
  }
}

/** `lines` indented under a heading, or "" when there are none. */
export function outputTail(lines: readonly string[], heading = "last stderr lines"): string {
  return lines.length === 0 ? "" : `\n${heading}:\n  ${lines.join("\n  ")}`;
}
