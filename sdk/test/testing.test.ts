/**
 * @qntx/sdk/testing with a plugin served in process: startTestPlugin initializes it against a
 * fake host, and every helper goes over real gRPC as the qntx host's calls do.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CommandError, createAtsClient, definePlugin, HttpError, json, type AtsClient, type PluginRequest } from "../src/index.js";
import { createFakeHost, startTestPlugin, TestPluginError, type FakeHost, type TestPlugin } from "../src/testing/index.js";

/** What the plugin saw at its latest Initialize. */
const seen = { greeting: "", token: "", ats: "", initializeCount: 0 };
let ats: AtsClient | undefined;

const notes = definePlugin({
  metadata: { name: "notes", version: "1.4.0" },
  configSchema: {
    greeting: { type: "string", default: "Hello" },
    mode: { type: "string", default: "ok" },
    tags: { type: "array", elementType: "string", default: [] },
  },
  initialize(ctx) {
    if (ctx.config.mode === "refuse") throw new Error("mode=refuse: this plugin will not start");
    seen.greeting = ctx.config.greeting!;
    seen.token = ctx.authToken;
    seen.ats = ctx.endpoints.ats;
    seen.initializeCount++;
    ats = ctx.ats;
  },
  routes: {
    "GET /hello": (req: PluginRequest) => ({
      message: `${seen.greeting}, ${req.query.get("name") ?? "world"}!`,
      tags: req.query.getAll("tag"),
      test: req.header("x-test") ?? null,
      host: req.header("host") ?? null,
      names: req.rawHeaders.map((h) => h.name),
    }),
    "GET /raw": (req: PluginRequest) => ({ rawPath: req.rawPath }),
    "GET /only-full": (req: PluginRequest) => {
      // Like a QNTX plugin that only knows full paths: the host's 404 retry reaches it.
      if (!req.rawPath.startsWith("/api/notes/")) throw new HttpError(404, "only the full path is known here");
      return { rawPath: req.rawPath };
    },
    "POST /notes": async (req: PluginRequest) => {
      const body = req.json<{ subject: string; text: string }>();
      const created = await ats!.create({ subjects: [body.subject], predicates: ["noted"], attributes: { text: body.text } });
      return json({ id: created.id }, { status: 201, headers: { "set-cookie": ["a=1", "b=2"] } });
    },
    "POST /echo": (req: PluginRequest) => ({ body: req.text(), type: req.header("content-type") ?? null, length: req.header("content-length") ?? null }),
    "GET /hang": () => new Promise(() => undefined),
  },
  handlers: {
    count: async (payload, ctx) => {
      const { to } = payload as { to: number };
      for (let i = 1; i <= to; i++) ctx.progress(i, to);
      ctx.log.info("counted", { stage: "count", metadata: { to } });
      ctx.addCost(0.25);
      await ctx.ats!.create({ subjects: [ctx.jobId], predicates: ["counted"] });
      return { counted: to };
    },
    fail: () => {
      throw new Error("cannot count today");
    },
    wait: (_payload, ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve("aborted"))),
  },
  websocket(session) {
    session.on("message", (data) => {
      const text = data.toString("utf8");
      if (text === "bye") session.close(4001, "asked to leave");
      // The SDK resolves ping() only when the PONG echoes its timestamp exactly.
      else if (text === "ping-me") session.ping(2_000).then(() => session.send("pong-ok"), (err: Error) => session.send(`pong-missing: ${err.message}`));
      else session.send(`echo:${text}:${session.query.get("room") ?? ""}:${session.headers["x-user"] ?? ""}`);
    });
    session.on("resize", ({ cols, rows }) => session.send(`size:${cols}x${rows}`));
  },
  commands: {
    shout: {
      description: "Upper-cases its arguments",
      flags: { times: { type: "number", default: 1 } },
      run(args, flags) {
        if (args.length === 0) throw new CommandError("shout: nothing to shout", 3);
        return `${args.join(" ").toUpperCase().repeat(Number(flags.times))}\n`;
      },
    },
  },
});

