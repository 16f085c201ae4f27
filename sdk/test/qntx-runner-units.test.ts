/**
 * The runner's pieces in process: QNTX's `res` semantics, the recording mux, the `req`
 * adaptation and export classification. The process and gRPC paths are in qntx-runner.test.ts.
 */
import { describe, expect, it } from "@jest/globals";
import { definePlugin } from "../src/define.js";
import { createLogger } from "../src/log.js";
import { createRequest } from "../src/request.js";
import { createQntxResponse, qntxHeaders, toQntxRequest } from "../src/qntx-runner/http.js";
import { classifyExports } from "../src/qntx-runner/loader.js";
import { createRecordingMux } from "../src/qntx-runner/mux.js";
import { QntxModuleError } from "../src/qntx-runner/errors.js";

function collectingLog(): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

const bodyText = (body: Buffer) => body.toString("utf8");

describe("QNTX res", () => {
  it("replaces a header on setHeader, adds on appendHeader, keeps arrays as several values", () => {
    const { log } = collectingLog();
    const res = createQntxResponse(log, "GET /x");
    res.setHeader("X-One", "a").setHeader("x-one", "b").appendHeader("Set-Cookie", "c=1").appendHeader("set-cookie", ["d=2", "e=3"]);
    expect(res.getHeader("X-ONE")).toEqual(["b"]);
    const out = res.finish(undefined);
    expect(out.headers).toEqual({ "x-one": ["b"], "Set-Cookie": ["c=1", "d=2", "e=3"] });
    expect(out.status).toBe(200);
    expect(out.body.length).toBe(0);
  });

  it("keeps a status set before json(), and a content type set before send()", () => {
    const { log } = collectingLog();
    const res = createQntxResponse(log, "GET /x");
    res.setHeader("Content-Type", "text/html").status(418).send("<b>teapot</b>");
    const out = res.finish(undefined);
    expect(out.status).toBe(418);
    expect(out.headers).toEqual({ "Content-Type": ["text/html"] });
    expect(bodyText(out.body)).toBe("<b>teapot</b>");
  });

  it("sends objects as JSON, bytes as octet-stream, strings as text", () => {
    const { log } = collectingLog();
    const json = createQntxResponse(log, "r").send({ a: [1] }) as ReturnType<typeof createQntxResponse>;
    expect(json.finish(undefined).headers).toEqual({ "Content-Type": ["application/json; charset=utf-8"] });
    const bytes = createQntxResponse(log, "r").send(new Uint8Array([9])) as ReturnType<typeof createQntxResponse>;
    expect(bytes.finish(undefined).headers).toEqual({ "Content-Type": ["application/octet-stream"] });
    const text = createQntxResponse(log, "r");
    text.text("hi");
    expect(text.sent).toBe(true);
    expect(bodyText(text.finish(undefined).body)).toBe("hi");
  });

  it("uses a handler's returned value when nothing was sent, and keeps what was sent otherwise", () => {
    const { log } = collectingLog();
    const returned = createQntxResponse(log, "r").status(201);
    const out = (returned as ReturnType<typeof createQntxResponse>).finish({ made: true });
    expect(out.status).toBe(201);
    expect(JSON.parse(bodyText(out.body))).toEqual({ made: true });
    const sent = createQntxResponse(log, "r");
    sent.json({ first: true });
    expect(JSON.parse(bodyText(sent.finish({ ignored: true }).body))).toEqual({ first: true });
  });

  it("refuses a status outside 100–599 and warns about a body written after the handler returned", () => {
    const { log, lines } = collectingLog();
    const res = createQntxResponse(log, "GET /late");
    expect(() => res.status(99)).toThrow("res.status: 99 is not an HTTP status (100–599)");
    res.finish(undefined);
    res.json({ late: true });
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", msg: expect.stringContaining("response written after the handler returned"), route: "GET /late" }));
  });
});

describe("QNTX mux", () => {
  it("takes (method, path, fn), (path, fn) as GET and (\"METHOD /path\", fn)", () => {
    const { log } = collectingLog();
    const mux = createRecordingMux(log);
    const fn = () => undefined;
    mux.handle("post", "/a", fn);
    mux.handle("/b/{id}", fn);
    mux.handle("DELETE /c", fn);
    expect(mux.routes().map((r) => `${r.method} ${r.path}`)).toEqual(["POST /a", "GET /b/:id", "DELETE /c"]);
  });

  it("keeps the last of two registrations of one route, with a warning", () => {
    const { log, lines } = collectingLog();
    const mux = createRecordingMux(log);
    const first = () => "first";
    const second = () => "second";
    mux.handle("GET", "/x", first);
    mux.handle("GET", "/x", second);
    expect(mux.routes()).toEqual([{ method: "GET", path: "/x", handler: second }]);
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", route: "GET /x" }));
  });

  it("refuses a handler that is not a function and a path without a leading slash", () => {
    const { log } = collectingLog();
    const mux = createRecordingMux(log);
    expect(() => mux.handle("GET", "/x", "nope" as never)).toThrow("mux.handle(GET /x): the handler must be a function");
    expect(() => mux.handle("GET", "x", () => undefined)).toThrow('path must be a string starting with "/"');
  });
});

