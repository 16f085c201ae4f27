/**
 * Isolation between plugins, with real plugin processes trying each forbidden act with their
 * own tokens (job-plugin.mjs's `intrude` handler): identity comes from the token (a claimed
 * `source` is ignored), a plugin reads, updates and sees the payload of only its own jobs,
 * and its grants (`enqueue`, `attest`, `services`) limit what it may do — while a plugin
 * without grant keys keeps today's permissive default.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { adminHeaders, http, jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";

let t: TestHost;

interface JobJson {
  id: string;
  status: string;
  source: string;
  result: any;
  error: string;
}

async function enqueue(handler: string, payload: unknown): Promise<JobJson> {
  const res = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler, payload }) });
  expect(res.status).toBe(201);
  return res.json().job;
}

function settled(id: string, statuses = ["completed", "failed"]): Promise<JobJson> {
  return until(async () => {
    const job = (await http(`${t.url}/api/pulse/jobs/${id}`)).json().job as JobJson;
    return statuses.includes(job.status) ? job : undefined;
  }, `job ${id}`);
}

/** Runs plugin `as`'s `intrude` handler with `act` and returns what the host let it do. */
async function attempt(as: string, act: Record<string, unknown>): Promise<{ ok: boolean; error?: string; [k: string]: unknown }> {
  const job = await settled((await enqueue(`${as}/intrude`, act)).id);
  expect(job.status).toBe("completed");
  return job.result;
}

beforeAll(async () => {
  t = await startTestHost(
    jobPluginTable("victim") +
      jobPluginTable("intruder").replace(/\n\n$/, '\nenqueue = ["intruder/*"]\nattest = ["tested"]\n\n') +
      jobPluginTable("open") +
      jobPluginTable("queueonly").replace(/\n\n$/, '\nservices = ["queue"]\n\n'),
  );
});

afterAll(async () => {
  await t?.close();
});

describe("jobs of another plugin", () => {
  let secret: JobJson;

  beforeAll(async () => {
    secret = await enqueue("victim/slow", { ms: 4000, steps: 4, token: "s3cr3t" });
    await settled(secret.id, ["running"]);
  });

  it("are listed and read without their payload or error", async () => {
    const read = await attempt("intruder", { action: "get", jobId: secret.id });
    expect(read).toEqual({ ok: true, payload: "", error: "" });
    const listed = await attempt("intruder", { action: "list", jobId: secret.id });
    expect(listed).toEqual({ ok: true, listed: true, payload: "", error: "" });
    // Its own plugin sees it whole.
    const own = await attempt("victim", { action: "get", jobId: secret.id });
    expect(own.payload).toContain("s3cr3t");
  });

  it("cannot be updated", async () => {
    const updated = await attempt("intruder", { action: "update", jobId: secret.id });
    expect(updated.ok).toBe(false);
    expect(updated.error).toContain(`PERMISSION_DENIED: plugin intruder may not update job ${secret.id}`);
    const job = (await http(`${t.url}/api/pulse/jobs/${secret.id}`)).json().job;
    expect(job.costActual).not.toBe(5);
  });
});

describe("identity from the token", () => {
  it("stamps the caller's name as a job's source, whatever it claims", async () => {
    const made = await attempt("open", { action: "enqueue", handler: "victim/echo", source: "victim" });
    expect(made.ok).toBe(true);
    const job = await settled(made.id as string);
    expect(job.source).toBe("open");
  });
});

describe("identity of attestations", () => {
  it("stamps the caller's name as source, whatever it claims", async () => {
    const made = await attempt("intruder", { action: "attest", source: "victim" });
    expect(made).toMatchObject({ ok: true, source: "intruder" });
    const stored = (await http(`${t.url}/api/attestations?subject=intruded`)).json().attestations as Array<{ id: string; source: string }>;
    expect(stored.find((a) => a.id === made.id)!.source).toBe("intruder");
  });
});

describe("grants", () => {
  it("refuses a predicate outside the plugin's attest grant", async () => {
    const refused = await attempt("intruder", { action: "attest", predicate: "approved" });
    expect(refused.ok).toBe(false);
    expect(refused.error).toContain('PERMISSION_DENIED: plugin intruder may not attest the predicate "approved": its grant is attest = ["tested"]');
    expect((await attempt("open", { action: "attest", predicate: "approved" })).ok).toBe(true);
  });

  it("refuses enqueueing a handler outside the plugin's enqueue grant, naming it, and logs it once", async () => {
    for (let i = 0; i < 2; i++) {
      const refused = await attempt("intruder", { action: "enqueue", handler: "victim/echo" });
      expect(refused.ok).toBe(false);
      expect(refused.error).toContain('PERMISSION_DENIED: plugin intruder may not enqueue jobs for victim/echo: its grant is enqueue = ["intruder/*"]');
    }
    expect(t.logs.filter((l) => l.msg.startsWith("plugin refused: missing grant") && l.plugin === "intruder" && l.grant === "enqueue")).toHaveLength(1);
    const allowed = await attempt("intruder", { action: "enqueue", handler: "intruder/echo" });
    expect(allowed.ok).toBe(true);
  });

  it("leaves a plugin without grant keys as permissive as before", async () => {
    expect((await attempt("open", { action: "enqueue", handler: "victim/echo" })).ok).toBe(true);
  });

  it("refuses a service the plugin was not granted", async () => {
    const refused = await attempt("queueonly", { action: "attest" });
    expect(refused.ok).toBe(false);
    expect(refused.error).toContain("PERMISSION_DENIED: plugin queueonly may not call the ats service");
    expect((await attempt("queueonly", { action: "enqueue", handler: "queueonly/echo" })).ok).toBe(true);
  });
});
