/**
 * QNTX-format TypeScript plugins through a real host: `binary` names a plugin folder
 * (package.json with "qntx-plugin": true + plugin.ts) or a `.ts` file, and the host spawns it
 * with the SDK's qntx-ts-runner under Node 20 (no Bun). Fixtures: test/fixtures/qntx-modules.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PluginInfo } from "../src/plugin/registry.js";
import { closePluginClients, pluginClient, within } from "./helpers/plugin-client.js";
import { adminHeaders, http, startTestHost, until, type TestHost } from "./harness.js";
import { pluginInState } from "./helpers/events.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/qntx-modules/", import.meta.url));
/** The example QNTX-format plugin (examples/qntx-module), run as `pnpm start` runs it. */
const EXAMPLE = fileURLToPath(new URL("../../examples/qntx-module", import.meta.url));

let t: TestHost;
let scratch: string;
let marker: string;
let syntaxDir: string;

function table(name: string, binary: string, extra = ""): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(binary)}\n${extra}\n`;
}

async function plugin(name: string): Promise<PluginInfo> {
  return (await http(`${t.url}/api/plugins/${name}`, { headers: adminHeaders(t) })).json().plugin as PluginInfo;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "qntx-module-host-"));
  marker = join(scratch, "qconfig-shutdown.txt");
  // A plugin folder whose plugin.ts does not parse: written here, because a broken .ts in
  // test/fixtures would break the host's type-check.
  syntaxDir = join(scratch, "syntax-error");
  mkdirSync(syntaxDir);
  writeFileSync(join(syntaxDir, "package.json"), JSON.stringify({ name: "broken", "qntx-plugin": true }));
  writeFileSync(join(syntaxDir, "plugin.ts"), 'export default {\n  name: "qbroken",\n  registerHTTP(mux {}\n};\n');
  t = await startTestHost(
    table("qroutes", join(FIXTURES, "routes")) +
      table("qconfig", join(FIXTURES, "config"), `config = { greeting = "Howdy", shutdown_marker = ${JSON.stringify(marker)} }`) +
      table("qglyphs", join(FIXTURES, "glyphs")) +
      table("qjobs", join(FIXTURES, "jobs")) +
      table("qsingle", join(FIXTURES, "single-file.ts")) +
      table("qsdk", join(FIXTURES, "sdk-plugin.ts")) +
      table("noflag", join(FIXTURES, "no-flag")) +
      table("noentry", join(FIXTURES, "no-entry")) +
      table("nodefault", join(FIXTURES, "no-default.ts")) +
      table("initthrows", join(FIXTURES, "init-throws"), `config = { region = "eu" }`) +
      table("qbroken", syntaxDir) +
      table("bookmarks", EXAMPLE, `config = { default_tag = "reading" }`),
    { job_retry_base_ms: 50, job_retry_max_ms: 100, initialize_timeout_ms: 15000 },
  );
}, 60_000);

afterAll(async () => {
  closePluginClients();
  await t?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("QNTX-format plugins through the host", () => {
  it("starts folders, a single .ts file and an SDK plugin in TypeScript", async () => {
    for (const name of ["qroutes", "qconfig", "qglyphs", "qjobs", "qsingle", "qsdk"]) {
      const info = await plugin(name);
      expect({ name, state: info.state, error: info.error }).toEqual({ name, state: "running", error: null });
    }
    expect((await http(`${t.url}/api/qsingle/ping`)).text).toBe("pong");
    expect((await http(`${t.url}/api/qsdk/typed/hey`)).json()).toEqual({ word: "hey", upper: "HEY" });
  });

  it("serves routes through the gateway, stripped and full paths alike", async () => {
    const stripped = await http(`${t.url}/api/qroutes/hello?name=Ada`);
    expect(stripped.status).toBe(200);
    expect(stripped.json()).toEqual({ message: "Hello, Ada!" });
    // The plugin receives `/api/qroutes/hello?…` here: the same route answers.
    const full = await http(`${t.url}/api/qroutes/api/qroutes/hello?name=Ada`);
    expect(full.json()).toEqual({ message: "Hello, Ada!" });
    expect((await http(`${t.url}/api/qroutes/items/9`)).json()).toEqual({ id: "9" });
  });

  it("lists the routes registered at Initialize", async () => {
    const routes = (await plugin("qroutes")).routes.map((r) => `${r.method} ${r.path}`);
    expect(routes).toEqual(expect.arrayContaining(["GET /hello", "GET /items/:id", "POST /echo", "GET /legacy"]));
  });

  it("carries bodies, status, headers and several Set-Cookie values both ways", async () => {
    const echo = await http(`${t.url}/api/qroutes/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"x":[1,2]}' });
    expect(echo.status).toBe(201);
    expect(echo.headers.get("x-echo")).toBe("yes");
    expect(echo.json()).toMatchObject({ received: { x: [1, 2] }, contentType: "application/json" });
    const cookies = await http(`${t.url}/api/qroutes/cookies`);
    expect(cookies.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });

  it("answers 500 JSON for a throwing handler and keeps serving", async () => {
    const boom = await http(`${t.url}/api/qroutes/boom`);
    expect(boom.status).toBe(500);
    expect(boom.json()).toEqual({ error: "kaboom" });
    expect((await http(`${t.url}/api/qroutes/hello`)).status).toBe(200);
    expect((await plugin("qroutes")).state).toBe("running");
  });

  it("hands init the [plugins.qconfig] config, its token and the host's endpoints", async () => {
    const seen = (await http(`${t.url}/api/qconfig/config`)).json();
    expect(seen).toMatchObject({ greeting: "Howdy", greetingAtRegistration: "Howdy", initCalls: 1, tokenSeen: true, bothSpellings: true });
    expect(seen.ats).toBe(t.host.servicesAddress);
    expect(seen.queue).toBe(t.host.servicesAddress);
  });

  it("answers RegisterGlyphs with the module's glyphs", async () => {
    const info = await plugin("qglyphs");
    const { glyphs } = await pluginClient(info.address!).registerGlyphs(within());
    expect(glyphs.map((g) => [g.symbol, g.contentPath, g.defaultWidth])).toEqual([
      ["🔥", "/oven", 1200],
      ["⏱", "/timer", 300],
    ]);
    expect((await http(`${t.url}/api/qglyphs/oven`)).text).toBe("<p>oven</p>");
  });
});