describe("QNTX req", () => {
  it("gives headers as QNTX's runtime does (the wire list), readable by lower-case name too, every value in headersDistinct", async () => {
    const headers = [{ name: "Accept", values: ["a", "b"] }, { name: "Content-Type", values: ["text/plain"] }];
    const wire = { method: "POST", path: "/api/p/x?a=1&a=2&b=3", headers, body: Buffer.from("hi") };
    const req = toQntxRequest(createRequest(wire, { method: "POST", path: "/x", query: "a=1&a=2&b=3", params: {} }));
    // QNTX's runtime: `req.headers` is the request's HTTPHeader list, names as the host sent them.
    expect(Array.isArray(req.headers)).toBe(true);
    expect([...req.headers]).toEqual(headers);
    expect(req.headers.find((h) => h.name === "Content-Type")?.values).toEqual(["text/plain"]);
    expect(JSON.parse(JSON.stringify(req.headers))).toEqual(headers);
    // Node's way, as this runner offered before: lower-case name, values joined.
    expect(req.headers["accept"]).toBe("a, b");
    expect(req.headers["content-type"]).toBe("text/plain");
    expect(req.header("CONTENT-TYPE")).toBe("text/plain");
    expect(req.headersDistinct).toEqual({ accept: ["a", "b"], "content-type": ["text/plain"] });
    expect(req.query).toEqual({ a: "2", b: "3" });
    expect(req.searchParams.getAll("a")).toEqual(["1", "2"]);
    expect(await req.text()).toBe("hi");
    await expect(req.json()).rejects.toMatchObject({ name: "HttpError", status: 400 });
  });
});

describe("qntxHeaders", () => {
  it("never lets a header name shadow an index or an array member", () => {
    const raw = [{ name: "Find", values: ["x"] }, { name: "Length", values: ["9"] }, { name: "0", values: ["zero"] }, { name: "7", values: ["seven"] }, { name: "X-Ok", values: ["y"] }];
    const headers = qntxHeaders(raw, { find: ["x"], length: ["9"], "0": ["zero"], "7": ["seven"], "x-ok": ["y"] });
    expect(headers.length).toBe(5);
    expect(typeof headers.find).toBe("function");
    expect(headers.find((h) => h.name === "X-Ok")?.values).toEqual(["y"]);
    expect(headers[0]).toEqual({ name: "Find", values: ["x"] });
    expect(headers["x-ok"]).toBe("y");
    expect(Object.keys(headers)).toEqual(["0", "1", "2", "3", "4"]);
  });
});

describe("classifying a module's exports", () => {
  it("unwraps the CommonJS double default and recognises QNTX objects and SDK definitions", () => {
    const qntx = { name: "q", version: "1" };
    expect(classifyExports({ default: { __esModule: true, default: qntx } }, "/p.ts", false)).toEqual({ kind: "qntx", module: qntx, file: "/p.ts" });
    // The CommonJS build of a module without a default export: its named exports, no plugin.
    expect(() => classifyExports({ default: { __esModule: true, x: 1 } }, "/p.ts", false)).toThrow("/p.ts has no default export (it exports: x)");
    const def = definePlugin({ metadata: { name: "d", version: "1" } });
    expect(classifyExports({ default: def }, "/p.ts", false)).toEqual({ kind: "definition", definition: def, file: "/p.ts" });
    expect(classifyExports({ plugin: def }, "/p.ts", false)).toEqual({ kind: "definition", definition: def, file: "/p.ts" });
    const plain = classifyExports({ default: { metadata: { name: "m", version: "1" } } }, "/p.ts", false);
    expect(plain.kind).toBe("definition");
    expect(classifyExports({}, "/p.ts", true)).toEqual({ kind: "self-served", file: "/p.ts" });
    // serve(def) and `export default def` in one file: it already serves.
    expect(classifyExports({ default: def }, "/p.ts", true)).toEqual({ kind: "self-served", file: "/p.ts" });
    // serve(def) and `export const plugin = def`: also already serving, not served twice.
    expect(classifyExports({ plugin: def }, "/p.ts", true)).toEqual({ kind: "self-served", file: "/p.ts" });
    // A QNTX object is served even when the module installed signal handlers of its own.
    expect(classifyExports({ default: qntx }, "/p.ts", true)).toEqual({ kind: "qntx", module: qntx, file: "/p.ts" });
  });

  it("refuses a function or an array as the default export", () => {
    expect(() => classifyExports({ default: () => undefined }, "/p.ts", false)).toThrow(QntxModuleError);
    expect(() => classifyExports({ default: () => undefined }, "/p.ts", false)).toThrow("the default export of /p.ts is a function, not a plugin object");
    expect(() => classifyExports({ default: [] }, "/p.ts", false)).toThrow("is an array");
  });
});
