/**
 * Every way a QNTX-format plugin can fail gives a clear error naming the file, with a hint:
 * before the port line (stderr, exit 1; bad flags exit 2), in Initialize, or in
 * RegisterGlyphs / ExecuteJob. Each case is a real runner process.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  InitializeRequest,
  type DomainPluginServiceClient,
  type Empty,
  type ExecuteJobRequest,
  type ExecuteJobResponse,
  type GlyphDefResponse,
  type HTTPRequest,
  type HTTPResponse,
  type MetadataResponse,
} from "@qntx/protocol";
import { QNTX_FIXTURES, killRunners, startRunner } from "./fixtures/qntx-runner.js";
import { bodyJson, call, dial, wireRequest } from "./helpers.js";

let dir: string;
const clients: DomainPluginServiceClient[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "qntx-runner-failures-"));
});

afterAll(() => {
  for (const client of clients) client.close();
  killRunners();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `source` as a plugin file in the temp dir and returns its path. */
function pluginFile(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

/** Runs the runner on `pluginPath` and expects it to exit `code` before any port line. */
async function failsToStart(pluginPath: string | undefined, code = 1, extra: string[] = ["--port", "0"]): Promise<string> {
  const runner = startRunner([...(pluginPath === undefined ? [] : ["--plugin-path", pluginPath]), ...extra]);
  const exit = await runner.exit;
  expect(exit).toEqual({ code, signal: null });
  expect(runner.stdoutLines.filter((line) => line.startsWith("QNTX_PLUGIN_PORT="))).toEqual([]);
  const stderr = runner.stderr();
  expect(stderr).toMatch(/^qntx-ts-runner: error: /m);
  expect(stderr).toMatch(/^qntx-ts-runner: hint: /m);
  return stderr;
}

async function started(pluginPath: string): Promise<DomainPluginServiceClient> {
  const runner = startRunner(["--plugin-path", pluginPath, "--grpc-port", "0"]);
  const client = dial(`127.0.0.1:${await runner.port}`);
  clients.push(client);
  return client;
}

describe("failures before the port line", () => {
  it("refuses a folder whose package.json lacks \"qntx-plugin\": true", async () => {
    const stderr = await failsToStart("no-flag");
    expect(stderr).toContain(`${QNTX_FIXTURES}no-flag/package.json has no "qntx-plugin" field`);
    expect(stderr).toContain('add "qntx-plugin": true');
  });

  it("refuses a folder without package.json", async () => {
    const empty = join(dir, "empty-folder");
    mkdirSync(empty);
    const stderr = await failsToStart(empty);
    expect(stderr).toContain(`${empty} is a folder without a package.json`);
  });

  it("refuses a plugin folder without plugin.ts", async () => {
    const stderr = await failsToStart("no-entry");
    expect(stderr).toContain(`plugin folder ${QNTX_FIXTURES}no-entry has no plugin.ts`);
    expect(stderr).toContain("export default { name, version, registerHTTP(mux)");
  });

  it("refuses a module without a default export, listing what it exports", async () => {
    const stderr = await failsToStart("no-default.ts");
    expect(stderr).toContain(`${QNTX_FIXTURES}no-default.ts has no default export (it exports: name, registerHTTP)`);
    expect(stderr).toContain("export default definePlugin");
  });

  it("refuses a default export without a name", async () => {
    const stderr = await failsToStart("no-name.ts");
    expect(stderr).toContain(`the default export of ${QNTX_FIXTURES}no-name.ts has no \`name\``);
  });

  it("reports a syntax error with file, line and column", async () => {
    const file = pluginFile("syntax.ts", 'export default {\n  name: "broken",\n  registerHTTP(mux {\n  },\n};\n');
    const stderr = await failsToStart(file);
    expect(stderr).toContain(`cannot load ${file}`);
    expect(stderr).toContain(`${file}:3:`);
    expect(stderr).toContain("fix the syntax error");
  });

  it("reports a dependency that is not installed, with the folder to install it in", async () => {
    const stderr = await failsToStart("missing-dep");
    expect(stderr).toContain("qntx-fixture-not-installed-pad");
    expect(stderr).toContain(`install the plugin's dependencies in ${QNTX_FIXTURES}missing-dep`);
  });

  it("reports a module whose top-level code throws", async () => {
    const file = pluginFile("throws.ts", 'throw new Error("no database at load");\nexport default { name: "x" };\n');
    const stderr = await failsToStart(file);
    expect(stderr).toContain(`cannot load ${file}: no database at load`);
  });

  it("refuses a hook that is not a function and a plugin name the host could not mount", async () => {
    expect(await failsToStart(pluginFile("hook.ts", 'export default { name: "hooky", init: 5 };\n'))).toContain("init of the plugin in");
    expect(await failsToStart(pluginFile("badname.ts", 'export default { name: "has space" };\n'))).toContain('metadata.name "has space" is invalid');
    expect(await failsToStart(pluginFile("list.ts", 'export default { name: "listy", handler_names: "one" };\n'))).toContain("handler_names of the plugin");
  });

  it("exits 1 when a module without a default export installs signal handlers but serves nothing", async () => {
    const file = pluginFile("signals.ts", 'process.on("SIGTERM", () => undefined);\nprocess.on("SIGINT", () => undefined);\nexport const x = 1;\n');
    expect(await failsToStart(file)).toContain(`${file} installed signal handlers but serves nothing, and has no default export`);
  });

  it("refuses a path that does not exist and a file that is not a module", async () => {
    expect(await failsToStart(join(dir, "nowhere"))).toContain(`plugin path ${join(dir, "nowhere")} does not exist`);
    expect(await failsToStart(pluginFile("notes.txt", "hello"))).toContain("is not a TypeScript or JavaScript module");
  });

  it("exits 2 without --plugin-path or with a bad port", async () => {
    expect(await failsToStart(undefined, 2)).toContain("--plugin-path is required");
    expect(await failsToStart("routes", 2, ["--grpc-port", "http"])).toContain("--grpc-port: expected a port number");
  });

  it("exits 1 with the runner's own error and hint when the module loads but cannot listen", async () => {
    // 203.0.113.1 (TEST-NET-3) is on no interface here: the bind fails after the module loaded.
    const stderr = await failsToStart("routes", 1, ["--address", "203.0.113.1:0"]);
    const lines = stderr.split("\n").filter((line) => line.startsWith("qntx-ts-runner: "));
    expect(lines).toEqual([
      expect.stringMatching(/^qntx-ts-runner: error: could not start plugin qroutes: .*203\.0\.113\.1/),
      "qntx-ts-runner: hint: pass a free port, or --port 0 to let the system pick one",
    ]);
    // serve()'s own log line is replaced, not printed beside the runner's.
    expect(stderr).not.toContain('"msg":"could not start plugin');
  });
});

describe("failures once serving", () => {
  it("fails Initialize when init throws, naming the file, with a hint; the plugin keeps answering", async () => {
    const client = await started("init-throws");
    const err = (await call(client, client.initialize, InitializeRequest.fromPartial({ config: { a: "1" } })).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toContain(`init() of ${QNTX_FIXTURES}init-throws/plugin.ts failed: database_url missing (config keys: a)`);
    expect(err.details).toContain("Hint: init receives { config, auth_token, ats_store_endpoint, … }; check [plugins.initthrows] config");
    expect((await call<Empty, MetadataResponse>(client, client.metadata, {})).name).toBe("initthrows");
    // Routes come with the first successful Initialize: none yet.
    const res = await call<HTTPRequest, HTTPResponse>(client, client.handleHttp, wireRequest("GET", "/never"));
    expect(res.statusCode).toBe(503);
    expect(bodyJson(res)).toMatchObject({ error: "plugin initthrows has not been initialized" });
  });

  it("answers RegisterGlyphs with an error naming the bad glyph and field", async () => {
    const client = await started("bad-glyphs.ts");
    const err = (await call<Empty, GlyphDefResponse>(client, client.registerGlyphs, {}).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toContain(`registerGlyphs() of ${QNTX_FIXTURES}bad-glyphs.ts failed: glyphs[1].default_width must be a whole number of pixels, got "wide"`);
  });

  it("fails Initialize when registerHTTP throws or a schedule names an unknown handler", async () => {
    const routes = await started(pluginFile("routes-throw.ts", 'export default { name: "rt", registerHTTP() { throw new Error("no mux today"); } };\n'));
    const routeErr = (await call(routes, routes.initialize, InitializeRequest.fromPartial({})).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(routeErr.details).toContain("registerHTTP(mux) of");
    expect(routeErr.details).toContain("no mux today");

    const sched = await started(pluginFile("sched.ts", 'export default { name: "sch", handler_names: ["a"], schedules: [{ handler_name: "b", interval_seconds: 5 }] };\n'));
    const schedErr = (await call(sched, sched.initialize, InitializeRequest.fromPartial({})).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(schedErr.details).toContain('schedules[0]: handler_name "b" is not in handler_names (a)');
  });

  it("fails a job whose module announces handler_names but has no execute_job, in the body", async () => {
    const file = pluginFile("no-exec.ts", 'export default { name: "noexec", handler_names: () => ["work"] };\n');
    const client = await started(file);
    const initialized = await call(client, client.initialize, InitializeRequest.fromPartial({}));
    expect((initialized as { handlerNames: string[] }).handlerNames).toEqual(["work"]);
    const res = await call<ExecuteJobRequest, ExecuteJobResponse>(client, client.executeJob, { jobId: "j", handlerName: "work", payload: Buffer.alloc(0) });
    expect(res.success).toBe(false);
    expect(res.error).toBe(`${file} announces handler work in handler_names but has no execute_job(job, ctx) or executeJob(job, ctx) function`);
  });
});
