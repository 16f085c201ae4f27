/** The ATS and queue clients against the fake host: through job contexts and on their own. */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { InitializeRequest, type Attestation, type ExecuteJobRequest, type ExecuteJobResponse, type InitializeResponse } from "@qntx/protocol";
import {
  createAtsClient,
  createQueueClient,
  definePlugin,
  HostServiceError,
  isHostServiceError,
  startPlugin,
  type AtsClient,
  type PluginHandle,
  type QueueClient,
} from "../src/index.js";
import { BAD_TOKEN, startFakeHost, type FakeHost } from "./fake-host.js";
import { call, dial } from "./helpers.js";

const TOKEN = "tok-clients";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

let fake: FakeHost;

const plugin = definePlugin({
  metadata: { name: "writer", version: "0.3.0" },
  handlers: {
    "write-read": async (payload, ctx) => {
      const { tag } = payload as { tag: string };
      const one = await ctx.ats!.create({ subjects: [tag], predicates: ["seen"], contexts: ["writer"], attributes: { n: 1 } });
      const created = await ctx.ats!.createMany([
        { subjects: [tag], predicates: ["seen"], contexts: ["writer"], attributes: { n: 2 } },
        { subjects: [tag], predicates: ["other"] },
      ]);
      const queried = await ctx.ats!.query({ subjects: [tag], predicates: ["seen"] });
      const streamed = await collect(ctx.ats!.stream({ subjects: [tag] }));
      return {
        id: one.id,
        source: one.source,
        created,
        queried: queried.map((a) => a.attributes?.n),
        streamed: streamed.length,
        exists: await ctx.ats!.exists(one.id),
        missing: await ctx.ats!.exists("AS-nope"),
      };
    },
    watch: async (_payload, ctx) => {
      const stop = new AbortController();
      const iterator = ctx.ats!.watch({ subjects: ["watched"] }, { signal: stop.signal })[Symbol.asyncIterator]();
      const first = iterator.next(); // starts the call
      await fake.waitFor(() => fake.watcherCount() === 1);
      await ctx.ats!.create({ subjects: ["ignored"] });
      await ctx.ats!.create({ subjects: ["watched"], predicates: ["ping"] });
      const received = await first;
      stop.abort();
      const after = await iterator.next();
      await fake.waitFor(() => fake.watcherCount() === 0);
      return { subjects: (received.value as Attestation).subjects, predicates: (received.value as Attestation).predicates, ended: after.done };
    },
    spawn: async (payload, ctx) => ctx.queue!.enqueue({ handler: "writer/write-read", payload, parentJobId: ctx.jobId, costEstimate: 2 }),
  },
});

let handle: PluginHandle;
let pluginClient: ReturnType<typeof dial>;

const run = async (handlerName: string, payload?: unknown): Promise<ExecuteJobResponse> => {
  const res = await call<ExecuteJobRequest, ExecuteJobResponse>(pluginClient, pluginClient.executeJob, {
    jobId: `job-${handlerName}`,
    handlerName,
    payload: Buffer.from(payload === undefined ? "" : JSON.stringify(payload)),
  });
  if (!res.success) throw new Error(`job ${handlerName} failed: ${res.error}`);
  return res;
};
const resultJson = (res: ExecuteJobResponse): unknown => JSON.parse(Buffer.from(res.result).toString("utf8"));

beforeAll(async () => {
  fake = await startFakeHost({ token: TOKEN });
  handle = await startPlugin(plugin);
  pluginClient = dial(handle.address);
  await call<InitializeRequest, InitializeResponse>(
    pluginClient,
    pluginClient.initialize,
    InitializeRequest.fromPartial({ atsStoreEndpoint: fake.address, queueEndpoint: fake.address, authToken: TOKEN }),
  );
});

afterAll(async () => {
  pluginClient?.close();
  await handle?.close({ force: true });
  await fake?.close();
});

describe("ctx.ats in a job handler", () => {
  it("creates, batch-creates, queries, streams and checks existence", async () => {
    const result = resultJson(await run("write-read", { tag: "doc-1" })) as Record<string, unknown>;
    expect(result).toEqual({ id: expect.stringMatching(/^AS-doc-1-seen-writer-/), source: "plugin", created: 2, queried: [2, 1], streamed: 3, exists: true, missing: false });
    expect(fake.attestations.filter((a) => a.subjects.includes("doc-1"))).toHaveLength(3);
  });

  it("watches: receives a later create and stops when aborted", async () => {
    expect(resultJson(await run("watch"))).toEqual({ subjects: ["watched"], predicates: ["ping"], ended: true });
  });
});

describe("ctx.queue in a job handler", () => {
  it("enqueues a job that reaches the host's queue", async () => {
    // A string result travels as UTF-8 text, not JSON.
    const jobId = Buffer.from((await run("spawn", { tag: "child" })).result).toString("utf8");
    expect(jobId).toMatch(/^job-\d+$/);
    const job = fake.enqueued.find((j) => j.id === jobId);
    expect(job).toMatchObject({ handlerName: "writer/write-read", source: "writer", parentJobId: "job-spawn", costEstimate: 2 });
    expect(JSON.parse(Buffer.from(job!.payload).toString())).toEqual({ tag: "child" });
  });
});

