/**
 * Forwarding of one routed service (LLM, embedding, vector search, search) to its provider
 * plugin: a grpc-js implementation of every method of the service's definition that
 *
 * 1. identifies the caller from the request's `auth_token` and checks its `services` grant
 *    (UNAUTHENTICATED, PERMISSION_DENIED);
 * 2. refuses the call when a budget window has nothing left (RESOURCE_EXHAUSTED naming it);
 * 3. finds the provider (provider-router.ts: UNAVAILABLE at once when there is none or it is down);
 * 4. forwards the request with `auth_token` cleared and the caller's name in the
 *    `x-qntx-caller` metadata, under the caller's own deadline; the caller cancelling cancels
 *    it, and the provider leaving `running` fails it with UNAVAILABLE at once;
 * 5. streams a server stream's messages through as they come, with backpressure both ways;
 * 6. records the call's cost (the provider's `qntx-cost-usd` trailer) and token usage in the
 *    usage record.
 *
 * A provider's error status reaches the caller with its code, its message prefixed with the
 * provider's name.
 */
import { Metadata, status, type Client, type handleServerStreamingCall, type handleUnaryCall, type MethodDefinition, type ServerWritableStream, type ServiceDefinition, type ServiceError, type StatusObject, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { CALLER_METADATA, COST_TRAILER } from "@qntx/protocol";
import type { Logger } from "pino";
import type { ProviderRole } from "../config/types.js";
import type { Budget } from "../budget/budget.js";
import type { UsageRecord } from "../budget/usage-store.js";
import type { Callers, ServiceName } from "./caller.js";
import { RouteError, type ProviderRouter } from "./provider-router.js";

/** Token counts a message reports (LLM answers and final chunks carry them). */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

/** What forwarding needs. */
export interface RoutingDeps {
  readonly router: ProviderRouter;
  readonly callers: Callers;
  readonly budget: Budget;
  readonly logger: Logger;
}

/** How one service is routed. */
export interface RoutedServiceOptions {
  /** The service's grpc-js definition (the generated `…ServiceService`). */
  readonly definition: ServiceDefinition;
  readonly role: ProviderRole;
  /** Its name in a `services` grant. */
  readonly grant: ServiceName;
  /** The provider a request asks for by name ("" = the host's choice). */
  readonly requestedProvider?: (request: object) => string;
  /** Token usage a response or stream message reports, if any. */
  readonly usageOf?: (message: object) => TokenUsage | undefined;
}

/** A request of a routed service: every one carries the caller's token. */
type RoutedRequest = { authToken?: string };

/** Builds the forwarding implementation of every method of `options.definition`. */
export function routedService(deps: RoutingDeps, options: RoutedServiceOptions): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(options.definition)) {
    if (method.requestStream) continue; // no routed service has client streams
    impl[key] = method.responseStream ? forwardStream(deps, options, method) : forwardUnary(deps, options, method);
  }
  return impl;
}

/** The part every call shares: who calls, whether the budget allows it, and where it goes. */
async function admit(deps: RoutingDeps, options: RoutedServiceOptions, request: RoutedRequest): Promise<{ plugin: string; provider: string; client: Client }> {
  const caller = deps.callers.check(request.authToken ?? "", options.grant);
  if (caller.refused) throw new RouteError(caller.refused.code, caller.refused.message);
  const refusal = await deps.budget.check(0, { refuseWhenSpent: true });
  if (refusal) throw new RouteError(status.RESOURCE_EXHAUSTED, `over budget: ${refusal.message}`);
  const { name, client } = deps.router.resolve(options.role, options.requestedProvider?.(request) ?? "");
  return { plugin: caller.plugin, provider: name, client };
}

/** The outgoing call's metadata: the caller's name, never its token. */
function callerMetadata(plugin: string): Metadata {
  const metadata = new Metadata();
  metadata.set(CALLER_METADATA, plugin);
  return metadata;
}

/** The error a caller sees for a failed forward. */
function forwardError(error: Partial<ServiceError> | StatusObject, provider: string, abandoned: string | undefined): Partial<StatusObject> {
  if (abandoned) return { code: status.UNAVAILABLE, details: `${abandoned}: the call was cut` };
  const code = error.code ?? status.UNKNOWN;
  const details = error.details || (error as Error).message || status[code];
  return { code, details: `provider ${provider}: ${details}` };
}

function refusedError(error: unknown): Partial<StatusObject> {
  if (error instanceof RouteError) return { code: error.code, details: error.message };
  return { code: status.INTERNAL, details: error instanceof Error ? error.message : String(error) };
}

