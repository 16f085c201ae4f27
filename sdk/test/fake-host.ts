/**
 * The SDK tests' fake host: the public one of `@qntx/sdk/testing` (src/testing/fake-host.ts)
 * under the names these tests were written with (`enqueued`, `updateDelayMs`, …).
 */
import { createFakeHost, INVALID_TOKEN, type FakeHost as PublicFakeHost } from "../src/testing/index.js";

export const BAD_TOKEN = INVALID_TOKEN;

export interface FakeHostOptions {
  token: string;
  /** Leave WatchAttestations out, as a QNTX host does (grpc-js answers UNIMPLEMENTED). */
  withoutWatch?: boolean;
}

/** The public fake host plus the older names. */
export interface FakeHost extends PublicFakeHost {
  /** Jobs enqueued (the public `jobs`). */
  readonly enqueued: PublicFakeHost["jobs"];
  /** Most UpdateJob calls seen in flight at once. */
  readonly maxConcurrentUpdates: number;
  /** Delay before UpdateJob answers. */
  updateDelayMs: number;
  /** Delay before ListJobs answers. */
  listDelayMs: number;
}

export async function startFakeHost(options: FakeHostOptions): Promise<FakeHost> {
  const host = await createFakeHost(options);
  return Object.defineProperties(host, {
    enqueued: { get: () => host.jobs },
    maxConcurrentUpdates: { get: () => host.maxInFlight("UpdateJob") },
    updateDelayMs: { set: (ms: number) => host.setDelay("UpdateJob", ms) },
    listDelayMs: { set: (ms: number) => host.setDelay("ListJobs", ms) },
  }) as FakeHost;
}