describe("Pulse jobs and schedules of a QNTX module", () => {
  async function enqueue(body: Record<string, unknown>): Promise<string> {
    const res = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify(body) });
    expect(res.status).toBeLessThan(300);
    return res.json().job.id as string;
  }
  const waitFor = (id: string, status: string) =>
    until(async () => {
      const job = (await http(`${t.url}/api/pulse/jobs/${id}`)).json().job;
      return job.status === status ? job : undefined;
    }, `job ${id} to be ${status}`);

  it("registers handler_names as qjobs/<handler>", async () => {
    const handlers = (await http(`${t.url}/api/pulse/handlers`)).json().handlers.map((h: { qualified: string }) => h.qualified);
    expect(handlers).toEqual(expect.arrayContaining(["qjobs/double", "qjobs/answer", "qjobs/refuse", "qjobs/fail"]));
  });

  it("routes a job to execute_job and stores its result, progress and plugin version", async () => {
    const id = await enqueue({ handler: "qjobs/double", payload: { n: 21 } });
    const done = await waitFor(id, "completed");
    expect(done.result).toEqual({ doubled: 42, jobId: id });
    expect(done.progress).toEqual({ current: 1, total: 1 });
    expect(done.pluginVersion).toBe("2.0.0");
  });

  it("stores the cost and logs of an ExecuteJobResponse-shaped answer", async () => {
    const done = await waitFor(await enqueue({ handler: "qjobs/answer" }), "completed");
    expect(done.result).toEqual({ via: "answer", handler: "answer" });
    expect(done.costActual).toBe(0.5);
    const withLogs = (await http(`${t.url}/api/pulse/jobs/${done.id}`)).json().job;
    expect(withLogs.logs).toEqual(expect.arrayContaining([expect.objectContaining({ message: "answered", stage: "reply" })]));
  });

  it("fails a job whose execute_job refuses or throws, with its message", async () => {
    expect((await waitFor(await enqueue({ handler: "qjobs/refuse", max_attempts: 1 }), "failed")).error).toContain("refused politely");
    expect((await waitFor(await enqueue({ handler: "qjobs/fail", payload: { a: 1 }, max_attempts: 1 }), "failed")).error).toContain("asked to fail");
  });

  it("announces its schedules", async () => {
    expect(t.host.registry.announced("qjobs")?.schedules).toEqual([
      { handlerName: "double", intervalSeconds: 3600, enabledByDefault: false, description: "doubles every hour", atsCode: "" },
    ]);
    const schedules = (await http(`${t.url}/api/pulse/schedules`)).json().schedules as Array<{ handler: string; enabled: boolean }>;
    expect(schedules).toEqual(expect.arrayContaining([expect.objectContaining({ handler: "qjobs/double", enabled: false })]));
  });
});

