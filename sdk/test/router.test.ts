import { describe, expect, it, jest } from "@jest/globals";
import { createLogger, createRouter, definePlugin, HttpError, json, reply, text } from "../src/index.js";
import { bodyJson, headerValues, wireRequest } from "./helpers.js";

/** A router with a logger that collects lines instead of writing to stderr. */
function makeRouter() {
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line) });
  let calls = 0;
  const router = createRouter(
    {
      "GET /hello": (req) => ({ hello: req.query.get("name") ?? "world", all: req.query.getAll("tag") }),
      "GET /users/:id": (req) => ({ id: req.params.id, path: req.path }),
      "GET /users/me": () => ({ me: true }),
      "DELETE /users/:userId": (req) => json({ deleted: req.params.userId }, { status: 202 }),
      "GET /users/:id/posts/:post": (req) => req.params,
      "POST /echo": (req) => ({ got: req.json(), type: req.header("Content-Type") }),
      "GET /headers": (req) => ({ accept: req.headers["accept"], first: req.header("ACCEPT") }),
      "GET /cookies": () => json({ ok: true }, { headers: { "Set-Cookie": ["a=1", "b=2"] } }),
      "GET /text": () => text("plain", { headers: { "x-one": "1" } }),
      "GET /raw": () => reply({ status: 201, headers: { "content-type": "image/png" }, body: Buffer.from([1, 2, 3]) }),
      "GET /nothing": () => undefined,
      "GET /bytes": () => Buffer.from("xyz"),
      "GET /": () => ({ root: true }),
      "GET /boom": () => {
        calls++;
        throw new Error("kaboom");
      },
      "GET /teapot": () => {
        throw new HttpError(418, "short and stout", { headers: { "x-why": "tea" } });
      },
      "GET /async-fail": async () => {
        await Promise.resolve();
        throw new Error("late failure");
      },
      "* /any": (req) => ({ method: req.method }),
    },
    { pluginName: "demo", log },
  );
  return { router, lines, boomCalls: () => calls };
}

describe("router: matching", () => {
  const { router } = makeRouter();

  it("parses the query string, with repeated keys", async () => {
    const res = await router.handle(wireRequest("GET", "/hello?name=Ada&tag=a&tag=b"));
    expect(res.statusCode).toBe(200);
    expect(headerValues(res, "content-type")).toEqual(["application/json; charset=utf-8"]);
    expect(bodyJson(res)).toEqual({ hello: "Ada", all: ["a", "b"] });
  });

  it("fills :params, URL-decoded, and prefers static segments", async () => {
    expect(bodyJson(await router.handle(wireRequest("GET", "/users/a%20b")))).toEqual({ id: "a b", path: "/users/a%20b" });
    expect(bodyJson(await router.handle(wireRequest("GET", "/users/me")))).toEqual({ me: true });
    expect(bodyJson(await router.handle(wireRequest("GET", "/users/7/posts/9")))).toEqual({ id: "7", post: "9" });
  });

  it("uses each route's own parameter names at a shared position", async () => {
    const res = await router.handle(wireRequest("DELETE", "/users/42"));
    expect(res.statusCode).toBe(202);
    expect(bodyJson(res)).toEqual({ deleted: "42" });
  });

  it("tolerates a trailing slash", async () => {
    expect(bodyJson(await router.handle(wireRequest("GET", "/hello/?name=x")))).toEqual({ hello: "x", all: [] });
  });

  it("accepts /x, /api/<name>/x and /api/<name> alike", async () => {
    expect(bodyJson(await router.handle(wireRequest("GET", "/api/demo/users/5")))).toEqual({ id: "5", path: "/users/5" });
    expect(bodyJson(await router.handle(wireRequest("GET", "/api/demo/hello?name=Q")))).toEqual({ hello: "Q", all: [] });
    expect(bodyJson(await router.handle(wireRequest("GET", "/api/demo")))).toEqual({ root: true });
    expect(bodyJson(await router.handle(wireRequest("GET", "/api/demo/")))).toEqual({ root: true });
    expect(bodyJson(await router.handle(wireRequest("GET", "/")))).toEqual({ root: true });
  });

  it("does not strip the prefix of another plugin", async () => {
    const res = await router.handle(wireRequest("GET", "/api/other/hello"));
    expect(res.statusCode).toBe(404);
  });

  it("answers paths of static routes alike in every spelling (one lookup or the trie)", async () => {
    // Normal form: the one-lookup path.
    expect(bodyJson(await router.handle(wireRequest("GET", "/users/me")))).toEqual({ me: true });
    expect(bodyJson(await router.handle(wireRequest("GET", "/api/demo/users/me/")))).toEqual({ me: true });
    // Percent-encoded or with an empty segment: the trie, same answer.
    expect(bodyJson(await router.handle(wireRequest("GET", "/users/%6De")))).toEqual({ me: true });
    expect(bodyJson(await router.handle(wireRequest("GET", "//users//me")))).toEqual({ me: true });
    // The static end has no DELETE route: the :param route at the same place answers.
    expect(bodyJson(await router.handle(wireRequest("DELETE", "/users/me")))).toEqual({ deleted: "me" });
    // `/api/demox` is not under the mount prefix `/api/demo`.
    expect((await router.handle(wireRequest("GET", "/api/demox"))).statusCode).toBe(404);
  });

  it("lets a handler take the request's methods off it (destructured)", async () => {
    const r = createRouter({ "POST /d": ({ header, text, json: parse }) => ({ type: header("content-type"), text: text(), parsed: parse() }) });
    const res = await r.handle(wireRequest("POST", "/d", { headers: [{ name: "Content-Type", values: ["application/json"] }], body: '{"a":1}' }));
    expect(bodyJson(res)).toEqual({ type: "application/json", text: '{"a":1}', parsed: { a: 1 } });
  });

  it("finds a route declared under the full path when the stripped path has none", async () => {
    const full = createRouter({ "GET /api/legacy/status": () => ({ legacy: true }), "GET /status/:x": (req) => ({ x: req.params.x }) }, { pluginName: "legacy" });
    expect(bodyJson(await full.handle(wireRequest("GET", "/api/legacy/status")))).toEqual({ legacy: true });
    expect(bodyJson(await full.handle(wireRequest("GET", "/api/legacy/status/7")))).toEqual({ x: "7" });
  });

  it("lets * match any method", async () => {
    expect(bodyJson(await router.handle(wireRequest("PATCH", "/any")))).toEqual({ method: "PATCH" });
  });

  it("answers HEAD with the GET route and no body", async () => {
    const res = await router.handle(wireRequest("HEAD", "/hello"));
    expect(res.statusCode).toBe(200);
    expect(res.body.length).toBe(0);
  });

  it("lists routes with normalised paths and methods", () => {
    expect(router.routes).toContainEqual({ method: "GET", path: "/users/:id", description: "" });
    expect(router.routes).toContainEqual({ method: "*", path: "/any", description: "" });
  });
});