describe("a plugin in process against its own fake host", () => {
  let plugin: TestPlugin;

  beforeAll(async () => {
    plugin = await startTestPlugin(notes, { config: { greeting: "Hi", tags: ["a", "b"] }, timeoutMs: 3_000 });
  });

  afterAll(async () => {
    await plugin?.stop();
  });

  it("initializes with the config, a token of its own and the fake host's endpoint", () => {
    expect(plugin.mode).toBe("in-process");
    expect(plugin.name).toBe("notes");
    expect(seen).toMatchObject({ greeting: "Hi", token: plugin.token, ats: plugin.host!.address });
    expect(plugin.initialized!.handlerNames).toEqual(["count", "fail", "wait"]);
    expect(plugin.initialized!.httpRoutes.map((r) => `${r.method} ${r.path}`)).toContain("POST /notes");
  });

  it("sends HTTP requests as the gateway does: stripped path, query, header names in Go's canonical form, no host", async () => {
    const res = await plugin.http("GET", "/hello?tag=x", { query: { name: "ada", tag: ["y", "z"] }, headers: { "x-test": "1", "X-REQUEST-ID": "r", host: "ignored" } });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ message: "Hi, ada!", tags: ["x", "y", "z"], test: "1", host: null, names: ["X-Test", "X-Request-Id"] });
    expect((await plugin.http("GET", "/raw", { query: "a=1" })).json()).toEqual({ rawPath: "/raw?a=1" });
    expect((await plugin.http("GET", "/raw", { fullPath: true })).json()).toEqual({ rawPath: "/api/notes/raw" });
  });

  it("retries a 404 with the full path as the host does, unless told not to", async () => {
    const res = await plugin.http("GET", "/only-full");
    expect(res.status).toBe(200);
    expect(res.path).toBe("/api/notes/only-full");
    expect((await plugin.http("GET", "/only-full", { retryFullPathOn404: false })).status).toBe(404);
    const missing = await plugin.http("GET", "/nothing-here");
    expect([missing.status, missing.path]).toEqual([404, "/nothing-here"]);
  });

  it("sends a JSON body with its content type and reads status, multi-value headers and body back", async () => {
    const res = await plugin.http("POST", "/notes", { json: { subject: "doc-7", text: "remember" } });
    expect(res.status).toBe(201);
    expect(res.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    const { id } = res.json<{ id: string }>();
    expect(id).toMatch(/^AS-doc-7-noted-_-[a-z0-9]{8}$/);
    // Written through ctx.ats, stamped with the plugin's name as the host stamps it.
    expect(plugin.host!.attestations.find((a) => a.id === id)).toMatchObject({ source: "notes", attributes: { text: "remember" } });
    const echo = await plugin.http("POST", "/echo", { body: "plain", headers: { "content-type": "text/plain" } });
    expect(echo.json()).toEqual({ body: "plain", type: "text/plain", length: "5" });
    expect(() => echo.text()).not.toThrow();
    expect(() => plugin.http("GET", "hello")).rejects.toThrow(/path must start with "\/"/);
  });

  it("fails a route that never answers at the deadline, with the status a browser would get", async () => {
    const err = await plugin.http("GET", "/hang", { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestPluginError);
    expect(err).toMatchObject({ code: "CALL_FAILED", grpcCode: 4, httpStatus: 504, message: "HandleHTTP GET /hang failed: DEADLINE_EXCEEDED: no answer within 200 ms" });
  });

  it("runs a job: result, progress, logs and cost decoded, progress pushed to the host's job", async () => {
    const run = await plugin.job("count", { to: 3 });
    expect(run).toMatchObject({ success: true, error: "", result: { counted: 3 }, progress: { current: 3, total: 3 }, cost: 0.25, pluginVersion: "1.4.0" });
    expect(run.logs).toEqual([expect.objectContaining({ level: "info", message: "counted", stage: "count", metadata: { to: 3 } })]);
    expect(run.updates.at(-1)).toMatchObject({ id: run.jobId, progress: { current: 3, total: 3 } });
    // The host's view: the job ran under <plugin>/<handler> and ended completed with its progress.
    expect(plugin.host!.job(run.jobId)).toMatchObject({ handlerName: "notes/count", status: "completed", progress: { current: 3, total: 3 }, costActual: 0.25 });
    expect((await plugin.host!.waitForAttestation({ subjects: [run.jobId] })).predicates).toEqual(["counted"]);
  });

  it("reports a failing job and a timed-out one in the body, and runs a job the plugin's queue holds", async () => {
    const failed = await plugin.job("fail");
    expect(failed).toMatchObject({ success: false, error: "cannot count today" });
    expect(plugin.host!.job(failed.jobId)!.status).toBe("failed");
    const timedOut = await plugin.job("wait", undefined, { timeoutSecs: 1 });
    expect(timedOut.success).toBe(false);
    expect(timedOut.error).toBe("job timed out after 1s");
    const queued = plugin.host!.enqueue({ handlerName: "notes/count", payload: Buffer.from('{"to":1}') });
    const run = await plugin.job("count", { to: 1 }, { jobId: queued.id });
    expect(run.jobId).toBe(queued.id);
    expect(plugin.host!.job(queued.id)!.status).toBe("completed");
    await expect(plugin.job("count", undefined, { timeoutSecs: 1.5 })).rejects.toThrow(/timeoutSecs must be a positive integer/);
  });

  it("opens a WebSocket with CONNECT headers, exchanges DATA, resizes, and sees the plugin's CLOSE", async () => {
    const ws = plugin.websocket(undefined, { query: { room: "r1" }, headers: { "X-User": "ada" } });
    ws.send("one");
    expect((await ws.next()).text()).toBe("echo:one:r1:ada");
    ws.resize(120, 40);
    expect((await ws.next()).text()).toBe("size:120x40");
    await ws.ping();
    ws.send("bye");
    expect(await ws.ended).toEqual({ by: "plugin", code: 4001, reason: "asked to leave" });
    await expect(ws.next(100)).rejects.toMatchObject({ code: "WEBSOCKET", message: expect.stringContaining("the session ended (by plugin, code 4001: asked to leave)") });
    expect(() => ws.send("late")).toThrow(TestPluginError);
  });

  it("answers the plugin's PINGs with an exact PONG, iterates DATA frames and closes from the test side", async () => {
    const ws = plugin.websocket("/ws/notes/tab2");
    ws.send("ping-me");
    expect((await ws.next()).text()).toBe("pong-ok");
    expect(ws.received.filter((f) => f.type === 3)).toHaveLength(1);
    ws.send("a");
    ws.send("b");
    const got: string[] = [];
    for await (const frame of ws) {
      got.push(frame.text());
      if (got.length === 2) break;
    }
    expect(got).toEqual(["echo:a::", "echo:b::"]);
    expect(await ws.close()).toEqual({ by: "test", code: 1000, reason: "" });
    await expect(ws.next(50)).rejects.toThrow(/the session ended/);
  });

  it("waits for a frame that never comes only until the deadline", async () => {
    const ws = plugin.websocket();
    await expect(ws.next(100)).rejects.toMatchObject({ code: "WEBSOCKET", message: "waiting for a DATA frame: nothing within 100 ms" });
    await ws.close();
  });

  it("answers Health, Metadata, ConfigSchema and runs commands", async () => {
    expect(await plugin.health()).toEqual({ healthy: true, message: "", details: {} });
    expect(await plugin.metadata()).toMatchObject({ name: "notes", version: "1.4.0" });
    expect(Object.keys((await plugin.configSchema()).fields)).toEqual(["greeting", "mode", "tags"]);
    expect((await plugin.commands()).map((c) => c.name)).toEqual(["shout"]);
    const run = await plugin.command("shout", ["hey", "you"], { times: 2 });
    expect([run.exitCode, run.text()]).toEqual([0, "HEY YOUHEY YOU\n"]);
    const refused = await plugin.command("shout");
    expect([refused.exitCode, refused.errorText()]).toEqual([3, "error: shout: nothing to shout\n"]);
  });

  it("initializes again with new config, and reports a refused Initialize", async () => {
    const before = seen.initializeCount;
    await plugin.initialize({ greeting: "Yo" });
    expect(seen.initializeCount).toBe(before + 1);
    expect((await plugin.http("GET", "/hello")).json()).toMatchObject({ message: "Yo, world!" });
    const err = await plugin.initialize({ mode: "refuse" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INITIALIZE_FAILED", message: "plugin notes refused Initialize: INTERNAL: mode=refuse: this plugin will not start" });
  });
});

describe("start options and stopping", () => {
  let shared: FakeHost;

  beforeAll(async () => {
    shared = await createFakeHost();
  });

  afterAll(async () => {
    await shared?.close();
  });

  it("fails the start on a refused Initialize and keeps a shared host open", async () => {
    const err = await startTestPlugin(notes, { config: { mode: "refuse" }, host: shared }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INITIALIZE_FAILED", message: expect.stringContaining("mode=refuse") });
    // The shared host stays open: it was not made for that plugin.
    expect(shared.seed({ subjects: ["after-failed-start"] })).toHaveLength(1);
  });

  it("checks the name like the host's readiness check", async () => {
    await expect(startTestPlugin(notes, { name: "other", host: false })).rejects.toMatchObject({ code: "WRONG_NAME", message: 'the plugin answers Metadata with name "notes", expected "other"' });
  });

  it("shares a host between plugins, keeps it open on stop, and refuses calls after stop", async () => {
    const first = await startTestPlugin(notes, { host: shared });
    const second = await startTestPlugin(definePlugin({ metadata: { name: "other", version: "1" } }), { host: shared });
    expect(first.token).not.toBe(second.token);
    await first.http("POST", "/notes", { json: { subject: "shared", text: "t" } });
    await first.stop();
    await first.stop(); // idempotent
    await second.stop();
    expect(shared.attestations.filter((a) => a.subjects.includes("shared"))).toHaveLength(1);
    expect(shared.seed({ subjects: ["still-open"] })).toHaveLength(1);
    await expect(first.http("GET", "/hello")).rejects.toMatchObject({ code: "STOPPED" });
    expect(() => first.websocket()).toThrow(/was stopped/);
  });

  it("starts without a host or without Initialize when asked", async () => {
    await using bare = await startTestPlugin(notes, { host: false, config: { greeting: "Bare" } });
    expect(bare.host).toBeUndefined();
    expect(seen.ats).toBe("");
    await using idle = await startTestPlugin(notes, { initialize: false });
    expect(idle.initialized).toBeUndefined();
  });

  it("closes its own fake host on stop", async () => {
    const plugin = await startTestPlugin(notes);
    const client = createAtsClient(plugin.host!.address, plugin.token, { timeoutMs: 2_000 });
    try {
      expect(await client.query({})).toEqual([]);
      await plugin.stop();
      const err = await client.query({}).catch((e: unknown) => e);
      // UNAVAILABLE, or CANCELLED when the call met the connection as the server cut it.
      expect(err).toMatchObject({ code: "HOST_CALL_FAILED" });
      expect([1, 14]).toContain((err as { grpcCode: number }).grpcCode);
    } finally {
      client.close();
    }
  });
});