describe("failures", () => {
  it("refuses a folder without \"qntx-plugin\": true, with the hint in the host's log", async () => {
    const info = await plugin("noflag");
    expect(info.state).toBe("failed");
    expect(info.error).toContain(`${FIXTURES}no-flag/package.json has no "qntx-plugin" field`);
    expect(t.logs.some((l) => l.plugin === "noflag" && String(l.msg).includes('add "qntx-plugin": true'))).toBe(true);
  });

  it("refuses a plugin folder without plugin.ts", async () => {
    const info = await plugin("noentry");
    expect(info.state).toBe("failed");
    expect(info.error).toContain(`plugin folder ${FIXTURES}no-entry has no plugin.ts`);
  });

  it("shows the runner's error and hint for a module without a default export", async () => {
    const info = await plugin("nodefault");
    expect(info.state).toBe("failed");
    expect(info.error).toContain("exited before announcing its port (exit code 1)");
    expect(info.error).toContain(`qntx-ts-runner: error: ${FIXTURES}no-default.ts has no default export`);
    expect(info.error).toContain("qntx-ts-runner: hint: end the file with `export default");
  });

  it("shows the file and line of a syntax error", async () => {
    const info = await plugin("qbroken");
    expect(info.state).toBe("failed");
    expect(info.error).toContain(`${syntaxDir}/plugin.ts:3:`);
  });

  it("fails Initialize when init throws, with the module's message and the file", async () => {
    const info = await plugin("initthrows");
    expect(info.state).toBe("failed");
    expect(info.error).toContain(`init() of ${FIXTURES}init-throws/plugin.ts failed: database_url missing (config keys: region)`);
  });

  it("keeps the good plugins serving", async () => {
    expect((await http(`${t.url}/api/qsingle/ping`)).text).toBe("pong");
  });
});

describe("the example: examples/qntx-module (bookmarks)", () => {
  it("saves bookmarks as attestations through ATSStoreService, with the token from init", async () => {
    const saved = await http(`${t.url}/api/bookmarks/bookmarks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: "https://example.com/a", title: "A <b>", tags: ["ts", "qntx"] }),
    });
    expect(saved.status).toBe(201);
    expect(saved.json()).toMatchObject({ url: "https://example.com/a", title: "A <b>", tags: ["ts", "qntx"] });
    const untagged = await http(`${t.url}/api/bookmarks/bookmarks`, { method: "POST", body: JSON.stringify({ url: "https://example.org/" }) });
    expect(untagged.json()).toMatchObject({ title: "example.org", tags: ["reading"] });

    const stored = (await http(`${t.url}/api/attestations?predicate=bookmarked`)).json().attestations as Array<{ subjects: string[]; source: string }>;
    expect(stored.map((a) => [a.subjects[0], a.source])).toEqual(expect.arrayContaining([["https://example.com/a", "bookmarks"], ["https://example.org/", "bookmarks"]]));
    expect((await http(`${t.url}/api/bookmarks/bookmarks?tag=ts`)).json().bookmarks.map((b: { url: string }) => b.url)).toEqual(["https://example.com/a"]);
    expect((await http(`${t.url}/api/bookmarks/panel`)).text).toContain("A &lt;b&gt;");
  });

  it("refuses an invalid bookmark with every problem listed", async () => {
    const res = await http(`${t.url}/api/bookmarks/bookmarks`, { method: "POST", body: JSON.stringify({ url: "ftp://x", tags: ["no spaces"] }) });
    expect(res.status).toBe(400);
    expect(res.json().error).toBe('invalid bookmark: url must be an http(s) URL; tags must be at most 10 words of letters, digits, "_" and "-"');
  });

  it("runs the digest job, which stores its own attestation", async () => {
    const queued = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "bookmarks/digest" }) });
    const id = queued.json().job.id as string;
    const done = await until(async () => {
      const job = (await http(`${t.url}/api/pulse/jobs/${id}`)).json().job;
      return job.status === "completed" ? job : undefined;
    }, "the digest job");
    expect(done.result).toMatchObject({ total: 2, perTag: { ts: 1, qntx: 1, reading: 1 } });
    const digests = (await http(`${t.url}/api/attestations?predicate=digest`)).json().attestations as Array<{ id: string }>;
    expect(digests.map((a) => a.id)).toContain(done.result.attestation);
  });
});

describe("stopping", () => {
  it("runs the module's shutdown() when the host stops it", async () => {
    expect(existsSync(marker)).toBe(false);
    const res = await http(`${t.url}/api/plugins/qconfig/stop`, { method: "POST", headers: adminHeaders(t) });
    expect(res.status).toBe(200);
    await pluginInState(t.host.registry, "qconfig", "stopped");
    expect(readFileSync(marker, "utf8")).toBe("shutdown ran after 1 init call(s)\n");
  });
});
