/**
 * Compatibility the other way: plugins built for this host (the SDK example `hello`, an SDK
 * plugin with job handlers, the Python example) load in a QNTX-shaped host. The host here is
 * the stand-in of helpers/qntx-standin.ts, written only from docs/protocol.md's QNTX contract
 * with proto-loader and plain grpc-js clients; none of this repository's host code runs here.
 * Real processes, real sockets; the plugins' ATS and queue calls reach real stand-in services.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startStandinServices, structToJson, BAD_TOKEN, type StandinServices } from "./helpers/qntx-standin-services.js";
import { loadUnderStandin, type StandinLoad, type StandinPlugin } from "./helpers/qntx-standin.js";
import { freePort } from "./helpers/ports.js";
import { describeWithPython } from "./helpers/toolchain.js";

const fixture = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const HELLO = fixture("../../examples/hello/dist/main.js");
const JOB_PLUGIN = fixture("./fixtures/job-plugin.mjs");
const FAKE_PLUGIN = fixture("./fixtures/fake-plugin.mjs");
const PY_RUN = fixture("../../examples/python-plugin/run.sh");
const PY_STUBS = fixture("../../examples/python-plugin/gen/domain_pb2_grpc.py");

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

let services: StandinServices;
const loaded: StandinPlugin[] = [];

/** Loads a plugin under the stand-in from a fresh free base port; stopped in afterAll. */
async function load(options: Omit<StandinLoad, "basePort">): Promise<StandinPlugin> {
  const plugin = await loadUnderStandin({ ...options, basePort: await freePort() });
  loaded.push(plugin);
  return plugin;
}

const json = (buffer: Buffer): any => JSON.parse(buffer.toString("utf8"));

beforeAll(async () => {
  services = await startStandinServices();
});

afterAll(async () => {
  await Promise.all(loaded.map((p) => p.stop(500)));
  await services?.close();
});

