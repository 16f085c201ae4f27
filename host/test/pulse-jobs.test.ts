/**
 * Pulse end to end with real plugin processes: handler announcement and routing (namespaced
 * `plugin/handler`, bare names when unique), retries with backoff and final failure, deadlines,
 * cancellation reaching the plugin, a plugin killed mid-job, schedules, built-in handlers.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SqliteJobStore } from "@qntx/pulse";
import { adminHeaders, http, jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";
import { pluginInState, pluginReaches } from "./helpers/events.js";
import { pulseApi, type JobJson } from "./helpers/pulse-api.js";

let t: TestHost;

async function enqueue(body: Record<string, unknown>): Promise<{ status: number; job: JobJson; error?: string }> {
  const res = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify(body) });
  const json = res.json();
  return { status: res.status, job: json.job, error: json.error };
}

const { job, waitFor } = pulseApi(() => t);

beforeAll(async () => {
  t = await startTestHost(jobPluginTable("jobsa") + jobPluginTable("jobsb") + jobPluginTable("ticker", ["--schedule"]) + `[plugins.clock]\nbuiltin = "clock"\n`, {
    job_retry_base_ms: 50, job_retry_max_ms: 200, pulse_concurrency: 4,
  });
});

afterAll(async () => {
  await t?.close();
});

describe("routing", () => {
  it("registers announced handlers as plugin/handler", async () => {
    const handlers = (await http(`${t.url}/api/pulse/handlers`)).json().handlers.map((h: { qualified: string }) => h.qualified);
    expect(handlers).toEqual(expect.arrayContaining(["jobsa/echo", "jobsb/echo", "jobsa/only-jobsa", "clock/now"]));
  });

  it("runs a qualified handler on its plugin and stores the result", async () => {
    const { job: queued } = await enqueue({ handler: "jobsa/echo", payload: { hello: "world" } });
    const done = await waitFor(queued.id, ["completed"]);
    expect(done.result).toEqual({ hello: "world" });
    expect(done.pluginVersion).toBe("2.3.4");
  });

  it("accepts a bare name that exactly one plugin announces", async () => {
    const { job: queued } = await enqueue({ handler: "only-jobsb" });
    expect(queued.handler).toBe("jobsb/only-jobsb");
    expect((await waitFor(queued.id, ["completed"])).result).toEqual({ from: "jobsb" });
  });

  it("refuses an ambiguous bare name, naming the candidates", async () => {
    const res = await enqueue({ handler: "echo" });
    expect(res.status).toBe(400);
    expect(res.error).toContain("jobsa/echo");
    expect(res.error).toContain("jobsb/echo");
  });

  it("refuses an unknown handler at enqueue", async () => {
    const res = await enqueue({ handler: "jobsa/nope" });
    expect(res.status).toBe(400);
    expect(res.error).toContain('"nope"');
    expect(res.error).toContain("jobsa/echo");
  });

  it("routes jobs to a built-in plugin the same way", async () => {
    const { job: queued } = await enqueue({ handler: "clock/now" });
    const done = await waitFor(queued.id, ["completed"]);
    expect((done.result as { unixMs: number }).unixMs).toBeGreaterThan(0);
  });
});

describe("execution", () => {
  it("stores progress, cost and logs of a run", async () => {
    const { job: queued } = await enqueue({ handler: "jobsa/slow", payload: { ms: 200, steps: 4 } });
    const done = await waitFor(queued.id, ["completed"]);
    expect(done.progress).toEqual({ current: 4, total: 4 });
    expect(done.costActual).toBe(0.5);
    expect(done.logs).toEqual(expect.arrayContaining([expect.objectContaining({ message: "starting", stage: "slow" })]));
  });

  it("retries a failing job with backoff until it succeeds", async () => {
    const counter = join(t.dir, "flaky-counter");
    const { job: queued } = await enqueue({ handler: "jobsa/flaky", payload: { counter, failTimes: 2 }, max_attempts: 3 });
    const done = await waitFor(queued.id, ["completed", "failed"]);
    expect(done.status).toBe("completed");
    expect(done.attempts).toBe(3);
    expect(done.result).toEqual({ attempt: 3 });
  });

  it("fails a job with the last error once its attempts are spent", async () => {
    const { job: queued } = await enqueue({ handler: "jobsb/always-fail", max_attempts: 2 });
    const done = await waitFor(queued.id, ["failed"]);
    expect(done.attempts).toBe(2);
    expect(done.error).toContain("boom");
  });

  it("stops a hung handler at its deadline", async () => {
    const started = Date.now();
    const { job: queued } = await enqueue({ handler: "jobsb/hang", timeout_secs: 1, max_attempts: 1 });
    const done = await waitFor(queued.id, ["failed"]);
    expect(done.error).toMatch(/deadline|timed out|timeout/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("cancels a running job in the plugin", async () => {
    const marker = join(t.dir, "cancel-marker");
    const { job: queued } = await enqueue({ handler: "jobsa/slow", payload: { ms: 30_000, steps: 30, marker } });
    await waitFor(queued.id, ["running"]);
    const res = await http(`${t.url}/api/pulse/jobs/${queued.id}/cancel`, { method: "POST", headers: adminHeaders(t), body: "{}" });
    expect(res.status).toBe(200);
    expect((await waitFor(queued.id, ["cancelled"])).status).toBe("cancelled");
    // The plugin creates the marker, then writes it: wait for its content, not its existence.
    const seen = await until(() => (existsSync(marker) ? readFileSync(marker, "utf8") || undefined : undefined), "the plugin to see the cancellation");
    expect(seen).toBe(`aborted ${queued.id}`);
  });

  it("fires a plugin's schedule", async () => {
    await until(async () => {
      const jobs = (await http(`${t.url}/api/pulse/jobs?status=completed&limit=500`)).json().jobs as JobJson[];
      return jobs.some((j) => j.handler === "ticker/tick") ? true : undefined;
    }, "a scheduled ticker/tick job to complete");
  });
});

describe("a plugin killed mid-job", () => {
  it("loses nothing: the host restarts the plugin and the job is retried to completion", async () => {
    const { job: queued } = await enqueue({ handler: "jobsb/slow", payload: { ms: 3000, steps: 3 }, max_attempts: 3 });
    await waitFor(queued.id, ["running"]);
    const pid = t.host.registry.get("jobsb")!.pid!;
    process.kill(pid, "SIGKILL");
    // The exit is seen at once: the plugin is restarting and its job went back to the queue.
    await pluginReaches(t.host.registry, "jobsb", (info) => info.state !== "running", "seen as crashed");
    const done = await waitFor(queued.id, ["completed"], 20_000);
    expect(done.attempts).toBe(2);
    expect(done.result).toEqual({ steps: 3 });
    const info = t.host.registry.get("jobsb")!;
    expect(info.state).toBe("running");
    expect(info.pid).not.toBe(pid);
  });

  it("says in the job's error that the plugin crashed, not only that the connection dropped", async () => {
    const { job: queued } = await enqueue({ handler: "jobsa/slow", payload: { ms: 5000, steps: 5 }, max_attempts: 1 });
    await waitFor(queued.id, ["running"]);
    process.kill(t.host.registry.get("jobsa")!.pid!, "SIGKILL");
    const failed = await waitFor(queued.id, ["failed"]);
    expect(failed.error).toContain("plugin jobsa crashed while running the job");
    expect(failed.error).toContain("SIGKILL");
    await pluginInState(t.host.registry, "jobsa", "running");
  });

  it("does not call a restart by a person a crash", async () => {
    const { job: queued } = await enqueue({ handler: "jobsa/slow", payload: { ms: 5000, steps: 5 }, max_attempts: 1 });
    await waitFor(queued.id, ["running"]);
    const restarted = await http(`${t.url}/api/plugins/jobsa/restart`, { method: "POST", headers: adminHeaders(t) });
    expect(restarted.status).toBe(200);
    const ended = await waitFor(queued.id, ["failed", "completed", "queued"], 20_000);
    expect(ended.error ?? "").not.toContain("crashed");
  });

  it("a crash that re-queues jobs under a backlog never has more than pulse_concurrency (4) jobs running, in the store or in the plugin", async () => {
    // Issue 15, finding 7: 8 jobs were `running` at once with pulse_concurrency = 4. Watched
    // here: the store's `running` count at every 'job' event and every turn of the host's event
    // loop (the host runs in this process), and the plugin's own overlap of `record` runs.
    const { pulse } = t.host;
    const count = (pulse.store as SqliteJobStore).db.prepare("SELECT COUNT(*) FROM pulse_jobs WHERE status = 'running'").pluck();
    let maxRunning = 0;
    const sample = (): void => {
      maxRunning = Math.max(maxRunning, count.get() as number);
    };
    let watching = true;
    const tick = (): void => {
      if (!watching) return;
      sample();
      setImmediate(tick);
    };
    pulse.on("job", sample);
    setImmediate(tick);
    try {
      const file = join(t.dir, "record-crash.log");
      // A run the crash will cut, then a backlog of quick jobs (quick runs make the pool claim ahead).
      const [cut] = await pulse.enqueueMany([{ handler: "jobsb/slow", payload: { ms: 600, steps: 3 } }]);
      const quick = await pulse.enqueueMany(Array.from({ length: 80 }, () => ({ handler: "jobsb/record", payload: { file, ms: 1 } })));
      await waitFor(cut!.id, ["running"]);
      await until(() => (existsSync(file) && readFileSync(file, "utf8").includes("done") ? true : undefined), "quick jobs to run");
      process.kill(t.host.registry.get("jobsb")!.pid!, "SIGKILL");
      // The killed process writes nothing more: every run it had open ends here.
      appendFileSync(file, "killed\n");
      const finished = await Promise.all([cut!, ...quick].map((j) => waitFor(j.id, ["completed"], 30_000)));
      expect(finished[0]!.attempts).toBe(2); // the crash re-queued it
      let open = 0;
      let maxOpen = 0;
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (line.startsWith("started ")) maxOpen = Math.max(maxOpen, ++open);
        else if (line.startsWith("done ")) open--;
        else if (line === "killed") open = 0;
      }
      expect(maxRunning).toBeLessThanOrEqual(4);
      expect(maxOpen).toBeLessThanOrEqual(4);
    } finally {
      watching = false;
      pulse.off("job", sample);
    }
  });
});
