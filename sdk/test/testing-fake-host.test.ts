/**
 * The fake host of @qntx/sdk/testing over real gRPC, through the SDK's own clients (what a
 * plugin's ctx.ats / ctx.queue use) and a raw client for what they cannot send (unset filter).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { ATSStoreServiceClient, type GetAttestationsRequest, type GetAttestationsResponse } from "@qntx/protocol";
import { createAtsClient, createQueueClient, type AtsClient, type QueueClient } from "../src/index.js";
import { createFakeHost, INVALID_TOKEN, type FakeHost } from "../src/testing/index.js";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

let host: FakeHost;
let ats: AtsClient;
let queue: QueueClient;

beforeAll(async () => {
  host = await createFakeHost({ token: "tok" });
  ats = createAtsClient(host.address, "tok", { timeoutMs: 3_000 });
  queue = createQueueClient(host.address, "tok", { timeoutMs: 3_000 });
});

afterAll(async () => {
  ats?.close();
  queue?.close();
  await host?.close();
});

afterEach(() => host.reset());

describe("attestation filters", () => {
  beforeEach(() => {
    host.seed(
      { subjects: ["a"], predicates: ["p1"], contexts: ["c1"], actors: ["x"], timestamp: 10, createdAt: 1_000 },
      { subjects: ["b"], predicates: ["p2"], contexts: ["c1"], actors: ["y"], timestamp: 20, createdAt: 2_000 },
      { subjects: ["a", "b"], predicates: ["p2"], contexts: ["c2"], actors: [], timestamp: 30, createdAt: 3_000 },
    );
  });
  const subjectsOf = async (filter: Parameters<AtsClient["query"]>[0]) => (await ats.query(filter)).map((a) => a.subjects.join("+"));

  it("ORs values within a dimension and ANDs dimensions, newest created_at first", async () => {
    expect(await subjectsOf({ subjects: ["a", "b"] })).toEqual(["a+b", "b", "a"]);
    expect(await subjectsOf({ subjects: ["a"], predicates: ["p2"] })).toEqual(["a+b"]);
    expect(await subjectsOf({ predicates: ["p1", "p2"], contexts: ["c1"] })).toEqual(["b", "a"]);
    expect(await subjectsOf({ actors: ["nobody"] })).toEqual([]);
    expect(await subjectsOf({})).toEqual(["a+b", "b", "a"]);
  });

  it("takes time bounds as inclusive, 0 as a real bound, and limit 0 as none", async () => {
    expect(await subjectsOf({ timeStart: 20, timeEnd: 30 })).toEqual(["a+b", "b"]);
    expect(await subjectsOf({ timeEnd: 10 })).toEqual(["a"]);
    expect(await subjectsOf({ timeStart: 0, timeEnd: 0 })).toEqual([]);
    expect(await subjectsOf({ limit: 2 })).toEqual(["a+b", "b"]);
    expect(await subjectsOf({ limit: 0 })).toHaveLength(3);
    expect((await collect(ats.stream({ subjects: ["b"], limit: 1 }))).map((a) => a.subjects)).toEqual([["a", "b"]]);
  });

  it("answers a request with no filter with a body error, not a crash", async () => {
    const raw = new ATSStoreServiceClient(host.address, grpc.credentials.createInsecure());
    try {
      const res = await new Promise<GetAttestationsResponse>((resolve, reject) =>
        raw.getAttestations({ authToken: "tok" } as GetAttestationsRequest, (err, value) => (err ? reject(err) : resolve(value))),
      );
      expect(res).toMatchObject({ success: false, error: "filter is required (the request left it unset)", attestations: [] });
    } finally {
      raw.close();
    }
  });
});

describe("creating attestations", () => {
  it("generates AS- ids and applies the host's defaults", async () => {
    const created = await ats.create({ subjects: ["doc 1/x"], attributes: { n: 1 }, sourceVersion: "2.0" });
    expect(created.id).toMatch(/^AS-doc1x-_-_-[a-z0-9]{8}$/);
    expect(created).toMatchObject({ predicates: ["_"], contexts: ["_"], source: "plugin", attributes: { n: 1, source_version: "2.0" } });
    expect(created.timestamp).toBeGreaterThan(0);
    const zero = await ats.create({ subjects: ["z"], timestamp: 0, source: "mine" });
    expect(zero).toMatchObject({ timestamp: 0, source: "mine" });
    expect(await ats.exists(created.id)).toBe(true);
    expect(host.attestations.map((a) => a.id)).toEqual([created.id, zero.id]);
  });

  it("refuses a batch with one bad command as a whole", async () => {
    await expect(ats.createMany([{ subjects: ["ok"] }, { subjects: [] }])).rejects.toMatchObject({ code: "HOST_ERROR", message: "attestation needs at least one subject" });
    expect(host.attestations).toHaveLength(0);
    expect(await ats.createMany([{ subjects: ["a"] }, { subjects: ["b"] }])).toBe(2);
  });

  it("stamps the source of an issued token with its plugin name", async () => {
    const named = createAtsClient(host.address, host.issueToken("indexer"));
    try {
      expect((await named.create({ subjects: ["s"] })).source).toBe("indexer");
    } finally {
      named.close();
    }
  });

  it("streams new attestations to a watcher whose filter matches", async () => {
    const stop = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const a of ats.watch({ predicates: ["wanted"] }, { signal: stop.signal })) {
        seen.push(a.subjects[0]!);
        if (seen.length === 2) stop.abort();
      }
    })();
    await host.waitFor(() => host.watcherCount() === 1);
    host.seed({ subjects: ["one"], predicates: ["wanted"] }, { subjects: ["skip"], predicates: ["other"] });
    await ats.create({ subjects: ["two"], predicates: ["wanted"] });
    await loop;
    expect(seen).toEqual(["one", "two"]);
    await host.waitFor(() => host.watcherCount() === 0);
  });

  it("answers UNIMPLEMENTED for WatchAttestations when told to act as QNTX", async () => {
    const qntx = await createFakeHost({ token: "tok", withoutWatch: true });
    const client = createAtsClient(qntx.address, "tok");
    try {
      await expect(collect(client.watch({}))).rejects.toMatchObject({ grpcCode: grpc.status.UNIMPLEMENTED });
    } finally {
      client.close();
      await qntx.close();
    }
  });
});

describe("tokens", () => {
  it("answers a bad token with the body error, exists:false and UNAUTHENTICATED on streams", async () => {
    const [known] = host.seed({ subjects: ["k"] });
    const bad = createAtsClient(host.address, "tok-but-wrong");
    const badQueue = createQueueClient(host.address, "");
    try {
      await expect(bad.query({})).rejects.toMatchObject({ code: "HOST_ERROR", message: INVALID_TOKEN });
      await expect(bad.create({ subjects: ["x"] })).rejects.toMatchObject({ message: INVALID_TOKEN });
      expect(await bad.exists(known!.id)).toBe(false);
      await expect(collect(bad.stream({}))).rejects.toMatchObject({ grpcCode: grpc.status.UNAUTHENTICATED });
      await expect(collect(bad.watch({}))).rejects.toMatchObject({ grpcCode: grpc.status.UNAUTHENTICATED });
      await expect(badQueue.list()).rejects.toMatchObject({ code: "HOST_ERROR", message: INVALID_TOKEN });
      expect(host.attestations).toHaveLength(1);
    } finally {
      bad.close();
      badQueue.close();
    }
  });

  it("refuses a revoked token", async () => {
    const token = host.issueToken("gone");
    const client = createAtsClient(host.address, token);
    try {
      await client.create({ subjects: ["before"] });
      host.revokeToken(token);
      await expect(client.create({ subjects: ["after"] })).rejects.toMatchObject({ message: INVALID_TOKEN });
    } finally {
      client.close();
    }
  });
});

describe("queue", () => {
  it("fills id, status, created_at and source on Enqueue and refuses a bad status", async () => {
    const id = await queue.enqueue({ handler: "p/run", payload: { n: 1 } });
    const job = await queue.get(id);
    expect(job).toMatchObject({ id, handlerName: "p/run", status: "queued", source: "" });
    expect(job.createdAt).toBeGreaterThan(1_600_000_000);
    expect(JSON.parse(Buffer.from(job.payload).toString())).toEqual({ n: 1 });
    expect(host.jobs.map((j) => j.id)).toEqual([id]);
    expect(() => host.enqueue({ handlerName: "p/x", status: "running" })).toThrow('a new job must be "queued" or "paused", not "running"');
    const named = createQueueClient(host.address, host.issueToken("sched"));
    try {
      expect((await queue.get(await named.enqueue({ handler: "p/x", source: "" }))).source).toBe("sched");
    } finally {
      named.close();
    }
  });

  it("applies UpdateJob progress and cost, records every call, and refuses unknown or ended jobs", async () => {
    const id = await queue.enqueue({ handler: "p/run" });
    await queue.update({ id, progress: { current: 2, total: 5 }, costActual: 0.5, status: "running" });
    expect(host.job(id)).toMatchObject({ progress: { current: 2, total: 5 }, costActual: 0.5, status: "queued" });
    await expect(queue.update({ id: "nope" })).rejects.toMatchObject({ message: "no job with id nope" });
    await expect(queue.get("nope")).rejects.toMatchObject({ message: "no job with id nope" });
    host.job(id)!.status = "completed";
    await expect(queue.update({ id, progress: { current: 5, total: 5 } })).rejects.toMatchObject({ message: `job ${id} is already completed; progress can only be updated before it ends` });
    expect(host.updates.map((u) => u.id)).toEqual([id, "nope", id]);
  });

  it("lists newest first, by status, with the limit, and names a bad status", async () => {
    const first = await queue.enqueue({ handler: "p/a" });
    const second = await queue.enqueue({ handler: "p/b" });
    host.enqueue({ handlerName: "p/c", status: "paused" });
    expect((await queue.list()).map((j) => j.handlerName)).toEqual(["p/c", "p/b", "p/a"]);
    expect((await queue.list({ status: "queued" })).map((j) => j.id)).toEqual([second, first]);
    expect(await queue.list({ limit: 1 })).toHaveLength(1);
    await expect(queue.list({ status: "done" })).rejects.toMatchObject({ message: expect.stringMatching(/^unknown job status "done"/) });
  });
});

describe("waiting and delays", () => {
  it("resolves waits on later writes and rejects a wait that is never met, naming it", async () => {
    const attestation = host.waitForAttestation({ predicates: ["late"] });
    const job = host.waitForJob({ handlerName: "p/late" });
    const update = host.waitForUpdate((u) => u.progress?.current === 7);
    await ats.create({ subjects: ["s"], predicates: ["late"] });
    const id = await queue.enqueue({ handler: "p/late" });
    await queue.update({ id, progress: { current: 7, total: 9 } });
    expect((await attestation).predicates).toEqual(["late"]);
    expect((await job).id).toBe(id);
    expect((await update).id).toBe(id);
    await expect(host.waitForAttestation({ subjects: ["never"] }, 50)).rejects.toThrow(/gave up after 50 ms waiting for an attestation matching \{"subjects":\["never"\]\}/);
    const stop = new AbortController();
    const waiting = host.waitFor(() => false, { signal: stop.signal });
    stop.abort(new Error("test stopped waiting"));
    await expect(waiting).rejects.toThrow("test stopped waiting");
  });

  it("delays a method so a client's deadline passes, and counts calls in flight", async () => {
    host.setDelay("ListJobs", 300);
    try {
      await expect(queue.list({}, { timeoutMs: 50 })).rejects.toMatchObject({ grpcCode: grpc.status.DEADLINE_EXCEEDED });
    } finally {
      host.setDelay("ListJobs", 0);
    }
    host.setDelay("GetAttestations", 50);
    try {
      await Promise.all([ats.query({}), ats.query({}), ats.query({})]);
    } finally {
      host.setDelay("GetAttestations", 0);
    }
    expect(host.maxInFlight("GetAttestations")).toBe(3);
    expect(host.callCount("GetAttestations")).toBe(3);
    expect(() => host.setDelay("UpdateJob", -1)).toThrow(RangeError);
  });
});
