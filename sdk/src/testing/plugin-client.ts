/**
 * The test helpers' side of `DomainPluginService`: one long-lived channel to the plugin, a
 * deadline on every call, and — for a plugin process — every call raced against the
 * process's exit, so a plugin that crashes mid-call fails the test with its exit code and
 * stderr instead of leaving it waiting.
 */
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceClient, grpcOptions, grpcStatusName } from "@qntx/protocol";
import { TestPluginError } from "./errors.js";

/** What a call needs to know about the plugin's life (a process can die; an in-process plugin is closed). */
export interface Lifeline {
  /**
   * Calls `listener` once when the plugin is gone (process exited; at once if it already is);
   * returns how to unsubscribe. Listeners, not a promise: a call removes its own when it ends,
   * so a long test does not pile them up.
   */
  onGone(listener: () => void): () => void;
  /** Whether the plugin is gone. */
  isGone(): boolean;
  /** Why it is gone, for error messages: exit code and the last stderr lines. */
  describe(): string;
}

/** A lifeline that never ends (an in-process plugin: its server's failures show as gRPC errors). */
export const IN_PROCESS_LIFELINE: Lifeline = { onGone: () => () => undefined, isGone: () => false, describe: () => "" };

/** A lifeline that ends when `markGone` is called: what a process's exit event drives. */
export function createLifeline(describe: () => string): { lifeline: Lifeline; markGone(): void } {
  const listeners = new Set<() => void>();
  let gone = false;
  return {
    lifeline: {
      onGone(listener) {
        if (gone) {
          queueMicrotask(listener);
          return () => undefined;
        }
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      isGone: () => gone,
      describe,
    },
    markGone() {
      if (gone) return;
      gone = true;
      for (const listener of [...listeners]) listener();
      listeners.clear();
    },
  };
}

/**
 * gRPC statuses a dying process causes (the connection drops): the test then waits a moment
 * for its exit to explain them. Not INTERNAL: the SDK answers a plugin's own errors with it.
 */
const CONNECTION_CODES = new Set<number>([grpc.status.UNAVAILABLE, grpc.status.CANCELLED]);
/** How long a connection error waits for the process's exit event before it is reported as is. */
const EXIT_EXPLAINS_MS = 1_000;

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** The channel to a plugin under test. */
export class PluginClient {
  /** The generated client on the one channel; every call goes through {@link PluginClient.unary} for its deadline. */
  readonly client: DomainPluginServiceClient;

  constructor(readonly address: string, readonly lifeline: Lifeline) {
    this.client = new DomainPluginServiceClient(address, grpc.credentials.createInsecure(), grpcOptions());
  }

  /**
   * Calls `method` with a deadline `timeoutMs` from now. `what` names the call in errors
   * ("HandleHTTP GET /hello"). Rejects with a {@link TestPluginError}: `CALL_FAILED` with the
   * gRPC status, or `PROCESS_EXITED` when the plugin process died.
   */
  unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, timeoutMs: number, what: string): Promise<Res> {
    if (this.lifeline.isGone()) return Promise.reject(this.exited(what));
    return new Promise<Res>((resolve, reject) => {
      let settled = false;
      const call = method.call(this.client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (settled) return;
        if (!error) {
          settled = true;
          unsubscribe();
          resolve(response);
          return;
        }
        void this.explain(error, what, timeoutMs).then((err) => {
          if (settled) return;
          settled = true;
          unsubscribe();
          reject(err);
        });
      });
      const unsubscribe = this.lifeline.onGone(() => {
        if (settled) return;
        settled = true;
        call.cancel();
        reject(this.exited(what));
      });
    });
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }

  /** The error for `what` after the process died. */
  exited(what: string): TestPluginError {
    return new TestPluginError("PROCESS_EXITED", `${what}: the plugin process is gone (${this.lifeline.describe()})`);
  }

  /**
   * Turns a gRPC error into a TestPluginError. A connection error may be the first sign of a
   * crash (the socket closes before the exit event): wait a little for the exit to say so.
   */
  async explain(error: grpc.ServiceError, what: string, timeoutMs: number): Promise<TestPluginError> {
    if (CONNECTION_CODES.has(error.code) && this.lifeline !== IN_PROCESS_LIFELINE) {
      let timer: NodeJS.Timeout | undefined;
      let unsubscribe = (): void => undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, EXIT_EXPLAINS_MS);
        unsubscribe = this.lifeline.onGone(resolve);
      });
      clearTimeout(timer);
      unsubscribe();
      if (this.lifeline.isGone()) return this.exited(what);
    }
    const details = error.code === grpc.status.DEADLINE_EXCEEDED ? `no answer within ${timeoutMs} ms` : error.details || error.message;
    return new TestPluginError("CALL_FAILED", `${what} failed: ${grpcStatusName(error.code)}: ${details}`, { grpcCode: error.code, cause: error });
  }
}
