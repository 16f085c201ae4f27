/**
 * Limits on input at every entry point: JSON nested deeper than the host's limit is refused
 * where it comes in (gRPC Enqueue in the body, HTTP with a 400 naming the limit), and a job
 * already stored with such a payload (by an older host, or a plugin's result) is shown as
 * unreadable — the job list, the job and `qntx pulse list` keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { execa } from "execa";
import { join } from "node:path";
import { Job, MAX_JSON_DEPTH, QueueServiceClient } from "@qntx/protocol";
import { CLI, adminHeaders, http, jobPluginTable, startTestHost, type TestHost } from "./harness.js";

let t: TestHost;
let queue: QueueServiceClient;

const deepArray = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

function enqueue(request: object): Promise<{ success: boolean; error: string; jobId: string }> {
  return new Promise((resolve, reject) => queue.enqueue(request as never, (error, value) => (error ? reject(error) : resolve(value as never))));
}

beforeAll(async () => {
  t = await startTestHost(jobPluginTable("jobs"));
  queue = new QueueServiceClient(t.host.servicesAddress, grpc.credentials.createInsecure());
});

afterAll(async () => {
  queue?.close();
  await t?.close();
});

describe("JSON depth", () => {
  it("refuses a job payload nested 100,000 deep over gRPC, in the body, naming the limit", async () => {
    const token = t.host.tokens.issue("jobs");
    const refused = await enqueue({ authToken: token, job: Job.fromPartial({ handlerName: "jobs/echo", payload: Buffer.from(deepArray(100_000)) }) });
    expect(refused).toMatchObject({ success: false, jobId: "" });
    expect(refused.error).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    // Just inside the limit is fine.
    const taken = await enqueue({ authToken: token, job: Job.fromPartial({ handlerName: "jobs/echo", payload: Buffer.from(deepArray(MAX_JSON_DEPTH)) }) });
    expect(taken.success).toBe(true);
  });

  it("answers deep JSON bodies on the HTTP API with 400, never 500", async () => {
    for (const [path, body] of [
      ["/api/pulse/jobs", `{"handler":"jobs/echo","payload":${deepArray(100_000)}}`],
      ["/api/attestations", `{"subjects":["x"],"attributes":${deepObject(100_000)}}`],
      ["/api/pulse/jobs", `{"handler":"jobs/echo","payload":${deepObject(MAX_JSON_DEPTH + 1)}}`],
    ] as const) {
      const res = await http(`${t.url}${path}`, { method: "POST", headers: adminHeaders(t), body });
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.json()).toMatchObject({ code: "INVALID_ARGUMENT", error: expect.stringContaining(`deeper than ${MAX_JSON_DEPTH} levels`), hint: expect.any(String) });
    }
  });

  it("shows a stored job no reader can render as unreadable, and the list keeps working", async () => {
    // As an older host would have stored it: straight into Pulse, past the services' checks.
    const stored = await t.host.pulse.enqueueWire(Job.fromPartial({ handlerName: "jobs/echo", payload: Buffer.from(deepArray(100_000)) }), { source: "old-host" });
    const list = await http(`${t.url}/api/pulse/jobs`);
    expect(list.status).toBe(200);
    const shown = (list.json().jobs as Array<{ id: string; payload: unknown }>).find((j) => j.id === stored.id)!;
    expect(shown.payload).toEqual({ unreadable: expect.stringContaining(`deeper than ${MAX_JSON_DEPTH} levels`) });
    const one = await http(`${t.url}/api/pulse/jobs/${stored.id}`);
    expect(one.status).toBe(200);
    const cli = await execa(process.execPath, [CLI, "pulse", "list", "--data-dir", join(t.dir, "data")], { reject: false });
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toContain(stored.id);
  });
});
