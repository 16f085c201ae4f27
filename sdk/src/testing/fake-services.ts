/**
 * The grpc-js implementations of `ATSStoreService` and `QueueService` the fake host serves,
 * with the host's error convention: application errors travel in the body (`success:false`,
 * `error`), a bad token answers `invalid authentication token`, `AttestationExists` answers
 * `exists:false` on a bad token, and streams end with UNAUTHENTICATED.
 */
import { Metadata, status, type ServerWritableStream } from "@grpc/grpc-js";
import { matchesNormalizedFilter, normalizeAttestationFilter, type ATSStoreServiceServer, type Attestation, type GetAttestationsRequest, type NormalizedFilter, type QueueServiceServer } from "@qntx/protocol";
import type { AttestationStore } from "./attestation-store.js";
import type { CallMeter } from "./call-meter.js";
import type { JobStore } from "./job-store.js";

/** The error text a host answers for a bad token; plugins may match on it. */
export const INVALID_TOKEN = "invalid authentication token";

/** A stream watching for new attestations (`WatchAttestations`). */
export interface Watcher {
  /** The watch's filter, normalized once when the watch starts; undefined matches everything. */
  readonly filter: NormalizedFilter | undefined;
  readonly call: ServerWritableStream<GetAttestationsRequest, Attestation>;
}

/** What the services need from the fake host. */
export interface ServiceDeps {
  readonly attestations: AttestationStore;
  readonly jobs: JobStore;
  readonly meter: CallMeter;
  readonly watchers: Set<Watcher>;
  /** The source name a token stands for (`""` for the host's default token), or undefined when it is not valid. */
  sourceOf(token: string): string | undefined;
  /** Called when the watchers change. */
  changed(): void;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `work` for a valid token and returns the body: `success:true` with its fields, or
 * `success:false` with the token error or the error `work` threw.
 */
function guarded<E extends object>(deps: ServiceDeps, token: string, empty: E, work: (source: string) => Partial<E>): E & { success: boolean; error: string } {
  const source = deps.sourceOf(token);
  if (source === undefined) return { ...empty, success: false, error: INVALID_TOKEN };
  try {
    return { ...empty, ...work(source), success: true, error: "" };
  } catch (err) {
    return { ...empty, success: false, error: messageOf(err) };
  }
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined || value === null) throw new Error(`${field} is required (the request left it unset)`);
  return value;
}

function refuseStream(deps: ServiceDeps, call: ServerWritableStream<GetAttestationsRequest, Attestation>): boolean {
  if (deps.sourceOf(call.request.authToken) !== undefined) return false;
  call.emit("error", { code: status.UNAUTHENTICATED, details: INVALID_TOKEN });
  return true;
}

/** Builds `ATSStoreService` over the in-memory store. */
export function createFakeAtsService(deps: ServiceDeps, options: { withoutWatch: boolean }): ATSStoreServiceServer {
  const { attestations: store, meter } = deps;
  const service: ATSStoreServiceServer = {
    createAttestation: meter.unary("CreateAttestation", (call) =>
      guarded(deps, call.request.authToken, {}, (source) => {
        store.put(call.request.attestation, source);
        return {};
      })),

    attestationExists: meter.unary("AttestationExists", (call) => ({
      exists: deps.sourceOf(call.request.authToken) !== undefined && store.has(call.request.id),
    })),

    generateAndCreateAttestation: meter.unary("GenerateAndCreateAttestation", (call) =>
      guarded(deps, call.request.authToken, { attestation: undefined as Attestation | undefined }, (source) => ({
        attestation: store.create(required(call.request.command, "command"), source),
      }))),

    batchGenerateAndCreateAttestations: meter.unary("BatchGenerateAndCreateAttestations", (call) =>
      guarded(deps, call.request.authToken, { created: 0 }, (source) => ({
        created: store.createMany(call.request.commands, source).length,
      }))),

    getAttestations: meter.unary("GetAttestations", (call) =>
      guarded(deps, call.request.authToken, { attestations: [] as Attestation[] }, () => ({
        attestations: store.select(required(call.request.filter, "filter")),
      }))),

    getAttestationsStream: (call) => {
      meter.arrived("GetAttestationsStream");
      if (refuseStream(deps, call)) return;
      if (!call.request.filter) return void call.emit("error", { code: status.INVALID_ARGUMENT, details: "filter is required (the request left it unset)" });
      for (const a of store.select(call.request.filter)) call.write(a);
      call.end();
    },

    watchAttestations: (call) => {
      meter.arrived("WatchAttestations");
      if (refuseStream(deps, call)) return;
      let filter: NormalizedFilter | undefined;
      try {
        filter = call.request.filter ? normalizeAttestationFilter(call.request.filter) : undefined;
      } catch (error) {
        return void call.emit("error", { code: status.INVALID_ARGUMENT, details: `bad filter: ${(error as Error).message}` });
      }
      const watcher: Watcher = { filter, call };
      deps.watchers.add(watcher);
      // Headers tell the client the watch is armed: creates from now on reach it (as the host does).
      call.sendMetadata(new Metadata());
      const stop = (): void => {
        if (deps.watchers.delete(watcher)) deps.changed();
      };
      call.once("cancelled", stop);
      call.once("close", stop);
      call.once("error", stop);
      deps.changed();
    },
  };
  // QNTX's host has no WatchAttestations: leaving it out makes grpc-js answer UNIMPLEMENTED.
  if (options.withoutWatch) delete (service as Partial<ATSStoreServiceServer>).watchAttestations;
  return service;
}

/** Sends a new attestation to every watcher whose filter matches. */
export function notifyWatchers(watchers: ReadonlySet<Watcher>, attestation: Attestation): void {
  for (const watcher of watchers) {
    if (watcher.call.cancelled || watcher.call.destroyed) continue;
    if (!watcher.filter || matchesNormalizedFilter(watcher.filter, attestation)) watcher.call.write(attestation);
  }
}

/** Builds `QueueService` over the in-memory queue. */
export function createFakeQueueService(deps: ServiceDeps): QueueServiceServer {
  const { jobs, meter } = deps;
  return {
    enqueue: meter.unary("Enqueue", (call) =>
      guarded(deps, call.request.authToken, { jobId: "" }, (source) => ({
        jobId: jobs.enqueue(required(call.request.job, "job"), source).id,
      }))),

    getJob: meter.unary("GetJob", (call) =>
      guarded(deps, call.request.authToken, { job: undefined as ReturnType<JobStore["get"]> | undefined }, () => ({
        job: jobs.get(call.request.jobId),
      }))),

    updateJob: meter.unary("UpdateJob", (call) =>
      guarded(deps, call.request.authToken, {}, () => {
        jobs.update(call.request.job);
        return {};
      })),

    listJobs: meter.unary("ListJobs", (call) =>
      guarded(deps, call.request.authToken, { jobs: [] as ReturnType<JobStore["list"]> }, () => ({
        jobs: jobs.list(call.request.status, call.request.limit),
      }))),
  };
}
