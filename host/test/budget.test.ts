/**
 * Pulse's budgets through real plugin processes: every job's cost_actual goes into the usage
 * record; a job whose cost_estimate does not fit waits (with the window named) and runs once
 * the window frees up, or fails when it never can, or by config; a routed provider call over
 * budget is refused with RESOURCE_EXHAUSTED; `qntx pulse budget` shows it all.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { execa } from "execa";
import { CLI, http, startTestHost, until, type TestHost } from "./harness.js";
import { callService, callerTable, providerTable } from "./helpers/mesh.js";
import { pulseApi } from "./helpers/pulse-api.js";

const DAY_MS = 24 * 3_600_000;

describe("without limits", () => {
  let t: TestHost;
  const pulse = pulseApi(() => t);
  beforeAll(async () => {
    t = await startTestHost(callerTable("worker", "", { cost: "0.6" }));
  });
  afterAll(async () => t?.close());

  it("records the cost a job reports", async () => {
    const job = await pulse.enqueue({ handler: "worker/tick" });
    const done = await pulse.waitFor(job.id, ["completed"]);
    expect(done.costActual).toBe(0.6);
    const budget = (await http(`${t.url}/api/pulse/budget`)).json();
    expect(budget.recent.find((r: { kind: string }) => r.kind === "job")).toMatchObject({ plugin: "worker", name: "worker/tick", costUsd: 0.6 });
    expect(budget.windows[0]).toMatchObject({ window: "daily", spentUsd: 0.6, limitUsd: null, remainingUsd: null, operations: 1 });
  });
});

describe("over a daily budget", () => {
  let t: TestHost;
  const pulse = pulseApi(() => t);
  beforeAll(async () => {
    t = await startTestHost(["[pulse]\ndaily_budget_usd = 1.0\n", callerTable("worker"), callerTable("asker"), providerTable("brain", { roles: "llm" })].join("\n"));
  });
  afterAll(async () => t?.close());

  it("lets a job wait with the window named, and runs it once the window frees up", async () => {
    // Spend that leaves the 24 h window in a moment, as if it had been spent a day ago.
    await t.host.budget.usage.record({ at: Date.now() - DAY_MS + 1500, plugin: "worker", kind: "job", name: "worker/tick", provider: "", costUsd: 0.9, promptTokens: 0, completionTokens: 0, totalTokens: 0 });
    const job = await t.host.pulse.enqueue({ handler: "worker/tick", costEstimate: 0.5 });
    const waiting = await until(async () => {
      const j = await pulse.job(job.id);
      return j.status === "queued" && j.error ? j : undefined;
    }, "the job to be put back over budget");
    expect(waiting.error).toMatch(/^over budget: the daily budget \(daily_budget_usd = \$1\) would be exceeded: \$0\.9 spent in the last 24 h \+ \$0\.5 estimated; room again at /);
    expect(waiting.attempts).toBe(0);
    const done = await pulse.waitFor(job.id, ["completed"]);
    expect(done.attempts).toBe(1);
    expect(done.logs!.some((l) => l.stage === "pulse" && l.message.startsWith("not started: over budget: the daily budget"))).toBe(true);
  });

  it("fails at once a job whose estimate alone is over a limit", async () => {
    const job = await t.host.pulse.enqueue({ handler: "worker/tick", costEstimate: 5 });
    const failed = await pulse.waitFor(job.id, ["failed"]);
    expect(failed.error).toContain("the estimate alone is over the limit");
    expect(failed.attempts).toBe(1);
  });

  it("refuses a routed provider call with RESOURCE_EXHAUSTED once a window has nothing left", async () => {
    expect(await callService(t.url, "asker", "LLMService", "Chat", { messages: [{ role: "user", content: "hi" }] })).toMatchObject({ ok: true });
    await t.host.budget.usage.record({ at: Date.now(), plugin: "worker", kind: "job", name: "worker/tick", provider: "", costUsd: 2, promptTokens: 0, completionTokens: 0, totalTokens: 0 });
    const refused = await callService(t.url, "asker", "LLMService", "Chat", { messages: [{ role: "user", content: "hi" }] });
    expect(refused).toMatchObject({ ok: false, code: "RESOURCE_EXHAUSTED" });
    expect(refused.details).toMatch(/^over budget: the daily budget \(daily_budget_usd = \$1\) would be exceeded/);
  });

  it("shows spend and what is left per window with qntx pulse budget", async () => {
    const shown = await execa(process.execPath, [CLI, "--data-dir", join(t.dir, "data"), "pulse", "budget"], { reject: false });
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toMatch(/daily \(24 h\)\s+\$1\.000000\s+\$\d+\.\d{6}\s+\$0\.000000\s+\d+\s+\[pulse\] daily_budget_usd/);
    expect(shown.stdout).toMatch(/weekly \(168 h\)\s+no limit/);
    expect(shown.stdout).toContain('A job over budget waits until its window frees up ([pulse] over_budget = "wait").');
  });
});

describe('with over_budget = "fail"', () => {
  it("fails a job over budget at once, with the reason", async () => {
    const t = await startTestHost(`[pulse]\nweekly_budget_usd = 1.1\nover_budget = "fail"\n\n${callerTable("worker")}`);
    try {
      await t.host.budget.usage.record({ at: Date.now(), plugin: "worker", kind: "job", name: "worker/tick", provider: "", costUsd: 1, promptTokens: 0, completionTokens: 0, totalTokens: 0 });
      const job = await t.host.pulse.enqueue({ handler: "worker/tick", costEstimate: 0.2 });
      const failed = await pulseApi(() => t).waitFor(job.id, ["failed"]);
      expect(failed.error).toMatch(/^over budget: the weekly budget \(weekly_budget_usd = \$1\.1\) would be exceeded/);
    } finally {
      await t.close();
    }
  });
});
