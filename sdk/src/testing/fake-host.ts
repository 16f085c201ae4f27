/**
 * A fake qntx host for plugin tests: a real grpc-js server on an ephemeral loopback port that
 * serves `ATSStoreService`, `QueueService` and the other host services (schedules, files,
 * fetch, search, LLM, embeddings, vectors: `mesh`) from memory with the host's semantics, so a
 * plugin's `ctx.ats`, `ctx.queue`, `ctx.llm`, … work in a test with no host running. Tests
 * inspect what the plugin wrote (`attestations`, `jobs`, `updates`), seed data, and wait for events.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { ATSStoreServiceService, QueueServiceService, grpcOptions, type Attestation, type Job } from "@qntx/protocol";
import { AttestationStore, type AttestationSeed, type FilterInput } from "./attestation-store.js";
import { CallMeter, type HostMethod } from "./call-meter.js";
import { FakeMesh } from "./fake-mesh.js";
import { createFakeAtsService, createFakeQueueService, notifyWatchers, type Watcher } from "./fake-services.js";
import { JobStore, type JobInput } from "./job-store.js";
import { ChangeFeed, type WaitOptions } from "./waiters.js";

/** Options of {@link createFakeHost}. */
export interface FakeHostOptions {
  /** The host's token (its `source` falls back to `"plugin"`). Default: a random one. */
  token?: string;
  /** Leave `WatchAttestations` out, as a QNTX host does (calls answer UNIMPLEMENTED). */
  withoutWatch?: boolean;
}

/** Which jobs {@link FakeHost.waitForJob} waits for: fields to match, or a predicate. */
export type JobMatch = { id?: string; handlerName?: string; status?: string } | ((job: Job) => boolean);