describe("examples/hello under a QNTX-shaped host", () => {
  let hello: StandinPlugin;
  let init: any;

  beforeAll(async () => {
    if (!existsSync(HELLO)) throw new Error(`${HELLO} is missing: run \`pnpm build\``);
    hello = await load({ name: "hello", command: process.execPath, args: [HELLO] });
    init = await hello.initialize(services, { greeting: "Howdy" });
  });

  it("announces the port it serves on and answers Metadata with a semver version and a qntx_version range", async () => {
    expect(await hello.portLine).toBe(hello.port);
    expect(hello.port).toBeGreaterThanOrEqual(hello.requestedPort);
    const metadata = await hello.call("Metadata");
    expect(metadata).toMatchObject({ name: "hello", version: "0.1.0", qntx_version: ">=0.1.0", license: "MIT" });
    expect(metadata.version).toMatch(SEMVER);
  });

  it("announces its routes relative to /api/hello in InitializeResponse", () => {
    const routes = init.http_routes.map((r: { method: string; path: string }) => `${r.method} ${r.path}`);
    expect(routes).toEqual(expect.arrayContaining(["GET /hello", "GET /hello/:name", "POST /echo", "GET /cookies"]));
    expect(init.handler_names).toEqual([]);
  });

  it("answers the stripped path with the config string it got", async () => {
    const response = await hello.rawHttp("GET", "/hello?name=qntx");
    expect(response.status_code).toBe(200);
    expect(json(response.body)).toEqual({ message: "Howdy, qntx!" });
  });

  it("answers the full path /api/hello/… as well (QNTX's retry after a 404)", async () => {
    const response = await hello.rawHttp("GET", "/api/hello/hello/qntx");
    expect(response.status_code).toBe(200);
    expect(json(response.body)).toEqual({ message: "Howdy, qntx!" });
  });

  it("echoes a JSON body and keeps both Set-Cookie values", async () => {
    const echo = await hello.http("POST", "/echo", JSON.stringify({ a: [1, 2] }), { "Content-Type": ["application/json"] });
    expect(echo.status).toBe(200);
    expect(JSON.parse(echo.text)).toEqual({ echo: { a: [1, 2] }, headers: { "content-type": "application/json" } });
    const cookies = await hello.http("GET", "/cookies");
    expect(cookies.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/"]);
  });

  it("answers an unknown path with 404 in the body, in both forms", async () => {
    const response = await hello.http("GET", "/no/such/route");
    expect(response).toMatchObject({ status: 404, fullPathUsed: true });
  });

  it("reports health and its config schema", async () => {
    expect(await hello.call("Health")).toMatchObject({ healthy: true, message: "ok" });
    const schema = await hello.call("ConfigSchema");
    expect(schema.fields.greeting).toMatchObject({ type: "string", default_value: "Hello" });
  });

  it("exits by itself after Shutdown", async () => {
    expect(await hello.stop()).toMatchObject({ by: "shutdown", code: 0 });
  });
});

describe("an SDK plugin with job handlers under a QNTX-shaped host", () => {
  let jobs: StandinPlugin;
  let init: any;
  const config = { token: "s3cret", retries: "3", mode: "fast", tags: JSON.stringify(["a", "b,c"]), verbose: "true" };

  beforeAll(async () => {
    jobs = await load({ name: "jobs", command: process.execPath, args: [JOB_PLUGIN, "--name", "jobs", "--schema"] });
    init = await jobs.initialize(services, config);
  });

  it("announces its handlers in InitializeResponse", () => {
    expect(init.handler_names).toEqual(expect.arrayContaining(["echo", "write-att", "config", "slow"]));
  });

  it("runs a job sent with timeout_secs=300 and the raw handler name", async () => {
    const response = await jobs.executeJob("echo", { hello: "qntx" });
    expect(response).toMatchObject({ success: true, error: "", plugin_version: "2.3.4" });
    expect(json(response.result)).toEqual({ hello: "qntx" });
  });

  it("reads config strings, JSON text for an array, as QNTX sends them", async () => {
    const response = await jobs.executeJob("config", {});
    expect(response.success).toBe(true);
    // Values stay the strings the host sent: the array is JSON text, the number and boolean text.
    expect(json(response.result)).toEqual(config);
  });

  it("writes an attestation through the host's ATSStoreService at the host:port endpoint", async () => {
    const response = await jobs.executeJob("write-att", { subject: "standin-subject" });
    expect(response.success).toBe(true);
    const { id } = json(response.result);
    const stored = services.attestations.find((a) => a.id === id);
    expect(stored).toMatchObject({ subjects: ["standin-subject"], predicates: ["tested"], contexts: ["jobs"] });
  });

  it("pushes live progress with QueueService.UpdateJob", async () => {
    const response = await jobs.executeJob("slow", { ms: 200, steps: 4 }, "job-progress-1");
    expect(response).toMatchObject({ success: true, progress_current: 4, progress_total: 4 });
    const updates = services.queueCalls.filter((c) => c.method === "UpdateJob" && c.job.id === "job-progress-1");
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.at(-1)!.job.progress).toMatchObject({ total: 4 });
  });

  it("answers an unknown handler with success:false in the body", async () => {
    const response = await jobs.executeJob("no-such-handler", {});
    expect(response.success).toBe(false);
    expect(response.error).toMatch(/no-such-handler/);
  });

  it("reports the host's body error when the token is refused (QNTX's error convention)", async () => {
    await jobs.initialize({ address: services.address, token: "not-the-token" }, config);
    const response = await jobs.executeJob("write-att", { subject: "refused" });
    expect(response.success).toBe(false);
    expect(response.error).toContain(BAD_TOKEN);
    expect(services.attestations.some((a) => a.subjects.includes("refused"))).toBe(false);
  });

  it("exits by itself after Shutdown", async () => {
    expect(await jobs.stop()).toMatchObject({ by: "shutdown", code: 0 });
  });
});

