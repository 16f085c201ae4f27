/**
 * `qntx plugin new`: the real CLI (host/dist/cli.js) generates a plugin into a temp folder and
 * appends its table to an existing am.plugins.toml; a real host started from that file spawns
 * the plugin, its route answers through the gateway and its job runs through Pulse (result,
 * live progress, a failure in the body). Refusals (bad name, reserved name, existing folder,
 * existing table, a file the table cannot join) exit 1 with a clear error and write nothing.
 *
 * The TypeScript scaffold needs the SDK's runner for `.ts` binaries; the Python one needs the
 * Python example's toolchain (helpers/toolchain.ts: skipped with one printed reason when it is
 * missing, a failure under CI=true); the Go one the Go toolchain (helpers/go-toolchain.ts, the
 * same rule).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { parse } from "smol-toml";
import { loadConfig } from "../src/config/index.js";
import { startHost, type Host } from "../src/server.js";
import { adminHeaders, CLI, freePort, hostTable, http, until, type LogLine } from "./harness.js";
import { describeWithGo } from "./helpers/go-toolchain.js";
import { describeWithPython } from "./helpers/toolchain.js";

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node host/dist/cli.js plugin new …args` in `cwd`. */
function pluginNew(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "plugin", "new", ...args], { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "qntx-plugin-new-"));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A host started from a config file written by the CLI, as `qntx server --config` would. */
interface RunningHost {
  host: Host;
  url: string;
  logs: LogLine[];
  close(): Promise<void>;
}

async function startHostFrom(configFile: string): Promise<RunningHost> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  const host = await startHost(loadConfig({ configPath: configFile }), pino({ level: "debug" }, sink));
  await host.ready;
  return { host, url: host.url, logs, close: () => host.close() };
}

/** A config the user already has: a [host] table, comments, no newline at the end. */
async function existingConfig(dir: string): Promise<Buffer> {
  const text = `# my host, keep this comment\n${await hostTable(dir, { restart_backoff_base_ms: 100 })}\n[plugins.other]   # disabled\nenabled = false\nbinary = "./nowhere"`;
  return Buffer.from(text, "utf8");
}

interface JobJson {
  id: string;
  status: string;
  error: string;
  result: any;
  progress: { current: number; total: number };
  pluginVersion: string;
}

