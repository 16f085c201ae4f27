/**
 * A fake qntx host for SDK tests: a real grpc-js server on an ephemeral loopback port serving
 * `ATSStoreService` (in memory, token-checked, with `WatchAttestations` pushed on create)
 * and `QueueService` (records every call). Mutations emit "change" so tests wait for events.
 */
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import {
  ATSStoreServiceService,
  QueueServiceService,
  type ATSStoreServiceServer,
  type Attestation,
  type AttestationCommand,
  type AttestationFilter,
  type Job,
  type QueueServiceServer,
} from "@qntx/protocol";

export const BAD_TOKEN = "invalid authentication token";

export interface FakeHostOptions {
  token: string;
  /** Leave WatchAttestations out, as a QNTX host does (grpc-js answers UNIMPLEMENTED). */
  withoutWatch?: boolean;
}

export interface FakeHost {
  readonly address: string;
  readonly attestations: Attestation[];
  readonly enqueued: Job[];
  /** Jobs of every UpdateJob call, in arrival order. */
  readonly updates: Job[];
  /** Most UpdateJob calls seen in flight at once. */
  readonly maxConcurrentUpdates: number;
  /** Delay before UpdateJob answers. */
  updateDelayMs: number;
  /** Delay before ListJobs answers. */
  listDelayMs: number;
  watcherCount(): number;
  /** Resolves once `predicate` holds, re-checked on every change; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function matches(filter: AttestationFilter | undefined, a: Attestation): boolean {
  if (!filter) return true;
  const any = (wanted: string[], have: string[]) => wanted.length === 0 || wanted.some((w) => have.includes(w));
  if (!any(filter.subjects, a.subjects) || !any(filter.predicates, a.predicates) || !any(filter.contexts, a.contexts) || !any(filter.actors, a.actors)) return false;
  if (filter.timeStart !== undefined && a.timestamp < filter.timeStart) return false;
  if (filter.timeEnd !== undefined && a.timestamp > filter.timeEnd) return false;
  return true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startFakeHost(options: FakeHostOptions): Promise<FakeHost> {
  const events = new EventEmitter();
  events.setMaxListeners(100);
  const attestations: Attestation[] = [];
  const enqueued: Job[] = [];
  const updates: Job[] = [];
  const watchers = new Set<{ filter: AttestationFilter | undefined; call: grpc.ServerWritableStream<unknown, Attestation> }>();
  let created = 0;
  let inFlightUpdates = 0;
  const state = { maxConcurrentUpdates: 0, updateDelayMs: 0, listDelayMs: 0 };
  const changed = () => events.emit("change");
  const authorized = (token: string) => token === options.token;

  function store(command: AttestationCommand): Attestation {
    const predicates = command.predicates.length > 0 ? command.predicates : ["_"];
    const contexts = command.contexts.length > 0 ? command.contexts : ["_"];
    const now = Date.now();
    const attestation: Attestation = {
      id: `AS-${command.subjects[0]}-${predicates[0]}-${contexts[0]}-${String(++created).padStart(8, "0")}`,
      subjects: command.subjects,
      predicates,
      contexts,
      actors: command.actors,
      timestamp: command.timestamp ?? now,
      source: command.source || "plugin",
      attributes: command.attributes,
      createdAt: now * 1000 + created, // strictly increasing: "newest first" is stable
      signature: Buffer.alloc(0),
      signerDid: "",
    };
    attestations.push(attestation);
    for (const watcher of watchers) if (matches(watcher.filter, attestation)) watcher.call.write(attestation);
    changed();
    return attestation;
  }

  function select(filter: AttestationFilter | undefined): Attestation[] {
    const found = attestations.filter((a) => matches(filter, a)).sort((a, b) => b.createdAt - a.createdAt);
    return filter?.limit ? found.slice(0, filter.limit) : found;
  }

  const ats: ATSStoreServiceServer = {
    createAttestation: (_call, cb) => cb(null, { success: false, error: "deprecated" }),
    attestationExists: (call, cb) => cb(null, { exists: authorized(call.request.authToken) && attestations.some((a) => a.id === call.request.id) }),
    generateAndCreateAttestation: (call, cb) => {
      if (!authorized(call.request.authToken)) return cb(null, { success: false, error: BAD_TOKEN });
      if (!call.request.command) return cb(null, { success: false, error: "command is required" });
      cb(null, { success: true, error: "", attestation: store(call.request.command) });
    },
    batchGenerateAndCreateAttestations: (call, cb) => {
      if (!authorized(call.request.authToken)) return cb(null, { success: false, error: BAD_TOKEN, created: 0 });
      for (const command of call.request.commands) store(command);
      cb(null, { success: true, error: "", created: call.request.commands.length });
    },
    getAttestations: (call, cb) => {
      if (!authorized(call.request.authToken)) return cb(null, { success: false, error: BAD_TOKEN, attestations: [] });
      cb(null, { success: true, error: "", attestations: select(call.request.filter) });
    },
    getAttestationsStream: (call) => {
      if (!authorized(call.request.authToken)) return call.emit("error", { code: grpc.status.UNAUTHENTICATED, details: BAD_TOKEN });
      for (const a of select(call.request.filter)) call.write(a);
      call.end();
    },
    watchAttestations: (call) => {
      if (!authorized(call.request.authToken)) return call.emit("error", { code: grpc.status.UNAUTHENTICATED, details: BAD_TOKEN });
      const watcher = { filter: call.request.filter, call: call as grpc.ServerWritableStream<unknown, Attestation> };
      watchers.add(watcher);
      call.on("cancelled", () => {
        watchers.delete(watcher);
        changed();
      });
      changed();
    },
  };
  if (options.withoutWatch) delete (ats as Partial<ATSStoreServiceServer>).watchAttestations;

  const queue: QueueServiceServer = {
    enqueue: (call, cb) => {
      if (!authorized(call.request.authToken)) return cb(null, { success: false, error: BAD_TOKEN, jobId: "" });
      const job = { ...call.request.job!, id: call.request.job?.id || `job-${enqueued.length + 1}`, status: "queued" };
      enqueued.push(job);
      changed();
      cb(null, { success: true, error: "", jobId: job.id });
    },
    getJob: (call, cb) => {
      if (!authorized(call.request.authToken)) return cb(null, { success: false, error: BAD_TOKEN });
      const job = enqueued.find((j) => j.id === call.request.jobId);
      cb(null, job ? { success: true, error: "", job } : { success: false, error: `job ${call.request.jobId} not found` });
    },
    updateJob: (call, cb) => {
      if (!authorized(call.request.authToken)) return cb(null, { success: false, error: BAD_TOKEN });
      inFlightUpdates++;
      state.maxConcurrentUpdates = Math.max(state.maxConcurrentUpdates, inFlightUpdates);
      void sleep(state.updateDelayMs).then(() => {
        inFlightUpdates--;
        updates.push(call.request.job!);
        changed();
        cb(null, { success: true, error: "" });
      });
    },
    listJobs: (call, cb) => {
      void sleep(state.listDelayMs).then(() => {
        if (!authorized(call.request.authToken)) return cb(null, { success: false, error: BAD_TOKEN, jobs: [] });
        const jobs = enqueued.filter((j) => !call.request.status || j.status === call.request.status);
        cb(null, { success: true, error: "", jobs: call.request.limit ? jobs.slice(0, call.request.limit) : jobs });
      });
    },
  };

  const server = new grpc.Server();
  server.addService(ATSStoreServiceService, ats);
  server.addService(QueueServiceService, queue);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    address: `127.0.0.1:${port}`,
    attestations,
    enqueued,
    updates,
    get maxConcurrentUpdates() {
      return state.maxConcurrentUpdates;
    },
    get updateDelayMs() {
      return state.updateDelayMs;
    },
    set updateDelayMs(ms: number) {
      state.updateDelayMs = ms;
    },
    get listDelayMs() {
      return state.listDelayMs;
    },
    set listDelayMs(ms: number) {
      state.listDelayMs = ms;
    },
    watcherCount: () => watchers.size,
    waitFor(predicate, timeoutMs = 5_000) {
      if (predicate()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off("change", check);
          reject(new Error(`fake host: condition not met within ${timeoutMs} ms`));
        }, timeoutMs);
        function check(): void {
          if (!predicate()) return;
          clearTimeout(timer);
          events.off("change", check);
          resolve();
        }
        events.on("change", check);
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    }),
  };
}
