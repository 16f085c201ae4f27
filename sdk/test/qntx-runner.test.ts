/**
 * The QNTX-format runner over real gRPC: each plugin is a real `qntx-ts-runner` process (the
 * built dist) loading a fixture from host/test/fixtures/qntx-modules with tsx.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Empty, ExecuteJobRequest, ExecuteJobResponse, GlyphDefResponse, HTTPResponse, InitializeRequest, InitializeResponse, MetadataResponse } from "@qntx/protocol";
import { RUNNER, http, init, killRunners, serveFixture, waitForStderr, type Served } from "./fixtures/qntx-runner.js";
import { bodyJson, call, headerValues } from "./helpers.js";

const text = (res: HTTPResponse) => Buffer.from(res.body).toString("utf8");

beforeAll(() => {
  if (!existsSync(RUNNER)) throw new Error(`${RUNNER} is missing: run \`pnpm --filter @qntx/sdk build\` first`);
});

afterAll(() => killRunners());

describe("a QNTX module with only registerHTTP (folder, CommonJS, extensionless .ts import)", () => {
  let p: Served;
  let initialized: InitializeResponse;

  beforeAll(async () => {
    p = await serveFixture("routes");
    initialized = await call<InitializeRequest, InitializeResponse>(p.client, p.client.initialize, init());
  }, 20_000);

  it("answers Metadata from the module's fields", async () => {
    const meta = await call<Empty, MetadataResponse>(p.client, p.client.metadata, {});
    expect(meta).toEqual({ name: "qroutes", version: "0.2.0", qntxVersion: ">=0.1.0", description: "QNTX-format routes fixture", author: "qntx tests", license: "MIT" });
  });

  it("announces its routes in InitializeResponse, in registration order, {id} as :id", () => {
    expect(initialized.httpRoutes.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /hello",
      "GET /items/:id",
      "GET /users/:user/posts/:post",
      "POST /echo",
      "GET /cookies",
      "GET /bytes",
      "GET /boom",
      "GET /slow",
      "GET /returned",
      "GET /empty",
      "GET /url",
      "GET /calls",
      "GET /legacy",
    ]);
    expect(initialized.handlerNames).toEqual([]);
    expect(initialized.schedules).toEqual([]);
  });

  it("logs the routes registered at Initialize in its \"initialized\" line, not the 0 compiled at load", async () => {
    await waitForStderr(p.runner, /"msg":"initialized"/);
    const line = p.runner.stderr().split("\n").find((l) => l.includes('"msg":"initialized"'))!;
    expect(JSON.parse(line)).toMatchObject({ plugin: "qroutes", routes: 13, handlers: 0 });
  });

  it("serves the stripped path and the full /api/<name> path from the same route", async () => {
    const stripped = await http(p.client, "GET", "/hello?name=Ada");
    const full = await http(p.client, "GET", "/api/qroutes/hello?name=Ada");
    expect(stripped.statusCode).toBe(200);
    expect(bodyJson(stripped)).toEqual({ message: "Hello, Ada!" });
    expect(bodyJson(full)).toEqual(bodyJson(stripped));
    expect(headerValues(stripped, "content-type")).toEqual(["application/json; charset=utf-8"]);
  });

  it("registers routes once, not per request nor per Initialize", async () => {
    for (let i = 0; i < 3; i++) await http(p.client, "GET", "/hello");
    await call(p.client, p.client.initialize, init({ again: "yes" }));
    expect(bodyJson(await http(p.client, "GET", "/calls"))).toEqual({ registerCalls: 1 });
  });

  it("gives route parameters in req.params", async () => {
    expect(bodyJson(await http(p.client, "GET", "/items/42"))).toEqual({ id: "42" });
    expect(bodyJson(await http(p.client, "GET", "/api/qroutes/users/ada/posts/7"))).toEqual({ user: "ada", post: "7" });
  });

  it("reads an async JSON body, keeps res.status() before res.json(), and sets headers", async () => {
    const res = await http(p.client, "POST", "/echo", '{"a":1}', { "content-type": "application/json" });
    expect(res.statusCode).toBe(201);
    expect(headerValues(res, "x-echo")).toEqual(["yes"]);
    expect(bodyJson(res)).toEqual({ received: { a: 1 }, contentType: "application/json", text: '{"a":1}' });
  });

  it("answers 400 when req.json() meets a body that is not JSON", async () => {
    const res = await http(p.client, "POST", "/echo", "{nope");
    expect(res.statusCode).toBe(400);
    expect((bodyJson(res) as { error: string }).error).toMatch(/invalid JSON/);
  });

  it("keeps every value of a multi-value header", async () => {
    const res = await http(p.client, "GET", "/cookies");
    expect(headerValues(res, "set-cookie")).toEqual(["a=1", "b=2"]);
    expect(text(res)).toBe("two cookies");
    expect(headerValues(res, "content-type")).toEqual(["text/plain; charset=utf-8"]);
  });

  it("sends bytes with the content type the handler set", async () => {
    const res = await http(p.client, "GET", "/bytes");
    expect([...Buffer.from(res.body)]).toEqual([1, 2, 3, 250]);
    expect(headerValues(res, "content-type")).toEqual(["application/x-fixture"]);
  });

  it("answers 500 JSON when a handler throws, and keeps serving", async () => {
    const res = await http(p.client, "GET", "/boom");
    expect(res.statusCode).toBe(500);
    expect(bodyJson(res)).toEqual({ error: "kaboom" });
    await waitForStderr(p.runner, "route handler threw");
    expect((await http(p.client, "GET", "/hello")).statusCode).toBe(200);
  });

  it("waits for async handlers, takes returned values, and answers an empty response", async () => {
    const slow = await http(p.client, "GET", "/slow");
    expect(slow.statusCode).toBe(202);
    expect(text(slow)).toBe("done later");
    expect(bodyJson(await http(p.client, "GET", "/returned"))).toEqual({ returned: true });
    const empty = await http(p.client, "GET", "/empty");
    expect(empty.statusCode).toBe(204);
    expect(empty.body.length).toBe(0);
    expect(text(await http(p.client, "GET", "/legacy"))).toBe("legacy GET");
  });

  it("gives req.method, path, url with the query, query and headers", async () => {
    const res = await http(p.client, "GET", "/api/qroutes/url?x=1&y=two", undefined, { "X-Agent": "jest" });
    expect(bodyJson(res)).toEqual({ method: "GET", path: "/url", url: "/api/qroutes/url?x=1&y=two", query: { x: "1", y: "two" }, agent: "jest" });
  });

  it("answers 404 for an unknown path and 405 for a known path with another method", async () => {
    expect((await http(p.client, "GET", "/nope")).statusCode).toBe(404);
    const wrong = await http(p.client, "DELETE", "/hello");
    expect(wrong.statusCode).toBe(405);
    expect(headerValues(wrong, "allow")).toEqual(["GET, HEAD"]);
  });
});

describe("init and shutdown", () => {
  it("hands init the config and token in both spellings, registers routes after init, runs shutdown on the Shutdown RPC", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-runner-"));
    try {
      const marker = join(dir, "shutdown.txt");
      const p = await serveFixture("config");
      await call(p.client, p.client.initialize, init({ greeting: "Howdy", shutdown_marker: marker }, { atsStoreEndpoint: "127.0.0.1:1", queueEndpoint: "127.0.0.1:2" }));
      expect(bodyJson(await http(p.client, "GET", "/config"))).toEqual({
        greeting: "Howdy",
        greetingAtRegistration: "Howdy",
        initCalls: 1,
        tokenSeen: true,
        bothSpellings: true,
        ats: "127.0.0.1:1",
        queue: "127.0.0.1:2",
        marker,
      });
      await call<Empty, Empty>(p.client, p.client.shutdown, {});
      expect(await p.runner.exit).toEqual({ code: 0, signal: null });
      expect(readFileSync(marker, "utf8")).toBe("shutdown ran after 1 init call(s)\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("also runs shutdown on SIGTERM and exits 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-runner-"));
    try {
      const marker = join(dir, "shutdown.txt");
      const p = await serveFixture("config", ["--port", "0"]);
      await call(p.client, p.client.initialize, init({ shutdown_marker: marker }));
      p.runner.child.kill("SIGTERM");
      expect(await p.runner.exit).toEqual({ code: 0, signal: null });
      expect(existsSync(marker)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("glyphs", () => {
  it("answers RegisterGlyphs with the module's glyphs, snake_case and camelCase alike", async () => {
    const p = await serveFixture("glyphs");
    const res = await call<Empty, GlyphDefResponse>(p.client, p.client.registerGlyphs, {});
    expect(res.glyphs).toEqual([
      { symbol: "🔥", title: "Oven", label: "Open the oven", contentPath: "/oven", cssPath: "/oven.css", defaultWidth: 1200, defaultHeight: 800, modulePath: "/oven.js" },
      { symbol: "⏱", title: "Timer", label: "", contentPath: "/timer", cssPath: "", defaultWidth: 300, defaultHeight: 120, modulePath: "" },
    ]);
  });
});

describe("jobs", () => {
  let p: Served;
  let initialized: InitializeResponse;
  const job = (handlerName: string, payload: unknown, jobId = `job-${handlerName}`) =>
    call<ExecuteJobRequest, ExecuteJobResponse>(p.client, p.client.executeJob, { jobId, handlerName, payload: Buffer.from(JSON.stringify(payload)) });

  beforeAll(async () => {
    p = await serveFixture("jobs");
    initialized = await call<InitializeRequest, InitializeResponse>(p.client, p.client.initialize, init());
  }, 20_000);

  it("announces handler_names and schedules, and logs those counts", async () => {
    expect(initialized.handlerNames).toEqual(["double", "answer", "refuse", "fail"]);
    expect(initialized.schedules).toEqual([{ handlerName: "double", intervalSeconds: 3600, enabledByDefault: false, description: "doubles every hour", atsCode: "" }]);
    expect(initialized.httpRoutes).toEqual([{ method: "GET", path: "/shutdowns", description: "" }]);
    await waitForStderr(p.runner, /"msg":"initialized".*"routes":1,"handlers":4/);
  });

  it("runs execute_job and returns its value as the result, with the progress it reported", async () => {
    const res = await job("double", { n: 21 }, "j-1");
    expect(res.success).toBe(true);
    expect(JSON.parse(Buffer.from(res.result).toString("utf8"))).toEqual({ doubled: 42, jobId: "j-1" });
    expect([res.progressCurrent, res.progressTotal]).toEqual([1, 1]);
    expect(res.pluginVersion).toBe("2.0.0");
  });

  it("accepts the <plugin>/<handler> form of the name", async () => {
    const res = await job("qjobs/double", { n: 2 });
    expect(res.success).toBe(true);
    expect(JSON.parse(Buffer.from(res.result).toString("utf8"))).toMatchObject({ doubled: 4 });
  });

  it("reads an ExecuteJobResponse-shaped answer: result, progress, cost, log entries", async () => {
    const res = await job("answer", null);
    expect(res.success).toBe(true);
    expect(JSON.parse(Buffer.from(res.result).toString("utf8"))).toEqual({ via: "answer", handler: "answer" });
    expect([res.progressCurrent, res.progressTotal, res.costActual]).toEqual([2, 2, 0.5]);
    expect(res.logEntries).toEqual([expect.objectContaining({ level: "info", message: "answered", stage: "reply", metadata: '{"k":"v"}' })]);
  });

  it("fails the job with the answer's error on success: false, and with the message on a throw", async () => {
    const refused = await job("refuse", {});
    expect(refused).toMatchObject({ success: false, error: "refused politely" });
    const failed = await job("fail", { why: "test" });
    expect(failed.success).toBe(false);
    expect(failed.error).toBe('asked to fail (payload {"why":"test"})');
  });

  it("refuses a handler it did not announce, in the body", async () => {
    const res = await job("unknown", {});
    expect(res.success).toBe(false);
    expect(res.error).toBe("no job handler named unknown in plugin qjobs (has: double, answer, refuse, fail)");
  });
});