/** Generates `name` in `lang`, starts a host from the config, and runs the checks every scaffold must pass. */
function describeScaffoldInHost(lang: "ts" | "python" | "go", name: string): () => string {
  let dir: string;
  let configFile: string;
  let before: Buffer;
  let generated: CliResult;
  let h: RunningHost | undefined;

  beforeAll(async () => {
    dir = tempDir();
    configFile = join(dir, "am.plugins.toml");
    before = await existingConfig(dir);
    writeFileSync(configFile, before);
    generated = await pluginNew([name, "--lang", lang, "--config", configFile, "--dir", join(dir, "plugins")], dir);
    if (generated.code !== 0) throw new Error(`qntx plugin new failed (${generated.code}):\n${generated.stdout}${generated.stderr}`);
    // As the CLI's next steps say: a Go plugin is built before its first start (run.sh would
    // build it too, but a first build can outlast the port line's wait).
    if (lang === "go") execFileSync("sh", [join(dir, "plugins", name, "build.sh")], { stdio: "pipe" });
    h = await startHostFrom(configFile);
    const info = h.host.registry.get(name);
    if (info?.state !== "running") {
      throw new Error(`${name} did not start: ${JSON.stringify(info)}\n${h.logs.slice(-30).map((l) => JSON.stringify(l)).join("\n")}`);
    }
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it("appends the table after the existing bytes, which stay as they were", () => {
    const after = readFileSync(configFile);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    const added = after.subarray(before.length).toString("utf8");
    expect(added).toMatch(new RegExp(`^\\n\\n# ${name}: generated by .*\\n\\[plugins\\.${name}\\]\\n`));
    const raw = parse(after.toString("utf8")) as { plugins: Record<string, Record<string, unknown>> };
    expect(raw.plugins[name]).toEqual({ binary: `plugins/${name}/${lang === "ts" ? "plugin.ts" : "run.sh"}`, config: { greeting: "Hello" } });
    expect(raw.plugins.other).toEqual({ enabled: false, binary: "./nowhere" });
    expect(generated.stdout).toContain(`Appended to`);
  });

  it("starts under the host with the name, version and route it announces", async () => {
    const { plugins } = (await http(`${h!.url}/api/plugins`)).json();
    expect(plugins.find((p: { name: string }) => p.name === name)).toMatchObject({ name, version: "0.1.0", state: "running" });
    const { routes } = (await http(`${h!.url}/api/plugins/routes`)).json();
    expect(JSON.stringify(routes)).toContain(`/api/${name}/hello`);
    // One server, one port line: a second one would be logged as an ordinary stdout line.
    const own = h!.logs.filter((l) => l.plugin === name);
    expect(own.filter((l) => String(l.msg).includes("QNTX_PLUGIN_PORT="))).toEqual([]);
    expect(own.filter((l) => l.msg === "listening")).toHaveLength(1);
  });

  it("answers its GET route through the gateway, with the config's greeting", async () => {
    const res = await http(`${h!.url}/api/${name}/hello?name=you`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.json()).toMatchObject({ message: "Hello, you!", plugin: name });
    const missing = await http(`${h!.url}/api/${name}/nope`);
    expect(missing.status).toBe(404);
  });

  it("runs its count job through Pulse with progress reported live", async () => {
    const headers = adminHeaders({ dir });
    const text = ["one two three", "four five", "six", "seven eight", "nine", "ten"].join("\n");
    const queued = await http(`${h!.url}/api/pulse/jobs`, { method: "POST", headers, body: JSON.stringify({ handler: `${name}/count`, payload: { text, delay_ms: 150 } }) });
    expect(queued.status).toBeLessThan(300);
    const id = queued.json().job.id as string;
    const job = async (): Promise<JobJson> => (await http(`${h!.url}/api/pulse/jobs/${id}`)).json().job;
    const midway = await until(async () => {
      const j = await job();
      return j.status === "running" && j.progress.current > 0 && j.progress.current < 6 ? j : undefined;
    }, "progress while the job runs");
    expect(midway.progress.total).toBe(6);
    const done = await until(async () => {
      const j = await job();
      return ["completed", "failed"].includes(j.status) ? j : undefined;
    }, "the job to finish");
    expect(done).toMatchObject({ status: "completed", result: { lines: 6, words: 10 }, progress: { current: 6, total: 6 }, pluginVersion: "0.1.0" });
  }, 30_000);

  it("passes qntx plugin check (port line, every RPC step, its job, Shutdown and exit)", async () => {
    const binary = join(dir, "plugins", name, lang === "ts" ? "plugin.ts" : "run.sh");
    const args = ["plugin", "check", binary, "--name", name, "--run-jobs", "--json", "--base-port", String(await freePort())];
    const res = await new Promise<CliResult>((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: dir, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
    const report = JSON.parse(res.stdout) as { steps: Array<{ id: string; status: string; detail: string }> };
    expect(report.steps.filter((step) => step.status === "FAIL")).toEqual([]);
    expect(res.code).toBe(0);
    const passed = report.steps.filter((step) => step.status === "PASS").map((step) => step.id);
    expect(passed).toEqual(expect.arrayContaining(["port-line", "metadata", "initialize", "health"]));
    expect(passed.length).toBeGreaterThanOrEqual(14);
  }, 60_000);

  it("fails a job with a bad payload with the plugin's message, and keeps serving", async () => {
    const headers = adminHeaders({ dir });
    const queued = await http(`${h!.url}/api/pulse/jobs`, { method: "POST", headers, body: JSON.stringify({ handler: `${name}/count`, payload: { text: 42 }, max_attempts: 1 }) });
    const id = queued.json().job.id as string;
    const done = await until(async () => {
      const j: JobJson = (await http(`${h!.url}/api/pulse/jobs/${id}`)).json().job;
      return j.status === "failed" ? j : undefined;
    }, "the job to fail");
    expect(done.error).toMatch(/text must be a string|payload must be \{"text"/);
    expect((await http(`${h!.url}/api/${name}/hello`)).status).toBe(200);
  });

  return () => dir;
}

describe("qntx plugin new --lang ts, under a real host", () => {
  describeScaffoldInHost("ts", "greeter");
});

describeWithPython(import.meta.url, "qntx plugin new --lang python, under a real host", () => {
  const dirOf = describeScaffoldInHost("python", "pyscaffold");

  it("ships the protos and generates its stubs from them", () => {
    const folder = join(dirOf(), "plugins", "pyscaffold");
    expect(readdirSync(join(folder, "proto")).sort()).toEqual(["atsstore.proto", "domain.proto", "queue.proto"]);
    expect(existsSync(join(folder, "gen", "domain_pb2_grpc.py"))).toBe(true);
    expect(statSync(join(folder, "run.sh")).mode & 0o111).toBeTruthy();
  });
});

describeWithGo(import.meta.url, "qntx plugin new --lang go, under a real host", () => {
  const dirOf = describeScaffoldInHost("go", "goscaffold");

  it("copies the Go SDK in, and builds from that copy", () => {
    const folder = join(dirOf(), "plugins", "goscaffold");
    for (const file of ["sdk-go/go.mod", "sdk-go/toolchain.sh", "sdk-go/domains/plugin.go", "sdk-go/grpc/serve.go", "sdk-go/protocol/domain.pb.go", "bin/goscaffold"]) {
      expect(existsSync(join(folder, file))).toBe(true);
    }
    expect(existsSync(join(folder, "sdk-go", "grpc", "serve_test.go"))).toBe(false);
    expect(readlinkSync(join(folder, "sdk-go", ".gopath", "src", "qntx", "sdk-go"))).toBe(join(folder, "sdk-go"));
    expect(statSync(join(folder, "run.sh")).mode & 0o111).toBeTruthy();
  });
});

/** A folder with a config file holding `text`; returns both paths. */
function project(text: string | Buffer = "[host]\nlisten = \"127.0.0.1:0\"\n"): { dir: string; configFile: string; before: Buffer } {
  const dir = tempDir();
  const configFile = join(dir, "am.plugins.toml");
  writeFileSync(configFile, text);
  return { dir, configFile, before: readFileSync(configFile) };
}

describe("qntx plugin new refuses, writing nothing", () => {
  it("a name with characters the host does not accept", async () => {
    const p = project();
    const res = await pluginNew(["my plugin"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('error: "my plugin" is not a valid plugin name: use only letters, digits, "_" and "-"');
    expect(res.stderr).toContain('hint: the name becomes the URL segment /api/<name> and the table [plugins.<name>]; for example "my-plugin"');
    expect(readdirSync(p.dir)).toEqual(["am.plugins.toml"]);
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
  });

  it("a reserved name, in any case", async () => {
    const p = project();
    for (const name of ["pulse", "Plugins"]) {
      const res = await pluginNew([name], p.dir);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`"${name}" is a reserved name: it is one of the host's own routes`);
      expect(res.stderr).toContain(`hint: pick another name, for example "${name}-plugin"`);
    }
    expect(readdirSync(p.dir)).toEqual(["am.plugins.toml"]);
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
  });

  it("an unknown language", async () => {
    const p = project();
    const res = await pluginNew(["x", "--lang", "rust"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("argument 'rust' is invalid. Allowed choices are ts, python, go.");
    expect(readdirSync(p.dir)).toEqual(["am.plugins.toml"]);
  });

  it("an existing, non-empty folder unless --force (which overwrites the scaffold's files and keeps the others)", async () => {
    const p = project();
    const folder = join(p.dir, "plugins", "notes");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "plugin.ts"), "// mine\n");
    writeFileSync(join(folder, "keep.txt"), "keep\n");
    const res = await pluginNew(["notes"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`error: the folder ${folder} already exists (2 entries); nothing was written`);
    expect(res.stderr).toContain("--force");
    expect(readFileSync(join(folder, "plugin.ts"), "utf8")).toBe("// mine\n");
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);

    const forced = await pluginNew(["notes", "--force"], p.dir);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(folder, "plugin.ts"), "utf8")).toContain('name: "notes"');
    expect(readFileSync(join(folder, "keep.txt"), "utf8")).toBe("keep\n");
    expect(readFileSync(p.configFile, "utf8")).toContain('[plugins.notes]\nbinary = "plugins/notes/plugin.ts"\n');
  });

  it("a name whose table exists already, in any TOML form, naming the file and line (even with --force)", async () => {
    const forms = [
      ['# keep\n[host]\nlisten = "127.0.0.1:0"\n\n[plugins.notes]\nbinary = "./mine"\n', 5],
      ['# keep\n[plugins]\nnotes = { address = "127.0.0.1:9000" }\n', 3],
      ['# keep\nplugins.notes.builtin = "clock"\n[host]\nlisten = "127.0.0.1:0"\n', 2],
    ] as const;
    for (const [form, line] of forms) {
      const p = project(form);
      const res = await pluginNew(["notes", "--force"], p.dir);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`error: ${p.configFile}:${line} already has a table for plugin "notes"; it was left untouched`);
      expect(res.stderr).toContain("hint: pick another name, or remove [plugins.notes]");
      expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
      expect(existsSync(join(p.dir, "plugins"))).toBe(false);
    }
  });

  it("a config file that is not valid TOML, naming its line", async () => {
    const p = project('[host]\nlisten = "127.0.0.1:0"\nbroken = \n');
    const res = await pluginNew(["notes"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`error: ${p.configFile}:3:`);
    expect(res.stderr).toContain("is not valid TOML");
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
    expect(existsSync(join(p.dir, "plugins"))).toBe(false);
  });

  it("a config whose plugins table is inline (a [plugins.<name>] header cannot extend it), showing the table to add by hand", async () => {
    const p = project('plugins = { other = { address = "127.0.0.1:9000" } }\n');
    const res = await pluginNew(["notes"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("would not be valid TOML with [plugins.notes] appended");
    expect(res.stderr).toContain("hint: add this table by hand:\n# notes: generated by");
    expect(res.stderr).toContain('\n[plugins.notes]\nbinary = "plugins/notes/plugin.ts"\nconfig = { greeting = "Hello" }\n');
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
    expect(existsSync(join(p.dir, "plugins"))).toBe(false);
  });
});

describe("qntx plugin new keeps the config file's bytes", () => {
  it("creates the config file (and its folder) when missing, with the table only", async () => {
    const dir = tempDir();
    const res = await pluginNew(["notes", "--config", "deploy/am.plugins.toml", "--dir", "ext"], dir);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("Created deploy/am.plugins.toml:");
    const text = readFileSync(join(dir, "deploy", "am.plugins.toml"), "utf8");
    expect(text).toBe('# notes: generated by `qntx plugin new notes --lang ts` (../ext/notes)\n[plugins.notes]\nbinary = "../ext/notes/plugin.ts"\nconfig = { greeting = "Hello" }\n');
    // The host resolves that binary against the config file's folder: it is the generated file.
    const config = loadConfig({ configPath: join(dir, "deploy", "am.plugins.toml"), env: { HOME: dir } });
    expect(config.plugins[0]!.source).toMatchObject({ kind: "binary", binary: "../ext/notes/plugin.ts" });
    expect(existsSync(join(dir, "ext", "notes", "plugin.ts"))).toBe(true);
  });

  it("keeps CRLF line endings, odd spacing, comments and non-ASCII bytes, and appends with CRLF", async () => {
    const original = Buffer.from('# caf\u00e9 \u2603\r\n[host]\r\nlisten   =   "127.0.0.1:0"    # spaced\r\n\r\n\r\n', "utf8");
    const p = project(original);
    const res = await pluginNew(["notes", "--lang", "python"], p.dir);
    expect(res.code).toBe(0);
    const after = readFileSync(p.configFile);
    expect(after.subarray(0, original.length).equals(original)).toBe(true);
    const added = after.subarray(original.length).toString("utf8");
    expect(added).toBe('\r\n# notes: generated by `qntx plugin new notes --lang python` (plugins/notes)\r\n[plugins.notes]\r\nbinary = "plugins/notes/run.sh"\r\nconfig = { greeting = "Hello" }\r\n');
  });
});