describe("clients on their own", () => {
  let ats: AtsClient;
  let badAts: AtsClient;
  let queue: QueueClient;
  let badQueue: QueueClient;

  beforeAll(() => {
    ats = createAtsClient(fake.address, TOKEN);
    badAts = createAtsClient(fake.address, "wrong");
    queue = createQueueClient(fake.address, TOKEN, { timeoutMs: 2_000 });
    badQueue = createQueueClient(fake.address, "wrong");
  });

  afterAll(() => {
    for (const c of [ats, badAts, queue, badQueue]) c?.close();
  });

  it("throws HostServiceError with the host's message on a bad token", async () => {
    const err = await badAts.query({ subjects: ["x"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostServiceError);
    expect(isHostServiceError(err)).toBe(true);
    expect(err).toMatchObject({ code: "HOST_ERROR", message: BAD_TOKEN, method: "ATSStoreService/GetAttestations", grpcCode: undefined });
    await expect(badAts.create({ subjects: ["x"] })).rejects.toMatchObject({ code: "HOST_ERROR", message: BAD_TOKEN });
    await expect(badAts.createMany([{ subjects: ["x"] }])).rejects.toMatchObject({ message: BAD_TOKEN });
    await expect(badQueue.enqueue({ handler: "a/b" })).rejects.toMatchObject({ code: "HOST_ERROR", message: BAD_TOKEN });
    expect(await badAts.exists(fake.attestations[0]!.id)).toBe(false);
  });

  it("ends a stream with a bad token in a HostServiceError carrying the gRPC status", async () => {
    const err = await collect(badAts.stream({})).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "HOST_CALL_FAILED", grpcCode: grpc.status.UNAUTHENTICATED });
    expect((err as Error).message).toContain(BAD_TOKEN);
  });

  it("applies filter limits and time bounds", async () => {
    await ats.createMany([10, 20, 30].map((t) => ({ subjects: ["timed"], timestamp: t })));
    expect((await ats.query({ subjects: ["timed"], limit: 2 })).map((a) => a.timestamp)).toEqual([30, 20]);
    expect((await ats.query({ subjects: ["timed"], timeStart: 15, timeEnd: 25 })).map((a) => a.timestamp)).toEqual([20]);
  });

  it("cancels the watch when the loop breaks early", async () => {
    const received: string[] = [];
    const loop = (async () => {
      for await (const a of ats.watch({ subjects: ["brk"] })) {
        received.push(a.id);
        break;
      }
    })();
    await fake.waitFor(() => fake.watcherCount() === 1);
    await ats.create({ subjects: ["brk"] });
    await loop;
    await fake.waitFor(() => fake.watcherCount() === 0);
    expect(received).toHaveLength(1);
  });

  it("ends a watch at once when the signal is already aborted", async () => {
    const stop = new AbortController();
    stop.abort();
    expect(await collect(ats.watch({}, { signal: stop.signal }))).toEqual([]);
  });

  it("reports UNIMPLEMENTED when the host has no WatchAttestations (QNTX)", async () => {
    const qntxLike = await startFakeHost({ token: TOKEN, withoutWatch: true });
    const c = createAtsClient(qntxLike.address, TOKEN);
    try {
      const err = await collect(c.watch({})).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "HOST_CALL_FAILED", grpcCode: grpc.status.UNIMPLEMENTED, method: "ATSStoreService/WatchAttestations" });
    } finally {
      c.close();
      await qntxLike.close();
    }
  });

  it("enqueues, gets, updates and lists jobs", async () => {
    const id = await queue.enqueue({ handler: "writer/write-read", payload: { tag: "q" }, source: "test" });
    const job = await queue.get(id);
    expect(job).toMatchObject({ id, handlerName: "writer/write-read", source: "test", status: "queued" });
    await queue.update({ id, status: "paused" });
    expect(fake.updates.at(-1)).toMatchObject({ id, status: "paused" });
    expect((await queue.list({ status: "queued" })).map((j) => j.id)).toContain(id);
    expect(await queue.list({ limit: 1 })).toHaveLength(1);
    await expect(queue.get("job-missing")).rejects.toMatchObject({ code: "HOST_ERROR", message: "no job with id job-missing" });
  });

  it("fails a call past its deadline, overridable per call", async () => {
    fake.listDelayMs = 300;
    try {
      const err = await queue.list({}, { timeoutMs: 50 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "HOST_CALL_FAILED", grpcCode: grpc.status.DEADLINE_EXCEEDED, method: "QueueService/ListJobs" });
      expect(Array.isArray(await queue.list({}))).toBe(true); // the client's 2 s default is enough
    } finally {
      fake.listDelayMs = 0;
    }
  });

  it("rejects with the signal's reason when a call is aborted", async () => {
    fake.listDelayMs = 300;
    try {
      const stop = new AbortController();
      const pending = queue.list({}, { signal: stop.signal });
      stop.abort(new Error("stop now"));
      await expect(pending).rejects.toThrow("stop now");
    } finally {
      fake.listDelayMs = 0;
    }
  });
});
