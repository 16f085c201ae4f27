/**
 * SIGTERM to a real host process: it takes no new work, lets what is in flight finish — an
 * HTTP request to a plugin, a WebSocket session, a running Pulse job — within
 * shutdown_timeout_ms, and only then stops its plugins. After the budget, what is left is cut:
 * a WebSocket still open is closed with 1001.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import Database from "better-sqlite3";
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { CLI, HELLO_PLUGIN, adminHeaders, hostTable, http, jobPluginTable, until } from "./harness.js";
import { hostUrlOnceListening, LogBook } from "./helpers/events.js";

const WS_PLUGIN = fileURLToPath(new URL("./fixtures/ws-plugin.mjs", import.meta.url));

const dirs: string[] = [];
const servers: ResultPromise[] = [];

afterAll(() => {
  for (const server of servers) server.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface RunningHost {
  readonly dir: string;
  readonly url: string;
  readonly server: ResultPromise;
  /** Every line the host logged so far (JSON), and a wait for the next. */
  readonly log: LogBook;
}

/** Starts `qntx server` as its own process, waits until every plugin runs. */
async function startHostProcess(host: Record<string, string | number> = {}): Promise<RunningHost> {
  const dir = mkdtempSync(join(tmpdir(), "qntx-shutdown-"));
  dirs.push(dir);
  const configFile = join(dir, "am.plugins.toml");
  writeFileSync(configFile, `${await hostTable(dir, host)}\n[plugins.hello]\nbinary = ${JSON.stringify(HELLO_PLUGIN)}\n\n[plugins.wsp]\nbinary = ${JSON.stringify(WS_PLUGIN)}\nargs = ["--name", "wsp"]\n\n${jobPluginTable("jobs")}`);
  const server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "info" } });
  servers.push(server);
  const log = new LogBook();
  let partial = "";
  server.stdout!.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const parts = text.split("\n");
    partial = parts.pop()!;
    for (const line of parts) if (line.startsWith("{")) log.push(JSON.parse(line));
  });
  server.stderr!.resume();
  const hostFile = join(dir, "data", "host.json");
  const url = await hostUrlOnceListening(hostFile);
  await until(async () => {
    const { plugins } = (await http(`${url}/api/plugins`)).json() as { plugins: { state: string }[] };
    return plugins.length === 3 && plugins.every((p) => p.state === "running") ? true : undefined;
  }, "plugins running", 30_000);
  return { dir, url, server, log };
}

/** Opens a WebSocket to the SDK fixture's echo and resolves once it is open. */
async function openEcho(url: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/ws/wsp`);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return ws;
}

/** Sends one DATA frame (QNTX's browser JSON) and resolves with the echoed text. */
function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once("message", (raw: Buffer) => {
      const frame = JSON.parse(raw.toString("utf8")) as { data: string };
      resolve(Buffer.from(frame.data, "base64").toString("utf8"));
    });
    ws.send(JSON.stringify({ type: "data", data: Buffer.from(text).toString("base64") }));
  });
}

/** GET on a fresh connection (no pooled socket): the status, or the socket error's code. */
function freshGet(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

describe("SIGTERM to the host", () => {
  it("finishes the request, the WebSocket session and the job in flight before it stops the plugins", async () => {
    const h = await startHostProcess({ shutdown_timeout_ms: 20_000 });
    const record = join(h.dir, "record.txt");
    const enqueued = await http(`${h.url}/api/pulse/jobs`, {
      method: "POST", headers: adminHeaders(h), body: JSON.stringify({ handler: "jobs/record", payload: { file: record, ms: 1500 } }),
    });
    expect(enqueued.status).toBe(201);
    const jobId = enqueued.json().job.id as string;
    await until(() => (existsSync(record) && readFileSync(record, "utf8").includes("started") ? true : undefined), "the job to start");
    const ws = await openEcho(h.url);
    expect(await echo(ws, "before")).toBe("before");
    const slow = http(`${h.url}/api/wsp/slow`);
    await h.log.waitFor((l) => l.msg === "slow: request arrived", "the slow request in the plugin");

    h.server.kill("SIGTERM");
    await h.log.waitFor((l) => l.msg === "stopping", "the host's 'stopping'");

    // New work is refused: a new connection is refused or answered 503.
    const refused = await freshGet(`${h.url}/api/hello/hello`);
    expect([503, "ECONNREFUSED", "ECONNRESET"]).toContain(refused);
    // What was in flight carries on: the session still echoes, the request is answered.
    expect(await echo(ws, "during")).toBe("during");
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ waitedMs: 3000 });
    const closed = new Promise<number>((resolve) => ws.once("close", (code: number) => resolve(code)));
    ws.close(1000, "done");
    expect(await closed).toBe(1000);

    const exit = await h.server;
    expect(exit.exitCode).toBe(0);
    // The job ran to its end and is completed, not re-queued.
    expect(readFileSync(record, "utf8")).toContain(`done ${jobId}`);
    const db = new Database(join(h.dir, "data", "qntx.db"), { readonly: true });
    try {
      expect((db.prepare("SELECT status FROM pulse_jobs WHERE id = ?").get(jobId) as { status: string }).status).toBe("completed");
    } finally {
      db.close();
    }
    // Plugins were stopped only after the drain: "stopping plugins" comes after the drain ended.
    const messages = h.log.lines.map((l) => l.msg);
    expect(messages.indexOf("in-flight work finished")).toBeGreaterThan(messages.indexOf("stopping"));
  });

  it("closes a WebSocket still open when shutdown_timeout_ms runs out (1001), then stops", async () => {
    const h = await startHostProcess({ shutdown_timeout_ms: 1000 });
    const ws = await openEcho(h.url);
    expect(await echo(ws, "hi")).toBe("hi");
    const closed = new Promise<number>((resolve) => ws.once("close", (code: number) => resolve(code)));
    h.server.kill("SIGTERM");
    expect(await closed).toBe(1001);
    expect((await h.server).exitCode).toBe(0);
    const cut = h.log.lines.find((l) => l.msg === "in-flight work cut at shutdown_timeout_ms");
    expect(cut).toMatchObject({ sessions: 1 });
  });
});