describe("router: bodies and headers", () => {
  const { router } = makeRouter();

  it("parses a JSON body and reads headers case-insensitively", async () => {
    const res = await router.handle(
      wireRequest("POST", "/echo", { headers: [{ name: "Content-Type", values: ["application/json"] }], body: '{"a":[1,2]}' }),
    );
    expect(res.statusCode).toBe(200);
    expect(bodyJson(res)).toEqual({ got: { a: [1, 2] }, type: "application/json" });
  });

  it("answers 400 with a clear message on invalid JSON, and on an empty body", async () => {
    const bad = await router.handle(wireRequest("POST", "/echo", { body: "{nope" }));
    expect(bad.statusCode).toBe(400);
    expect((bodyJson(bad) as { error: string }).error).toMatch(/^invalid JSON in request body/);
    const empty = await router.handle(wireRequest("POST", "/echo"));
    expect(empty.statusCode).toBe(400);
    expect((bodyJson(empty) as { error: string }).error).toMatch(/empty body/);
  });

  it("keeps every value of a multi-value request header (one entry or repeated entries)", async () => {
    const res = await router.handle(
      wireRequest("GET", "/headers", {
        headers: [
          { name: "Accept", values: ["text/html", "application/json"] },
          { name: "accept", values: ["*/*"] },
        ],
      }),
    );
    expect(bodyJson(res)).toEqual({ accept: ["text/html", "application/json", "*/*"], first: "text/html" });
  });

  it("sends several Set-Cookie values", async () => {
    const res = await router.handle(wireRequest("GET", "/cookies"));
    expect(headerValues(res, "set-cookie")).toEqual(["a=1", "b=2"]);
  });

  it("builds text, raw, 204 and bytes responses", async () => {
    const t = await router.handle(wireRequest("GET", "/text"));
    expect(headerValues(t, "content-type")).toEqual(["text/plain; charset=utf-8"]);
    expect(headerValues(t, "x-one")).toEqual(["1"]);
    expect(Buffer.from(t.body).toString()).toBe("plain");

    const raw = await router.handle(wireRequest("GET", "/raw"));
    expect(raw.statusCode).toBe(201);
    expect(headerValues(raw, "content-type")).toEqual(["image/png"]);
    expect([...raw.body]).toEqual([1, 2, 3]);

    const none = await router.handle(wireRequest("GET", "/nothing"));
    expect(none.statusCode).toBe(204);
    expect(none.body.length).toBe(0);

    const bytes = await router.handle(wireRequest("GET", "/bytes"));
    expect(headerValues(bytes, "content-type")).toEqual(["application/octet-stream"]);
    expect(Buffer.from(bytes.body).toString()).toBe("xyz");
  });
});

