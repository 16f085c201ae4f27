/**
 * The test helpers' calls into a plugin, through @qntx/protocol's PluginClient (one long-lived
 * channel, a deadline on every call). What the helpers add: for a plugin process, every call
 * is raced against the process's exit, so a plugin that crashes mid-call fails the test with
 * its exit code and stderr instead of leaving it waiting; and every failure is a
 * {@link TestPluginError} saying which call failed.
 */
import * as grpc from "@grpc/grpc-js";
import { PluginCallError, PluginClient, grpcStatusName, type PluginCallOptions } from "@qntx/protocol";
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

/** The calls into a plugin under test. */
export class TestPluginCalls {
  /** The one client of the plugin; every call goes through {@link TestPluginCalls.call} for its deadline and lifeline. */
  readonly client: PluginClient;

  constructor(readonly address: string, readonly lifeline: Lifeline) {
    this.client = new PluginClient(address);
  }

  /**
   * Makes one call, `send`, with a deadline `timeoutMs` from now, cancelled when the plugin
   * process dies. `what` names the call in errors ("HandleHTTP GET /hello"). Rejects with a
   * {@link TestPluginError}: `CALL_FAILED` with the gRPC status, or `PROCESS_EXITED` when the
   * plugin process died.
   */
  async call<Res>(what: string, timeoutMs: number, send: (client: PluginClient, options: PluginCallOptions) => Promise<Res>): Promise<Res> {
    if (this.lifeline.isGone()) throw this.exited(what);
    const gone = new AbortController();
    const unsubscribe = this.lifeline.onGone(() => gone.abort());
    try {
      return await send(this.client, { deadline: Date.now() + timeoutMs, signal: gone.signal });
    } catch (error) {
      throw this.lifeline.isGone() ? this.exited(what) : await this.explain(error, what, timeoutMs);
    } finally {
      unsubscribe();
    }
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
   * Turns a failed call into a TestPluginError. A connection error may be the first sign of a
   * crash (the socket closes before the exit event): wait a little for the exit to say so.
   */
  async explain(error: unknown, what: string, timeoutMs: number): Promise<unknown> {
    if (!(error instanceof PluginCallError)) return error;
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
    const details = error.code === grpc.status.DEADLINE_EXCEEDED ? `no answer within ${timeoutMs} ms` : error.message;
    return new TestPluginError("CALL_FAILED", `${what} failed: ${grpcStatusName(error.code)}: ${details}`, { grpcCode: error.code, cause: error });
  }
}
