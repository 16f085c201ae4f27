/**
 * The runner with SDK plugins written in TypeScript, the `@qntx/sdk` fallback for plugins that
 * do not install it, docs/qntx-format-plugins.md's example as written, and the optional extras
 * (WebSocket, Health). Each plugin is a real `qntx-ts-runner` process over real gRPC.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  decodeWebSocketFrame,
  DomainPluginServiceService,
  encodeWebSocketFrame,
  WebSocketMessage_Type as WsType,
  type Empty,
  type ExecuteJobRequest,
  type ExecuteJobResponse,
  type GlyphDefResponse,
  type HealthResponse,
  type InitializeRequest,
  type InitializeResponse,
  type MetadataResponse,
  type WebSocketFrame,
} from "@qntx/protocol";
import { QNTX_FIXTURES, RUNNER, http, init, killRunners, serveFixture } from "./fixtures/qntx-runner.js";
import { bodyJson, call } from "./helpers.js";

beforeAll(() => {
  if (!existsSync(RUNNER)) throw new Error(`${RUNNER} is missing: run \`pnpm --filter @qntx/sdk build\` first`);
});

afterAll(() => killRunners());

describe("SDK plugins written in TypeScript", () => {
  it("serves a default export made by definePlugin as is", async () => {
    const p = await serveFixture("sdk-plugin.ts");
    expect((await call<Empty, MetadataResponse>(p.client, p.client.metadata, {})).name).toBe("qsdk");
    await call(p.client, p.client.initialize, init());
    expect(bodyJson(await http(p.client, "GET", "/api/qsdk/typed/hey"))).toEqual({ word: "hey", upper: "HEY" });
  });

  it("leaves a module that calls serve() itself alone: one port line, its own server", async () => {
    const p = await serveFixture("sdk-serve.ts", ["--port", "0"]);
    expect((await call<Empty, MetadataResponse>(p.client, p.client.metadata, {})).name).toBe("qserve");
    expect(bodyJson(await http(p.client, "GET", "/who"))).toEqual({ servedBy: "serve()", pid: p.runner.child.pid });
    expect(p.runner.stdoutLines.filter((line) => line.startsWith("QNTX_PLUGIN_PORT="))).toHaveLength(1);
    await call<Empty, Empty>(p.client, p.client.shutdown, {});
    expect(await p.runner.exit).toEqual({ code: 0, signal: null });
  });
});

describe("@qntx/sdk imported by a plugin that does not install it", () => {
  let dir: string;
  beforeAll(() => {
    // Outside the repository: no node_modules above it holds @qntx/sdk.
    dir = mkdtempSync(join(tmpdir(), "qntx-sdk-fallback-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("resolves it to the runner's SDK for an ES module", async () => {
    const esm = join(dir, "esm");
    mkdirSync(esm);
    writeFileSync(join(esm, "package.json"), JSON.stringify({ type: "module" }));
    copyFileSync(join(QNTX_FIXTURES, "sdk-plugin.ts"), join(esm, "sdk-plugin.ts"));
    const p = await serveFixture(join(esm, "sdk-plugin.ts"), ["--port", "0"], dir);
    await call(p.client, p.client.initialize, init());
    expect(bodyJson(await http(p.client, "GET", "/typed/ok"))).toEqual({ word: "ok", upper: "OK" });
  });

  it("resolves it for a QNTX folder loaded as CommonJS (no \"type\": \"module\")", async () => {
    const cjs = join(dir, "cjs");
    mkdirSync(cjs);
    writeFileSync(join(cjs, "package.json"), JSON.stringify({ name: "cjs-plugin", "qntx-plugin": true }));
    writeFileSync(
      join(cjs, "plugin.ts"),
      [
        'import { json } from "@qntx/sdk";',
        "export default {",
        '  name: "qcjs",',
        "  registerHTTP(mux: any) {",
        '    mux.handle("GET", "/made-by-sdk", () => json({ sdk: true }, { status: 207 }));',
        "  },",
        "};",
      ].join("\n"),
    );
    const p = await serveFixture(cjs, ["--grpc-port", "0"], dir);
    const meta = await call<Empty, MetadataResponse>(p.client, p.client.metadata, {});
    // No version in the module: QNTX's runtime reported 1.0.0.
    expect(meta).toMatchObject({ name: "qcjs", version: "1.0.0", qntxVersion: "" });
    await call(p.client, p.client.initialize, init());
    const res = await http(p.client, "GET", "/made-by-sdk");
    expect(res.statusCode).toBe(207);
    expect(bodyJson(res)).toEqual({ sdk: true });
  });
});

describe("the docs' example and optional extras", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "qntx-runner-extras-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs docs/qntx-format-plugins.md's example as written: `this` is the plugin object in init, registerHTTP and execute_job", async () => {
    const folder = join(dir, "my-plugin");
    mkdirSync(folder);
    writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "my-plugin", "qntx-plugin": true }));
    writeFileSync(
      join(folder, "plugin.ts"),
      `// @ts-nocheck
export default {
  name: "greeter", version: "0.1.0", qntx_version: ">=0.1.0",
  handler_names: ["count"],
  schedules: [{ handler_name: "count", interval_seconds: 3600, enabled_by_default: true }],
  init(req) { this.greeting = req.config.greeting ?? "Hello"; },
  registerHTTP(mux) {
    mux.handle("GET", "/hi/{name}", (req, res) => res.json({ message: \`\${this.greeting}, \${req.params.name}\` }));
    mux.handle("POST", "/items", async (req, res) => res.status(201).json(await req.json()));
  },
  registerGlyphs() { return [{ symbol: "👋", title: "Greeter", content_path: "/hi/you" }]; },
  async execute_job(job, ctx) { ctx.progress(1, 1); return { counted: job.payload?.items?.length ?? 0 }; },
  shutdown() {},
};
`,
    );
    const p = await serveFixture(folder, ["--port", "0"], dir);
    const initialized = await call<InitializeRequest, InitializeResponse>(p.client, p.client.initialize, init({ greeting: "Hi" }));
    expect(initialized.schedules).toEqual([{ handlerName: "count", intervalSeconds: 3600, enabledByDefault: true, description: "", atsCode: "" }]);
    expect(bodyJson(await http(p.client, "GET", "/api/greeter/hi/you"))).toEqual({ message: "Hi, you" });
    const created = await http(p.client, "POST", "/items", '{"a":1}');
    expect([created.statusCode, bodyJson(created)]).toEqual([201, { a: 1 }]);
    const counted = await call<ExecuteJobRequest, ExecuteJobResponse>(p.client, p.client.executeJob, { jobId: "c", handlerName: "count", payload: Buffer.from('{"items":[1,2,3]}') });
    expect(JSON.parse(Buffer.from(counted.result).toString("utf8"))).toEqual({ counted: 3 });
    const glyphs = await call<Empty, GlyphDefResponse>(p.client, p.client.registerGlyphs, {});
    expect(glyphs.glyphs[0]).toMatchObject({ symbol: "👋", contentPath: "/hi/you", defaultWidth: 0 });
  });

  it("honours the plugin folder's tsconfig.json (paths aliases), in both module systems", async () => {
    for (const type of ["module", undefined]) {
      const folder = join(dir, `paths-${type ?? "commonjs"}`);
      mkdirSync(join(folder, "lib"), { recursive: true });
      writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "paths", "qntx-plugin": true, ...(type ? { type } : {}) }));
      writeFileSync(join(folder, "tsconfig.json"), JSON.stringify({ compilerOptions: { paths: { "@lib/*": ["./lib/*"] } } }));
      writeFileSync(join(folder, "lib", "word.ts"), 'export const word = (): string => "aliased";\n');
      writeFileSync(
        join(folder, "plugin.ts"),
        'import { word } from "@lib/word";\nexport default { name: "qpaths", registerHTTP(mux: any) { mux.handle("GET", "/w", (_req: any, res: any) => res.text(word())); } };\n',
      );
      const p = await serveFixture(folder, ["--port", "0"], dir);
      await call(p.client, p.client.initialize, init());
      expect(Buffer.from((await http(p.client, "GET", "/w")).body).toString("utf8")).toBe("aliased");
    }
  });

  it("serves WebSockets through an optional websocket(session) hook (UNIMPLEMENTED without one) and Health through health()", async () => {
    const file = join(dir, "ws.ts");
    writeFileSync(
      file,
      `// @ts-nocheck
export default {
  name: "qws",
  health() { return { healthy: false, message: "warming up", details: { sessions: 0 } }; },
  websocket(session) {
    session.on("message", (data) => session.send(\`\${this.name}:\${data.toString("utf8")}\`));
  },
};
`,
    );
    const p = await serveFixture(file, ["--port", "0"], dir);
    expect(await call<Empty, HealthResponse>(p.client, p.client.health, {})).toEqual({ healthy: false, message: "warming up", details: { sessions: "0" } });
    const stream = p.client.makeBidiStreamRequest<WebSocketFrame, WebSocketFrame>(
      DomainPluginServiceService.handleWebSocket.path, encodeWebSocketFrame, decodeWebSocketFrame, new grpc.Metadata(),
    );
    const reply = new Promise<WebSocketFrame>((resolve) => stream.on("data", (frame: WebSocketFrame) => frame.type === WsType.DATA && resolve(frame)));
    stream.on("error", () => undefined);
    stream.write({ type: WsType.CONNECT, data: Buffer.alloc(0), headers: { path: "/ws/qws" }, timestamp: 1n });
    stream.write({ type: WsType.DATA, data: Buffer.from("hello"), headers: {}, timestamp: 2n });
    expect(Buffer.from((await reply).data).toString("utf8")).toBe("qws:hello");
    stream.cancel();

    const plain = await serveFixture("single-file.ts");
    const refused = plain.client.makeBidiStreamRequest<WebSocketFrame, WebSocketFrame>(
      DomainPluginServiceService.handleWebSocket.path, encodeWebSocketFrame, decodeWebSocketFrame, new grpc.Metadata(),
    );
    refused.on("error", () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => refused.on("status", resolve));
    refused.write({ type: WsType.CONNECT, data: Buffer.alloc(0), headers: {}, timestamp: 1n });
    expect((await status).code).toBe(grpc.status.UNIMPLEMENTED);
  });
});
