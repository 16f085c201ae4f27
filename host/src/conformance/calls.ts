/**
 * The check's calls into the plugin, through @qntx/protocol's PluginClient (every call has a
 * deadline). What the check adds: a call during which the plugin process exits fails with
 * that exit — a QntxError PROCESS_EXITED, not a bare UNAVAILABLE — and a failed call's message
 * is worded for a report line, so each step can say exactly what went wrong: "no answer in
 * 5 s", "gRPC UNIMPLEMENTED: …", or "the plugin exited (exit code 1) during HandleHTTP".
 */
import { status } from "@grpc/grpc-js";
import { PluginCallError, PluginClient, QntxError, grpcStatusName, type PluginCallOptions, type WebSocketStream } from "@qntx/protocol";
import { describeExit, type ExitInfo, type PluginProcess } from "../plugin/process.js";

/** Statuses a dying process causes (its connection closes, or a stream is reset). */
const CONNECTION_CODES: readonly number[] = [status.UNAVAILABLE, status.INTERNAL, status.CANCELLED, status.UNKNOWN];

/** Whether `error` is a failed call with gRPC status `code`. */
export function failedWith(error: unknown, code: status): boolean {
  return error instanceof PluginCallError && error.code === code;
}

/** Whether `error` says the plugin process exited before or during a call. */
export function exitedDuring(error: unknown): error is QntxError<"PROCESS_EXITED"> {
  return error instanceof QntxError && error.code === "PROCESS_EXITED";
}

/** Calls into one plugin at an address; knows the process, when the check spawned it. */
export class CheckCalls {
  private client: PluginClient;

  constructor(public address: string, private readonly proc: PluginProcess | undefined) {
    this.client = new PluginClient(address);
  }

  /** Dials another address (a port line that came late). */
  redial(address: string): void {
    this.client.close();
    this.address = address;
    this.client = new PluginClient(address);
  }

  /**
   * One call, `send`, with a deadline of `timeoutMs`; `label` names it in the report
   * ("HandleHTTP GET /hello"). Rejects with a PluginCallError whose message is the report's
   * wording, or a QntxError PROCESS_EXITED. An exit of the process is not raced against the
   * call: its connection closes, the call fails, and {@link explain} names the exit. So an
   * answer sent just before exiting (Shutdown, or a plugin that dies right after a call) still
   * counts as answered.
   */
  async call<Res>(label: string, timeoutMs: number, send: (client: PluginClient, options: PluginCallOptions) => Promise<Res>): Promise<Res> {
    if (this.proc?.hasExited) throw this.exitFailure(label, await this.proc.exited, "before");
    try {
      return await send(this.client, { deadline: Date.now() + timeoutMs });
    } catch (error) {
      throw await this.explain(error, timeoutMs, label);
    }
  }

  /** Opens a HandleWebSocket stream (frames are `WebSocketFrame`s with bigint timestamps); no deadline: the step bounds its wait itself. */
  openStream(): WebSocketStream {
    return this.client.handleWebSocket({ deadline: Infinity });
  }

  /** A call's or a stream's error, worded like {@link call}'s. */
  async explain(error: unknown, timeoutMs: number, label: string): Promise<Error> {
    if (exitedDuring(error)) return error;
    const code = error instanceof PluginCallError ? error.code : undefined;
    // A process that dies takes its connection with it (UNAVAILABLE, or a reset stream seen
    // as INTERNAL/CANCELLED): give its exit a moment to arrive and say so instead.
    const mayBeExit = code === undefined || CONNECTION_CODES.includes(code);
    if (this.proc && (this.proc.hasExited || (mayBeExit && (await this.exitsSoon(300))))) return this.exitFailure(label, await this.proc.exited);
    if (!(error instanceof PluginCallError)) return new Error(`${label}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    const text = error.code === status.DEADLINE_EXCEEDED ? `${label}: no answer in ${seconds(timeoutMs)}` : `${label}: gRPC ${grpcStatusName(error.code)}: ${error.details || error.message}`;
    return new PluginCallError(error.code, text, { method: error.method, details: error.details, cause: error });
  }

  /** Releases the channel. */
  close(): void {
    this.client.close();
  }

  private exitFailure(label: string, exit: ExitInfo, when: "during" | "before" = "during"): QntxError<"PROCESS_EXITED"> {
    return new QntxError("PROCESS_EXITED", `the plugin exited (${describeExit(exit)}) ${when} ${label}${this.proc!.tail()}`);
  }

  private async exitsSoon(ms: number): Promise<boolean> {
    if (this.proc!.hasExited) return true;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([this.proc!.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
    clearTimeout(timer);
    return waited;
  }
}

/** "5 s", "1.5 s"; under a second "250 ms". */
export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