function forwardUnary(deps: RoutingDeps, options: RoutedServiceOptions, method: MethodDefinition<object, object>): handleUnaryCall<RoutedRequest, object> {
  const label = `${options.grant}/${method.originalName ?? method.path.slice(method.path.lastIndexOf("/") + 1)}`;
  return (call, callback) => {
    admit(deps, options, call.request).then(({ plugin, provider, client }) => {
      let abandoned: string | undefined;
      let response: object | undefined;
      const meter = new CallMeter(deps, options, { plugin, provider, name: label });
      const outgoing = client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, { ...call.request, authToken: "" },
        callerMetadata(plugin), { deadline: call.getDeadline() }, (error, answer) => {
          untrack();
          if (error) return callback(forwardError(error, provider, abandoned));
          response = answer;
          meter.message(answer!);
          callback(null, answer);
        });
      outgoing.on("status", (s: StatusObject) => {
        if (s.code === status.OK && response !== undefined) meter.done(s.metadata);
      });
      const untrack = deps.router.track(provider, (reason) => {
        abandoned = reason;
        outgoing.cancel();
      });
      call.once("cancelled", () => outgoing.cancel());
    }, (error: unknown) => callback(refusedError(error)));
  };
}

function forwardStream(deps: RoutingDeps, options: RoutedServiceOptions, method: MethodDefinition<object, object>): handleServerStreamingCall<RoutedRequest, object> {
  const label = `${options.grant}/${method.originalName ?? method.path.slice(method.path.lastIndexOf("/") + 1)}`;
  return (call: ServerWritableStream<RoutedRequest, object>) => {
    admit(deps, options, call.request).then(({ plugin, provider, client }) => {
      if (call.cancelled) return;
      let abandoned: string | undefined;
      const meter = new CallMeter(deps, options, { plugin, provider, name: label });
      const outgoing = client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { ...call.request, authToken: "" },
        callerMetadata(plugin), { deadline: call.getDeadline() });
      const untrack = deps.router.track(provider, (reason) => {
        abandoned = reason;
        outgoing.cancel();
      });
      outgoing.on("data", (message: object) => {
        meter.message(message);
        // The caller reads slower than the provider writes: hold the provider until it catches up.
        if (!call.write(message)) {
          outgoing.pause();
          call.once("drain", () => outgoing.resume());
        }
      });
      // The final status also comes as `error` on a failure; `status` handles both.
      outgoing.on("error", () => undefined);
      outgoing.on("status", (s: StatusObject) => {
        untrack();
        if (call.cancelled) return;
        if (s.code === status.OK && abandoned === undefined) {
          meter.done(s.metadata);
          call.end();
        } else {
          call.emit("error", forwardError(s, provider, abandoned));
        }
      });
      call.once("cancelled", () => outgoing.cancel());
    }, (error: unknown) => call.emit("error", refusedError(error)));
  };
}

/** Sums what one forwarded call reports, and records it once the call ends well. */
class CallMeter {
  private usage: TokenUsage | undefined;

  constructor(
    private readonly deps: RoutingDeps,
    private readonly options: RoutedServiceOptions,
    private readonly who: Pick<UsageRecord, "plugin" | "provider" | "name">,
  ) {}

  /** A response or a streamed message: the last usage reported counts (LLM chunks carry it on the last one). */
  message(message: object): void {
    const usage = this.options.usageOf?.(message);
    if (usage && usage.totalTokens + usage.promptTokens + usage.completionTokens > 0) this.usage = usage;
  }

  /** The call ended OK: record its cost (the provider's trailer) and its tokens, if any. */
  done(trailers: Metadata): void {
    const text = trailers.get(COST_TRAILER)[0];
    const costUsd = typeof text === "string" && Number.isFinite(Number(text)) && Number(text) > 0 ? Number(text) : 0;
    if (costUsd === 0 && !this.usage) return;
    const record: UsageRecord = {
      ...this.who, at: Date.now(), kind: "call", costUsd,
      promptTokens: this.usage?.promptTokens ?? 0, completionTokens: this.usage?.completionTokens ?? 0, totalTokens: this.usage?.totalTokens ?? 0,
    };
    this.deps.budget.usage.record(record).catch((error: unknown) => {
      this.deps.logger.error({ ...this.who, err: String(error) }, "could not record a routed call's usage: the budget does not count it");
    });
  }
}
