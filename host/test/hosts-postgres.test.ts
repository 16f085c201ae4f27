/**
 * Two real hosts on one PostgreSQL database, each with its own data dir: a job enqueued on
 * host A runs on host B when only B runs the plugin that announces its handler; an attestation
 * written through one host reaches the other's queries; a watcher whose plugin runs on both
 * hosts enqueues one job per attestation, not one per host.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import { jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";
import { pulseApi } from "./helpers/pulse-api.js";

const describePg = pgSkipReason() ? describe.skip : describe;

describePg("two hosts on one PostgreSQL database", () => {
  let db: TestDatabase;
  let a: TestHost;
  let b: TestHost;
  beforeAll(async () => {
    db = await createTestDatabase();
    // A runs `watcher` only; B runs `worker` and `watcher`. Started together: they migrate once, in turn.
    [a, b] = await Promise.all([
      startTestHost(jobPluginTable("watcher", ["--watch"]), { database: db.url }),
      startTestHost(jobPluginTable("worker") + jobPluginTable("watcher", ["--watch"]), { database: db.url }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it("a job enqueued on host A runs on host B, the only one running its plugin", async () => {
    const onA = pulseApi(() => a);
    const job = await onA.enqueue({ handler: "worker/echo", payload: { from: "A" } });
    const done = await onA.waitFor(job.id, ["completed", "failed"]);
    expect(done.status).toBe("completed");
    expect(done.result).toEqual({ from: "A" });
    // B ran it: its lease owner was B's Pulse, as B's own view of the job says.
    expect((await pulseApi(() => b).job(job.id)).status).toBe("completed");
    expect((await b.host.pulse.store.get(job.id))!.attempts).toBe(1);
    expect(a.host.registry.list().map((p) => p.name)).toEqual(["watcher"]);
  });

  it("an attestation written through one host is in the other's answers", async () => {
    await b.host.store.generateAndCreate({ subjects: ["cross-host"], predicates: ["seen"], contexts: [], actors: [], source: "", sourceVersion: "" }, { source: "test" });
    const found = await a.host.store.query({ subjects: ["cross-host"], predicates: [], contexts: [], actors: [] });
    expect(found).toHaveLength(1);
  });

  it("a watcher running on both hosts enqueues one job per attestation", async () => {
    const written = await a.host.store.batchGenerateAndCreate(
      ["w1", "w2", "w3"].map((s) => ({ subjects: [s], predicates: ["watched"], contexts: [], actors: [], source: "", sourceVersion: "" })),
      { source: "test" },
    );
    const jobsFor = async () => (await a.host.pulse.list({ handler: "watcher/echo", limit: 100 })).filter((j) => written.some((w) => j.payload.toString().includes(w.id)));
    // Both hosts' watchers saw all three (B through the feed); each attestation ran once.
    const done = await until(async () => {
      const jobs = await jobsFor();
      return jobs.length >= 3 && jobs.every((j) => j.status === "completed") ? jobs : undefined;
    }, "the watcher's jobs to complete");
    expect(done).toHaveLength(3);
    // B's watcher has had its look at all three too: its copies were refused as duplicates.
    await until(() => b.host.store.query({ subjects: ["w3"], predicates: [], contexts: [], actors: [] }).then((r) => (r.length ? r : undefined)), "w3 on B");
    expect(await jobsFor()).toHaveLength(3);
  });

  it("reports the shared database in its log, with the password masked", async () => {
    const line = await until(() => a.logs.find((l) => l.msg === "attestations and Pulse on PostgreSQL"), "the database log line");
    expect(line.database).toBe(new URL(db.url).toString());
  });
});