describe("router: errors", () => {
  it("answers 404 with the method and path", async () => {
    const { router } = makeRouter();
    const res = await router.handle(wireRequest("GET", "/missing?x=1"));
    expect(res.statusCode).toBe(404);
    expect(bodyJson(res)).toEqual({ error: "no route for GET /missing" });
  });

  it("answers 405 with Allow when the path exists for other methods", async () => {
    const { router } = makeRouter();
    const res = await router.handle(wireRequest("PUT", "/users/3"));
    expect(res.statusCode).toBe(405);
    expect(headerValues(res, "allow")).toEqual(["DELETE, GET, HEAD"]);
    expect((bodyJson(res) as { error: string }).error).toMatch(/PUT/);
  });

  it("answers 500 when a handler throws, logs it, and keeps serving", async () => {
    const { router, lines, boomCalls } = makeRouter();
    const res = await router.handle(wireRequest("GET", "/boom"));
    expect(res.statusCode).toBe(500);
    expect(bodyJson(res)).toEqual({ error: "kaboom" });
    const again = await router.handle(wireRequest("GET", "/boom"));
    expect(again.statusCode).toBe(500);
    expect(boomCalls()).toBe(2);
    expect((await router.handle(wireRequest("GET", "/hello"))).statusCode).toBe(200);
    const logged = lines.map((line) => JSON.parse(line) as { level: string; msg: string; err: { message: string } });
    expect(logged[0]).toMatchObject({ level: "error", msg: "route handler threw", err: { message: "kaboom" } });
  });

  it("answers 500 for an async handler that rejects", async () => {
    const { router } = makeRouter();
    const res = await router.handle(wireRequest("GET", "/async-fail"));
    expect(res.statusCode).toBe(500);
    expect(bodyJson(res)).toEqual({ error: "late failure" });
  });

  it("answers an HttpError's status and headers", async () => {
    const { router, lines } = makeRouter();
    const res = await router.handle(wireRequest("GET", "/teapot"));
    expect(res.statusCode).toBe(418);
    expect(headerValues(res, "x-why")).toEqual(["tea"]);
    expect(bodyJson(res)).toEqual({ error: "short and stout" });
    expect(lines).toEqual([]); // a 4xx is the client's problem, not a plugin error
  });

  it("answers 500 for a response that cannot be encoded", async () => {
    const lines: string[] = [];
    const router = createRouter(
      {
        "GET /cycle": () => {
          const a: Record<string, unknown> = {};
          a.self = a;
          return a;
        },
      },
      { log: createLogger({ write: (line) => lines.push(line) }) },
    );
    const res = await router.handle(wireRequest("GET", "/cycle"));
    expect(res.statusCode).toBe(500);
    expect(lines).toHaveLength(1);
  });
});

describe("definePlugin: validation, once", () => {
  const meta = { name: "ok", version: "1.0.0" };

  it("rejects bad names and versions", () => {
    expect(() => definePlugin({ metadata: { name: "", version: "1" } })).toThrow(/non-empty/);
    expect(() => definePlugin({ metadata: { name: "a/b", version: "1" } })).toThrow(/letters, digits/);
    expect(() => definePlugin({ metadata: { name: "a b", version: "1" } })).toThrow(/invalid/);
    expect(() => definePlugin({ metadata: { name: "a", version: "" } })).toThrow(/version/);
  });

  it("rejects malformed and duplicate routes", () => {
    expect(() => definePlugin({ metadata: meta, routes: { "/x": () => 1 } })).toThrow(/invalid route key "\/x"/);
    expect(() => definePlugin({ metadata: meta, routes: { "GET x": () => 1 } })).toThrow(/invalid route key/);
    expect(() => definePlugin({ metadata: meta, routes: { "GET /a/:id": () => 1, "GET /a/:other/": () => 2 } })).toThrow(/duplicates/);
    expect(() => definePlugin({ metadata: meta, routes: { "GET /a/:id/:id": () => 1 } })).toThrow(/twice/);
    expect(() => definePlugin({ metadata: meta, routes: { "GET /a/:": () => 1 } })).toThrow(/parameter name/);
    expect(() => definePlugin({ metadata: meta, routes: { "GET /a": {} as never } })).toThrow(/no handler/);
  });

  it("rejects a malformed config schema", () => {
    expect(() => definePlugin({ metadata: meta, configSchema: { x: { type: "date" as never } } })).toThrow(/configSchema.x/);
    expect(() => definePlugin({ metadata: meta, configSchema: { x: { type: "string", pattern: "(" } } })).toThrow(/pattern/);
  });

  it("compiles routes once, not per request", async () => {
    const plugin = definePlugin({ metadata: meta, routes: { "get /a": { handler: () => "a", description: "the a route" } } });
    const spy = jest.spyOn(plugin.router as unknown as { add: () => unknown }, "add");
    await plugin.router.handle(wireRequest("GET", "/a"));
    await plugin.router.handle(wireRequest("GET", "/a"));
    expect(spy).not.toHaveBeenCalled();
    expect(plugin.routes).toEqual([{ method: "GET", path: "/a", description: "the a route" }]);
    expect(plugin.metadata).toEqual({ name: "ok", version: "1.0.0", qntxVersion: "", description: "", author: "", license: "" });
  });
});
