/**
 * `qntx as/ax`, `qntx handler` and `qntx pulse` against a real `qntx server` process, and the
 * host killed with SIGKILL mid-job: the next host recovers the job and completes it.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, hostTable, http, jobPluginTable, until } from "./harness.js";
import { hostUrlOnceListening } from "./helpers/events.js";

let dir: string;
let configFile: string;
let server: ResultPromise;

function qntx(...args: string[]) {
  return execa(process.execPath, [CLI, ...args, "--config", configFile], { reject: false });
}

/** Starts `qntx server` and waits until its plugins run; returns the base URL. */
async function startServer(): Promise<string> {
  rmSync(join(dir, "data", "host.json"), { force: true });
  server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "warn" } });
  server.stdout!.resume();
  server.stderr!.resume();
  const hostFile = join(dir, "data", "host.json");
  const url = await hostUrlOnceListening(hostFile);
  await until(async () => {
    const { plugins } = (await http(`${url}/api/plugins`)).json() as { plugins: { state: string }[] };
    return plugins.every((p) => p.state === "running") ? true : undefined;
  }, "plugins running");
  return url;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "qntx-cli-data-"));
  configFile = join(dir, "am.plugins.toml");
  writeFileSync(configFile, `${await hostTable(dir, { job_retry_base_ms: 50, job_retry_max_ms: 200 })}\n${jobPluginTable("jobsx")}`);
  await startServer();
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await server;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("qntx as / ax", () => {
  it("writes an attestation and finds it again, attributes typed", async () => {
    const written = await qntx("as", "alice", "knows", "work", "--attr", "since=2020", "--attr", "close=true", "--attr", "note=hi there");
    expect(written.exitCode).toBe(0);
    expect(written.stdout).toMatch(/^AS-alice-knows-work-[a-z0-9]{8}$/);
    const found = await qntx("ax", "--subject", "alice", "--json");
    const [attestation] = JSON.parse(found.stdout);
    expect(attestation).toMatchObject({ subjects: ["alice"], predicates: ["knows"], contexts: ["work"], source: "cli" });
    expect(attestation.attributes).toEqual({ since: 2020, close: true, note: "hi there" });
    const table = await qntx("ax", "--predicate", "knows");
    expect(table.stdout).toMatch(/^ID\s+SUBJECTS\s+PREDICATES/m);
    expect(table.stdout).toContain("alice");
  });

  it("refuses a malformed --attr with a hint", async () => {
    const result = await qntx("as", "a", "b", "--attr", "novalue");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('--attr "novalue" is not key=value');
  });
});

describe("qntx handler", () => {
  it("stores a handler as an attestation and lists it", async () => {
    const created = await qntx("handler", "create", "double", "--code", "return payload.n * 2", "--plugin", "scripts");
    expect(created.exitCode).toBe(0);
    const listed = await qntx("handler", "list", "--json");
    const [handler] = JSON.parse(listed.stdout);
    expect(handler).toMatchObject({ subjects: ["double"], predicates: ["handler"], contexts: ["scripts"], attributes: { code: "return payload.n * 2" } });
  });

  it("needs exactly one of --code and --file", async () => {
    const result = await qntx("handler", "create", "x");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("exactly one of --code or --file");
  });
});

describe("qntx pulse", () => {
  it("enqueues, waits with progress and prints the result", async () => {
    const result = await qntx("pulse", "enqueue", "jobsx/slow", "--payload", '{"ms":300,"steps":3}', "--wait");
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ steps: 3 });
    expect(result.stderr).toMatch(/completed\s+\[#+\] 3\/3/);
  });

  it("exits 1 with the error when the job fails", async () => {
    const result = await qntx("pulse", "enqueue", "jobsx/always-fail", "--max-attempts", "1", "--wait");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/failed: .*boom/);
  });

  it("lists, shows, cancels and retries jobs", async () => {
    const enqueued = await qntx("pulse", "enqueue", "jobsx/slow", "--payload", '{"ms":30000,"steps":30}');
    const id = enqueued.stdout.trim();
    const list = await qntx("pulse", "list");
    expect(list.stdout).toContain(id);
    const cancelled = await qntx("pulse", "cancel", id);
    expect(cancelled.stdout).toMatch(/cancelled|running/);
    await until(async () => ((await qntx("pulse", "get", id, "--json")).stdout.includes('"status": "cancelled"') ? true : undefined), "cancelled");
    const retried = await qntx("pulse", "retry", id);
    expect(retried.stdout).toMatch(new RegExp(`${id}: (queued|running)`));
    const shown = await qntx("pulse", "get", id);
    expect(shown.stdout).toContain("handler:   jobsx/slow");
    await qntx("pulse", "cancel", id);
    // Nine CLI processes in a row: each is a Node start, seconds apiece on a loaded 2-core machine.
  }, 120_000);

  it("refuses an unknown handler with the known ones", async () => {
    const result = await qntx("pulse", "enqueue", "nope");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("nope");
  });
});

describe("host killed with SIGKILL mid-job", () => {
  it("recovers the job at the next start and completes it", async () => {
    const file = join(dir, "record.log");
    // Read the plugin's pid before the job starts: on a loaded machine a CLI call between "started"
    // and the kill can outlast the 3 s job, which would then complete before the host dies.
    const plugins = JSON.parse((await qntx("plugin", "list", "--json")).stdout) as { name: string; pid: number }[];
    const enqueued = await qntx("pulse", "enqueue", "jobsx/record", "--payload", JSON.stringify({ file, ms: 3000 }), "--max-attempts", "3");
    const id = enqueued.stdout.trim();
    await until(() => (existsSync(file) && readFileSync(file, "utf8").includes(`started ${id}`) ? true : undefined), "the job to start");
    server.kill("SIGKILL");
    await server;
    // The orphaned plugin would finish the old run; take it down too, as if the machine went away.
    process.kill(plugins.find((p) => p.name === "jobsx")!.pid, "SIGKILL");

    await startServer();
    const done = await until(async () => {
      const job = JSON.parse((await qntx("pulse", "get", id, "--json")).stdout) as { status: string; attempts: number };
      return job.status === "completed" ? job : undefined;
    }, "the recovered job to complete", 20_000);
    expect(done.attempts).toBe(2);
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines.filter((l) => l === `started ${id}`)).toHaveLength(2);
    expect(lines).toContain(`done ${id}`);
  });
});