describeWithPython(import.meta.url, "the Python plugin under a QNTX-shaped host", () => {
  let py: StandinPlugin;

  beforeAll(async () => {
    if (!existsSync(PY_STUBS)) throw new Error(`${PY_STUBS} is missing: run \`pnpm build\` (examples/python-plugin/gen.sh)`);
    py = await load({ name: "pyplug", command: PY_RUN });
    const init = await py.initialize(services, { greeting: "Howdy" });
    expect(init.handler_names).toEqual(["wordcount"]);
  });

  it("answers Metadata and the stripped and full paths", async () => {
    expect(await py.call("Metadata")).toMatchObject({ name: "pyplug", version: "0.1.0", qntx_version: ">=0.1.0" });
    const stripped = await py.rawHttp("GET", "/hello?name=qntx");
    expect(json(stripped.body)).toMatchObject({ message: "Howdy, qntx!", language: "python" });
    const full = await py.rawHttp("GET", "/api/pyplug/hello?name=qntx");
    expect(full.status_code).toBe(200);
  });

  it("stores a note in the host's ATS and reads it back", async () => {
    const created = await py.http("POST", "/notes", JSON.stringify({ subject: "standin", text: "hi from QNTX" }), { "Content-Type": ["application/json"] });
    expect(created.status).toBe(201);
    const stored = services.attestations.find((a) => a.id === JSON.parse(created.text).id)!;
    expect(stored).toMatchObject({ subjects: ["standin"], predicates: ["note"], contexts: ["pyplug"] });
    expect(structToJson(stored.attributes)).toMatchObject({ text: "hi from QNTX" });
    const listed = await py.http("GET", "/notes?subject=standin");
    expect(JSON.parse(listed.text)).toMatchObject({ count: 1, notes: [{ subject: "standin", text: "hi from QNTX" }] });
  });

  it("runs wordcount sent with timeout_secs=300 and reports live progress", async () => {
    const response = await py.executeJob("wordcount", { text: "one two\ntwo three" }, "py-job-1");
    expect(response).toMatchObject({ success: true, progress_current: 2, progress_total: 2 });
    expect(json(response.result)).toMatchObject({ words: 4, lines: 2 });
    expect(services.queueCalls.some((c) => c.method === "UpdateJob" && c.job.id === "py-job-1")).toBe(true);
  });

  it("exits by itself after Shutdown", async () => {
    expect(await py.stop()).toMatchObject({ by: "shutdown", code: 0 });
  });
});

describe("the stand-in treats misbehaving plugins as QNTX does", () => {
  const fake = (scenario: string, name = "fake"): Omit<StandinLoad, "basePort"> => ({ name, command: process.execPath, args: [FAKE_PLUGIN, "--scenario", scenario] });

  it("refuses a plugin that answers another name, naming both", async () => {
    await expect(load(fake("wrong-name"))).rejects.toThrow('expected "fake", the plugin says "someone-else"');
  });

  it("assumes the port it passed when no port line comes", async () => {
    const plugin = await load(fake("never-announces"));
    expect(plugin.announced).toBe(false);
    expect(plugin.port).toBe(plugin.requestedPort);
    expect((await plugin.call("Metadata")).name).toBe("fake");
  });

  it("reaches a full-path-only plugin through the retry after a 404", async () => {
    const plugin = await load(fake("full-path-only"));
    expect(await plugin.http("GET", "/ping")).toMatchObject({ status: 200, text: "pong", fullPathUsed: true });
  });

  it("reports a plugin that exits before it is ready, with its stderr", async () => {
    await expect(load(fake("exits-early"))).rejects.toThrow(/exited \(3\).*cannot open database/s);
  });

  it("kills a plugin that ignores Shutdown and SIGTERM", async () => {
    const plugin = await load(fake("ignores-shutdown"));
    expect(await plugin.stop(500)).toMatchObject({ by: "sigkill", signal: "SIGKILL" });
  });
});
