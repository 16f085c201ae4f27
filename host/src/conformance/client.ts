/**
 * The check's DomainPluginService client: every call has a deadline, and a call during which
 * the plugin process exits fails with that exit (not a bare UNAVAILABLE), so each step can say
 * exactly what went wrong: "no answer in 5 s", "gRPC UNIMPLEMENTED: …", or "the plugin exited
 * (exit code 1) during HandleHTTP". HandleWebSocket uses the exact-timestamp codec.
 */
import * as grpc from "@grpc/grpc-js";
import { domainServiceDefinition, grpcOptions, grpcStatusName } from "@qntx/protocol";
import { describeExit, type ExitInfo, type PluginProcess } from "../plugin/process.js";

/** The generic grpc-js client of DomainPluginService (methods by their camelCase key). */
type RawClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

const ClientConstructor = grpc.makeGenericClientConstructor(domainServiceDefinition as unknown as grpc.ServiceDefinition, "DomainPluginService");

/** Why a call failed, already worded for a report line. */
export class CallFailure extends Error {
  /** The gRPC status, or undefined when the process exited or no answer came. */
  readonly code: number | undefined;
  /** The plugin process exited during the call. */
  readonly exited: boolean;

  constructor(message: string, options: { code?: number; exited?: boolean } = {}) {
    super(message);
    this.name = "CallFailure";
    this.code = options.code;
    this.exited = options.exited ?? false;
  }
}

/** Whether `error` is a CallFailure with gRPC status `code`. */
export function failedWith(error: unknown, code: grpc.status): boolean {
  return error instanceof CallFailure && error.code === code;
}

/** Calls into one plugin at an address; knows the process, when the check spawned it. */
export class CheckClient {
  private raw: RawClient;

  constructor(public address: string, private readonly proc: PluginProcess | undefined) {
    this.raw = new ClientConstructor(address, grpc.credentials.createInsecure(), grpcOptions()) as unknown as RawClient;
  }

  /** Dials another address (a port line that came late). */
  redial(address: string): void {
    this.raw.close();
    this.address = address;
    this.raw = new ClientConstructor(address, grpc.credentials.createInsecure(), grpcOptions()) as unknown as RawClient;
  }

  /**
   * One unary call by method key (`metadata`, `handleHttp`, …) with a deadline of `timeoutMs`.
   * An exit of the process is not raced against the call: its connection closes, the call
   * fails, and {@link explain} names the exit. So an answer sent just before exiting (Shutdown,
   * or a plugin that dies right after a call) still counts as answered.
   */
  async call<Res>(method: string, request: unknown, timeoutMs: number, label: string): Promise<Res> {
    const fn = this.raw[method];
    if (!fn) throw new CallFailure(`${label}: this protocol has no method ${method}`);
    if (this.proc?.hasExited) throw this.exitFailure(label, await this.proc.exited, "before");
    try {
      return await new Promise<Res>((resolve, reject) => {
        fn.call(this.raw, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null, response: Res) => {
          if (error) reject(error);
          else resolve(response);
        });
      });
    } catch (error) {
      throw await this.explain(error, timeoutMs, label);
    }
  }

  /** Opens a HandleWebSocket stream (frames are `WebSocketFrame`s with bigint timestamps). */
  openStream(): grpc.ClientDuplexStream<unknown, unknown> {
    return (this.raw.handleWebSocket as (metadata: grpc.Metadata) => grpc.ClientDuplexStream<unknown, unknown>).call(this.raw, new grpc.Metadata());
  }

  /** A stream or call error worded like {@link call}'s. */
  async explain(error: unknown, timeoutMs: number, label: string): Promise<CallFailure> {
    if (error instanceof CallFailure) return error;
    const service = error as Partial<grpc.ServiceError>;
    // A process that dies takes its connection with it (UNAVAILABLE, or a reset stream seen
    // as INTERNAL/CANCELLED): give its exit a moment to arrive and say so instead.
    const mayBeExit = service.code === undefined || [grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.CANCELLED, grpc.status.UNKNOWN].includes(service.code);
    if (this.proc && (this.proc.hasExited || (mayBeExit && (await this.exitsSoon(300))))) return this.exitFailure(label, await this.proc.exited);
    if (service.code === grpc.status.DEADLINE_EXCEEDED) return new CallFailure(`${label}: no answer in ${seconds(timeoutMs)}`, { code: service.code });
    if (typeof service.code === "number") return new CallFailure(`${label}: gRPC ${grpcStatusName(service.code)}: ${service.details || service.message}`, { code: service.code });
    return new CallFailure(`${label}: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** Releases the channel. */
  close(): void {
    this.raw.close();
  }

  private exitFailure(label: string, exit: ExitInfo, when: "during" | "before" = "during"): CallFailure {
    return new CallFailure(`the plugin exited (${describeExit(exit)}) ${when} ${label}${this.proc!.tail()}`, { exited: true });
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