/** An in-memory host for a plugin under test. Close it (or `await using` it) when done. */
export interface FakeHost {
  /** `host:port` the services listen on: give it as every endpoint of `InitializeRequest` but Ground's. */
  readonly address: string;
  /**
   * The other services' state and knobs: `mesh.setChat("…")`, `mesh.putFile(data, mime)`,
   * `mesh.setFetch(url, {body})`, and what the plugin did: `mesh.schedules`, `mesh.chats`,
   * `mesh.fetches`, `mesh.documents(index)`.
   */
  readonly mesh: FakeMesh;
  /** The token every call must carry (see also {@link FakeHost.issueToken}). */
  readonly token: string;
  /** Every stored attestation, in write order (the live store: reading it is always current). */
  readonly attestations: Attestation[];
  /** Every job, in enqueue order (the live queue), with progress and cost applied by UpdateJob. */
  readonly jobs: Job[];
  /** The job of every UpdateJob call as received, in arrival order (refused calls included). */
  readonly updates: Job[];
  /**
   * A new token for a plugin named `source`: attestations and jobs it writes without a
   * source get that name, as the host stamps each plugin's own. The test helpers use this.
   */
  issueToken(source: string): string;
  /** Makes a token invalid (its calls then answer `invalid authentication token`). */
  revokeToken(token: string): void;
  /** Stores attestations as `GenerateAndCreateAttestation` would (defaults applied); watchers see them. */
  seed(...attestations: AttestationSeed[]): Attestation[];
  /** Adds a job as `Enqueue` would (id, `queued`, created_at filled). */
  enqueue(job: JobInput): Job;
  /** What `GetAttestations` answers for `filter` (all, newest first, when omitted). */
  query(filter?: FilterInput): Attestation[];
  /** The job with `id`, or undefined. */
  job(id: string): Job | undefined;
  /** Resolves once `predicate()` holds, re-checked on every change; rejects after the deadline. */
  waitFor(predicate: () => boolean, options?: WaitOptions | number): Promise<void>;
  /**
   * Resolves with the newest attestation matching `filter` (filter semantics of GetAttestations,
   * or a predicate), already stored or stored later; rejects after the deadline.
   */
  waitForAttestation(filter: FilterInput | ((a: Attestation) => boolean), options?: WaitOptions | number): Promise<Attestation>;
  /** Resolves with the first job matching `match`, already queued or queued later. */
  waitForJob(match: JobMatch, options?: WaitOptions | number): Promise<Job>;
  /** Resolves with the first UpdateJob call (as received) matching `match`. */
  waitForUpdate(match: JobMatch, options?: WaitOptions | number): Promise<Job>;
  /** Open `WatchAttestations` streams. */
  watcherCount(): number;
  /** Delays every later call of `method` by `ms` (0 removes it): tests a plugin's deadlines. */
  setDelay(method: HostMethod, ms: number): void;
  /** How many calls of `method` arrived. */
  callCount(method: HostMethod): number;
  /** Most calls of `method` in flight at once. */
  maxInFlight(method: HostMethod): number;
  /** Forgets attestations, jobs, updates, the mesh's records and call counts (tokens, delays, watchers and set answers stay). */
  reset(): void;
  /** Stops the server (open calls are cut). Idempotent. */
  close(): Promise<void>;
  /** `close()`, for `await using host = await createFakeHost()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What the test helpers need besides the public interface (not exported from the package). */
export interface FakeHostInternals {
  /** Records a job that is being run now (status `running`, started now). */
  beginRun(job: JobInput, source: string): Job;
  /** Sets fields of a job (the end of a run). */
  patchJob(id: string, fields: Partial<Job>): void;
}

const internals = new WeakMap<FakeHost, FakeHostInternals>();

/** The internals of a host made by {@link createFakeHost}; undefined for any other object. */
export function fakeHostInternals(host: FakeHost): FakeHostInternals | undefined {
  return internals.get(host);
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

function jobMatcher(match: JobMatch): (job: Job) => boolean {
  if (typeof match === "function") return match;
  return (job) =>
    (match.id === undefined || job.id === match.id) &&
    (match.handlerName === undefined || job.handlerName === match.handlerName) &&
    (match.status === undefined || job.status === match.status);
}

function describe(value: unknown): string {
  return typeof value === "function" ? "a job matching the predicate" : JSON.stringify(value);
}

/**
 * Starts a fake host on `127.0.0.1:<ephemeral port>`.
 *
 * @example
 * await using host = await createFakeHost();
 * host.seed({ subjects: ["doc-1"], predicates: ["tagged"] });
 * // … run the plugin against host.address with host.token …
 * const note = await host.waitForAttestation({ predicates: ["noted"] });
 */
export async function createFakeHost(options: FakeHostOptions = {}): Promise<FakeHost> {
  const feed = new ChangeFeed();
  const attestations = new AttestationStore();
  const jobs = new JobStore();
  const meter = new CallMeter();
  const watchers = new Set<Watcher>();
  const defaultToken = options.token ?? randomBytes(18).toString("base64url");
  if (defaultToken === "") throw new TypeError("createFakeHost: token must not be empty");
  // Tokens by their digest, compared with timingSafeEqual: how long a check takes does not
  // depend on how much of a guessed token is right.
  const tokens: Array<{ digest: Buffer; source: string }> = [{ digest: digest(defaultToken), source: "" }];
  const sourceOf = (token: string): string | undefined => {
    if (!token) return undefined;
    const given = digest(token);
    let found: string | undefined;
    for (const entry of tokens) if (timingSafeEqual(entry.digest, given)) found = entry.source;
    return found;
  };

  attestations.onStored = (attestation) => {
    notifyWatchers(watchers, attestation);
    feed.changed();
  };
  jobs.onChanged = () => feed.changed();
  const deps = { attestations, jobs, meter, watchers, sourceOf, changed: () => feed.changed() };

  const server = new Server(grpcOptions());
  server.addService(ATSStoreServiceService, createFakeAtsService(deps, { withoutWatch: options.withoutWatch === true }));
  server.addService(QueueServiceService, createFakeQueueService(deps));
  const mesh = new FakeMesh(sourceOf);
  for (const [definition, implementation] of mesh.services()) server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // Watch streams never end by themselves: a graceful stop would wait for them forever.
      server.forceShutdown();
      resolve();
    }));

  const host: FakeHost = {
    address: `127.0.0.1:${port}`,
    mesh,
    token: defaultToken,
    attestations: attestations.attestations,
    jobs: jobs.jobs,
    updates: jobs.updates,
    issueToken(source) {
      if (typeof source !== "string" || source === "") throw new TypeError("issueToken: source must be a non-empty plugin name");
      const token = randomBytes(18).toString("base64url");
      tokens.push({ digest: digest(token), source });
      return token;
    },
    revokeToken(token) {
      const given = digest(token);
      const at = tokens.findIndex((entry) => timingSafeEqual(entry.digest, given));
      if (at >= 0) tokens.splice(at, 1);
    },
    seed: (...items) => attestations.createMany(items, ""),
    enqueue: (job) => jobs.enqueue(job, ""),
    query: (filter) => attestations.select(filter ?? {}),
    job: (id) => jobs.find(id),
    waitFor: (predicate, waitOptions) => feed.until(() => (predicate() ? true : undefined), "the condition", waitOptions).then(() => undefined),
    waitForAttestation(filter, waitOptions) {
      const probe = typeof filter === "function"
        ? () => attestations.select({}).find(filter)
        : () => attestations.select({ ...filter, limit: 1 })[0];
      return feed.until(probe, `an attestation matching ${typeof filter === "function" ? "the predicate" : JSON.stringify(filter)}`, waitOptions);
    },
    waitForJob(match, waitOptions) {
      const matches = jobMatcher(match);
      return feed.until(() => jobs.jobs.find(matches), `a job ${describe(match)}`, waitOptions);
    },
    waitForUpdate(match, waitOptions) {
      const matches = jobMatcher(match);
      return feed.until(() => jobs.updates.find(matches), `an UpdateJob ${describe(match)}`, waitOptions);
    },
    watcherCount: () => watchers.size,
    setDelay: (method, ms) => meter.setDelay(method, ms),
    callCount: (method) => meter.count(method),
    maxInFlight: (method) => meter.maxInFlight(method),
    reset() {
      attestations.clear();
      jobs.clear();
      mesh.clear();
      meter.reset();
      feed.changed();
    },
    close,
    [Symbol.asyncDispose]: close,
  };

  internals.set(host, {
    beginRun: (job, source) => jobs.enqueue({ ...job, status: "running", startedAt: Math.floor(Date.now() / 1000) }, source, true),
    patchJob: (id, fields) => void jobs.patch(id, fields),
  });
  return host;
}

