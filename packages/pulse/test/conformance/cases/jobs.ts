/** The job store's contract (JobStore), for any store: claims, leases, fenced endings, state changes. */
import { expect, it } from "@jest/globals";
import { isPulseError, type NewJobRecord, type PulseJob } from "../../../src/index.js";
import { storeSuite, type StoreSubject } from "../subject.js";

const T0 = Date.UTC(2026, 0, 1);

/** A complete new job `id` for handler `p/h` (or `handler`), due at T0. */
export function record(id: string, extra: Partial<NewJobRecord> = {}): NewJobRecord {
  const handler = extra.handler ?? "p/h";
  return {
    id, handler, plugin: handler.split("/")[0]!, handlerName: handler.split("/")[1]!, payload: Buffer.from(`{"id":"${id}"}`), source: "test",
    status: "queued", priority: 0, runAt: T0, maxAttempts: 3, timeoutSecs: undefined, costEstimate: 0, parentJobId: "", createdAt: T0, ...extra,
  };
}

async function codeOf(work: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await work();
  } catch (err) {
    return isPulseError(err) ? err.code : `not a PulseError: ${String(err)}`;
  }
  return undefined;
}

const fence = (j: PulseJob, owner = "me") => ({ id: j.id, owner, attempt: j.attempts });

/** The job store cases. */
export function jobStoreCases(subject: StoreSubject): void {
  storeSuite(subject, "job store", (open) => {
    it("a claimed job is exactly what the store then holds, every field round-tripped", async () => {
      const { jobs } = await open();
      await jobs.enqueue([record("full", { priority: 3, maxAttempts: 4, timeoutSecs: 7, costEstimate: 1.5, parentJobId: "parent", runAt: T0 - 5 })]);
      await jobs.updateProgress("full", { progress: { current: 2, total: 9 }, costActual: 0.5 }, T0 - 1);
      const [first] = await jobs.claim("me", 5, 30_000, T0);
      expect(first).toEqual(await jobs.get("full"));
      expect(first).toMatchObject({ status: "running", attempts: 1, leaseOwner: "me", leaseExpiresAt: T0 + 30_000, progress: { current: 2, total: 9 }, costActual: 0.5, timeoutSecs: 7, priority: 3 });
      const [failed] = await jobs.finish([{ kind: "fail", fence: fence(first!), job: first!, error: "boom", retryAt: T0, output: { result: Buffer.from("partial"), pluginVersion: "1.2.3" } }], T0);
      expect(failed).toEqual(await jobs.get("full"));
      const [second] = await jobs.claim("me", 5, 30_000, T0 + 1);
      expect(second).toMatchObject({ attempts: 2, error: "boom", pluginVersion: "1.2.3", startedAt: T0 + 1 });
      expect(second!.result).toEqual(Buffer.from("partial"));
    });

    it("claims in dispatch order (priority, run time, insertion), up to the limit, only due jobs of the handlers asked", async () => {
      const { jobs } = await open();
      await jobs.enqueue([record("a"), record("b", { priority: 5 }), record("c", { runAt: T0 - 10 }), record("later", { runAt: T0 + 60_000 }), record("other", { handler: "q/h" })]);
      expect((await jobs.claim("me", 2, 1000, T0, ["p/h"])).map((j) => j.id)).toEqual(["b", "c"]);
      expect((await jobs.claim("me", 10, 1000, T0, ["p/h"])).map((j) => j.id)).toEqual(["a"]);
      expect(await jobs.claim("me", 10, 1000, T0, [])).toEqual([]);
      expect(await jobs.nextRunAt(T0, ["p/h"])).toBe(T0 + 60_000);
      expect(await jobs.nextRunAt(T0, ["q/h"])).toBeUndefined();
      expect((await jobs.claim("me", 10, 1000, T0)).map((j) => j.id)).toEqual(["other"]);
    });

    it("refuses a duplicate id with INVALID_ARGUMENT and keeps the first", async () => {
      const { jobs } = await open();
      await jobs.enqueue([record("dup", { source: "first" })]);
      expect(await codeOf(() => jobs.enqueue([record("dup", { source: "second" })]))).toBe("INVALID_ARGUMENT");
      expect((await jobs.get("dup"))!.source).toBe("first");
      expect((await jobs.list()).length).toBe(1);
    });

    it("renews leases it holds, reports the ones it lost and the ones asked to cancel", async () => {
      const { jobs } = await open();
      await jobs.enqueue([record("keep"), record("cancel"), record("gone")]);
      const claimed = await jobs.claim("me", 3, 1000, T0);
      await jobs.requestCancel("cancel", T0);
      await jobs.expireLeases(T0 + 5000);
      await jobs.enqueue([record("fresh")]);
      const [keep] = await jobs.claim("me", 1, 1000, T0 + 5000, ["p/h"]);
      const res = await jobs.renewLeases("me", [...claimed.map((j) => fence(j)), fence(keep!)], 1000, T0 + 5001);
      // keep's first run is lost even though the same owner holds its second run.
      expect(keep!.id).toBe("keep");
      expect(res.lost.sort()).toEqual(["cancel", "gone", "keep"]);
      expect(res.cancelRequested).toEqual([]);
      expect((await jobs.get("keep"))!.leaseExpiresAt).toBe(T0 + 6001);
      await jobs.requestCancel("keep", T0 + 5002);
      expect(await jobs.renewLeases("me", [fence(keep!)], 1000, T0 + 5003)).toEqual({ lost: [], cancelRequested: ["keep"] });
    });

    it("an expired lease re-queues the job with the attempt counted and the reason, and fails it when out of attempts", async () => {
      const { jobs } = await open();
      await jobs.enqueue([record("once", { maxAttempts: 1 }), record("twice", { maxAttempts: 2 })]);
      const claimed = await jobs.claim("dead-host", 2, 1000, T0);
      expect(await jobs.expireLeases(T0 + 999)).toEqual([]);
      const expired = await jobs.expireLeases(T0 + 1001);
      const byId = Object.fromEntries(expired.map((j) => [j.id, j]));
      expect(byId.twice).toMatchObject({ status: "queued", attempts: 1, leaseOwner: undefined });
      expect(byId.twice!.error).toBe("lease expired: its worker stopped renewing it (attempt 1 of 2)");
      expect(byId.once).toMatchObject({ status: "failed", attempts: 1 });
      // The dead host's late ending is fenced out.
      const late = await jobs.finish([{ kind: "complete", fence: fence(claimed.find((j) => j.id === "twice")!, "dead-host"), job: claimed[0]!, output: {} }], T0 + 2000);
      expect(late).toEqual([]);
      const [again] = await jobs.claim("live-host", 1, 1000, T0 + 2000);
      expect(again).toMatchObject({ id: "twice", attempts: 2, leaseOwner: "live-host" });
    });

    it("completes with output and logs, lists newest first, counts by status", async () => {
      const { jobs } = await open();
      await jobs.enqueue([record("j1"), record("j2")]);
      const [j1] = await jobs.claim("me", 1, 1000, T0);
      const log = { timestamp: "2026-01-01T00:00:00Z", level: "info", message: "did it", stage: "main", metadata: "{}" };
      const [done] = await jobs.finish([{ kind: "complete", fence: fence(j1!), job: j1!, output: { result: Buffer.from("r"), costActual: 0.25, logs: [log] } }], T0 + 10);
      expect(done).toMatchObject({ status: "completed", completedAt: T0 + 10, costActual: 0.25 });
      await jobs.appendLogs("j1", [{ ...log, message: "after" }]);
      expect((await jobs.logs("j1")).map((l) => [l.attempt, l.message])).toEqual([[1, "did it"], [1, "after"]]);
      expect((await jobs.list()).map((j) => j.id)).toEqual(["j2", "j1"]);
      expect((await jobs.list({ status: "completed" })).map((j) => j.id)).toEqual(["j1"]);
      expect(await jobs.counts()).toEqual({ completed: 1, queued: 1 });
      expect(await codeOf(() => jobs.list({ status: "bogus" }))).toBe("INVALID_ARGUMENT");
    });

    it("cancels, pauses, resumes and retries by the state rules", async () => {
      const { jobs } = await open();
      await jobs.enqueue([record("q"), record("p"), record("r")]);
      expect((await jobs.pause("p", T0)).status).toBe("paused");
      expect((await jobs.pause("p", T0)).status).toBe("paused");
      expect((await jobs.requestCancel("q", T0)).status).toBe("cancelled");
      const [running] = await jobs.claim("me", 1, 1000, T0);
      expect((await jobs.requestCancel(running!.id, T0)).cancelRequested).toBe(true);
      expect(await codeOf(() => jobs.retry("p", T0))).toBe("INVALID_STATE");
      expect((await jobs.resume("p", T0)).status).toBe("queued");
      expect((await jobs.retry("q", T0 + 1))).toMatchObject({ status: "queued", attempts: 0, error: "" });
      expect(await codeOf(() => jobs.requestCancel("nope", T0))).toBe("NOT_FOUND");
      expect(await codeOf(() => jobs.updateProgress(running!.id, { progress: { current: 1, total: 2 } }, T0))).toBeUndefined();
    });

    it("claims ahead without counting the attempt, starts, gives back", async () => {
      const { jobs } = await open();
      await jobs.enqueue([record("run"), record("ahead1"), record("ahead2")]);
      const { claimed } = await jobs.finishAndClaim([], { owner: "me", limit: 1, leaseMs: 1000, reserve: 2 }, T0);
      expect(claimed.map((j) => [j.id, j.status, j.attempts])).toEqual([["run", "running", 1], ["ahead1", "queued", 0], ["ahead2", "queued", 0]]);
      // Reserved jobs are nobody else's to claim.
      expect(await jobs.claim("other", 5, 1000, T0)).toEqual([]);
      await jobs.finish([{ kind: "start", fence: { id: "ahead1", owner: "me", attempt: 1 }, job: claimed[1]! }], T0);
      expect((await jobs.get("ahead1"))).toMatchObject({ status: "running", attempts: 1 });
      const [back] = await jobs.finish([{ kind: "unreserve", fence: { id: "ahead2", owner: "me", attempt: 1 }, job: claimed[2]! }], T0);
      expect(back).toMatchObject({ status: "queued", attempts: 0, leaseOwner: undefined });
    });

    it("enqueue-and-claim runs new jobs in the enqueue's own transaction", async () => {
      const { jobs } = await open();
      const { enqueued, claimed } = await jobs.enqueueAndClaim([record("n1"), record("n2")], { owner: "me", limit: 1, leaseMs: 1000, handlers: ["p/h"] }, T0);
      expect(enqueued.map((j) => j.id)).toEqual(["n1", "n2"]);
      expect(claimed.map((j) => [j.id, j.status, j.leaseOwner])).toEqual([["n1", "running", "me"]]);
      expect(await jobs.counts()).toEqual({ running: 1, queued: 1 });
    });

    it("two hosts claiming at once never take the same job", async () => {
      const opened = await open();
      const second = (await opened.another()).jobs;
      await opened.jobs.enqueue(Array.from({ length: 40 }, (_, i) => record(`c${i}`)));
      const [a, b] = await Promise.all([opened.jobs.claim("host-a", 25, 1000, T0), second.claim("host-b", 25, 1000, T0)]);
      const ids = [...a, ...b].map((j) => j.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(40);
    });
  });
}
