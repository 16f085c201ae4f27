/**
 * End to end with real hosts and real plugin processes: a plugin enabled by name alone in a QNTX
 * am.toml is found on a search path and serves; one found nowhere fails with what was searched
 * and starts once installed; the guide's [[plugins]] file and an am.toml describing the same
 * plugin give it the same InitializeRequest.config; `env:` references and QNTX's per-plugin file
 * reach the plugin. Each host has its own temp dir, data dir and ports.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { loadConfig, type HostConfig } from "../src/config/index.js";
import { resolvePluginBinary } from "../src/plugin/resolve-binary.js";
import { startHost, type Host } from "../src/server.js";
import { CLI, FAKE_PLUGIN_PATH, HELLO_PLUGIN, adminHeaders, hostTable, http, until, type LogLine } from "./harness.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

interface Started {
  readonly host: Host;
  readonly url: string;
  readonly dir: string;
  readonly config: HostConfig;
  readonly logs: LogLine[];
}

const running: Host[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((host) => host.close()));
  cleanupTempDirs();
});

/** An executable `dir/fileName` that runs `script` with the host's node, passing its arguments on. */
function installWrapper(dir: string, fileName: string, script: string, args: string[] = []): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fileName);
  const quoted = [process.execPath, script, ...args].map((a) => `'${a}'`).join(" ");
  writeFileSync(path, `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Writes `<dir>/<fileName>` as a `[host]` table for tests plus `body`, and loads it. */
async function configIn(dir: string, fileName: string, body: string): Promise<HostConfig> {
  const file = join(dir, fileName);
  writeFileSync(file, `${await hostTable(dir)}\n${body}\n`);
  return loadConfig({ configPath: file, cwd: dir });
}

/** Starts a host on `config`, collecting its log lines, and waits for its boot to finish. */
async function start(config: HostConfig, dir: string): Promise<Started> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  const host = await startHost(config, pino({ level: "debug" }, sink));
  running.push(host);
  await host.ready;
  return { host, url: host.url, dir, config, logs };
}

describe("QNTX's am.toml, end to end", () => {
  it("starts a plugin named in [plugin] enabled from qntx-<name>-plugin on a search path, with its [<name>] config", async () => {
    const dir = makeTempDir("qntx-e2e-am-");
    installWrapper(join(dir, "plugins-here"), "qntx-hello-plugin", HELLO_PLUGIN);
    const config = await configIn(dir, "am.toml", ['[plugin]', 'enabled = ["hello"]', 'paths = ["plugins-here"]', "[hello]", 'greeting = "Howdy"'].join("\n"));
    const t = await start(config, dir);
    expect(t.host.registry.get("hello")?.state).toBe("running");
    const res = await http(`${t.url}/api/hello/hello?name=QNTX`);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ message: "Howdy, QNTX!" });
  });

  it("fails a plugin found nowhere with every folder and name searched, and starts it once it is installed", async () => {
    const dir = makeTempDir("qntx-e2e-missing-");
    const config = await configIn(dir, "am.toml", ['[plugin]', 'enabled = ["ghost"]', 'paths = ["one", "two"]'].join("\n"));
    const t = await start(config, dir);
    const info = t.host.registry.get("ghost")!;
    expect(info.state).toBe("failed");
    expect(info.error).toBe(`plugin "ghost" not found: searched ${join(dir, "one")}, ${join(dir, "two")} for qntx-ghost-plugin, qntx-ghost, ghost`);
    expect(t.logs.some((l) => l.plugin === "ghost" && l.code === "BINARY_NOT_FOUND" && String(l.msg).includes(`hint: install the binary as ${join(dir, "one", "qntx-ghost-plugin")}`))).toBe(true);

    installWrapper(join(dir, "two"), "ghost", FAKE_PLUGIN_PATH, ["--scenario", "ok", "--name", "ghost"]);
    const res = await http(`${t.url}/api/plugins/ghost/start`, { method: "POST", headers: adminHeaders(t) });
    expect(res.status).toBe(200);
    expect(t.host.registry.get("ghost")?.state).toBe("running");
    expect((await http(`${t.url}/api/ghost/ping`)).text).toBe("pong");
  });

  it("resolves env: references at start, reads <data_dir>/plugins/<name>.toml over am.toml, and fails a missing variable by name", async () => {
    const dir = makeTempDir("qntx-e2e-refs-");
    const bin = join(dir, "bin");
    installWrapper(bin, "qntx-refs-plugin", FAKE_PLUGIN_PATH, ["--scenario", "ok", "--name", "refs"]);
    installWrapper(bin, "qntx-norefs-plugin", FAKE_PLUGIN_PATH, ["--scenario", "ok", "--name", "norefs"]);
    mkdirSync(join(dir, "data", "plugins"), { recursive: true });
    writeFileSync(join(dir, "data", "plugins", "refs.toml"), '[config]\nmode = "from-qntx-file"\n');
    process.env.QNTX_E2E_TOKEN = "t0k3n";
    delete process.env.QNTX_E2E_MISSING;
    const config = await configIn(
      dir,
      "am.toml",
      ['[plugin]', 'enabled = ["refs", "norefs"]', 'paths = ["bin"]', "[refs]", 'token = "env:QNTX_E2E_TOKEN"', 'mode = "from-am-toml"', "[norefs]", 'token = "env:QNTX_E2E_MISSING"'].join("\n"),
    );
    const t = await start(config, dir);
    expect((await http(`${t.url}/api/refs/config`)).json()).toEqual({ token: "t0k3n", mode: "from-qntx-file" });
    const failed = t.host.registry.get("norefs")!;
    expect(failed.state).toBe("failed");
    expect(failed.error).toBe(`plugin norefs config (${join(dir, "am.toml")} [norefs]): token references env:QNTX_E2E_MISSING, which is unset or empty`);
  });
});

describe("the guide's [[plugins]] and QNTX's am.toml describe the same plugin alike", () => {
  it("load equal entries and give the plugin the same InitializeRequest.config", async () => {
    const dir = makeTempDir("qntx-e2e-same-");
    const wrapper = installWrapper(join(dir, "bin"), "qntx-same-plugin", FAKE_PLUGIN_PATH, ["--scenario", "ok", "--name", "same"]);
    const guideDir = join(dir, "guide");
    const qntxDir = join(dir, "qntx");
    mkdirSync(guideDir);
    mkdirSync(qntxDir);
    const guide = await configIn(
      guideDir,
      "am.plugins.toml",
      ["[[plugins]]", 'name = "same"', "enabled = true", `binary = ${JSON.stringify(wrapper)}`, "auto_start = true", 'config = { greeting = "hi", retries = 3, verbose = true, tags = ["a", "b"] }'].join("\n"),
    );
    const qntx = await configIn(
      qntxDir,
      "am.toml",
      ["[plugin]", 'enabled = ["same"]', `paths = [${JSON.stringify(join(dir, "bin"))}]`, "[same]", 'greeting = "hi"', "retries = 3", "verbose = true", 'tags = ["a", "b"]'].join("\n"),
    );
    const [fromGuide] = guide.plugins;
    const [fromQntx] = qntx.plugins;
    // Equal but for where the binary is written down: a path in one, a search by name in the other…
    const comparable = (e: typeof fromGuide) => ({ ...e!, line: undefined, source: { ...e!.source, binary: undefined, search: undefined } });
    expect(comparable(fromQntx)).toEqual(comparable(fromGuide));
    // …which both lead to the same program.
    const where = { baseDir: dir, dataDir: join(dir, "data") };
    const commands = await Promise.all([fromGuide, fromQntx].map((e) => resolvePluginBinary(e!.source as Parameters<typeof resolvePluginBinary>[0], where)));
    expect(commands[0]).toEqual(commands[1]);

    const [a, b] = await Promise.all([start(guide, guideDir), start(qntx, qntxDir)]);
    const seen = await Promise.all([a, b].map(async (t) => (await http(`${t.url}/api/same/config`)).json()));
    expect(seen[0]).toEqual({ greeting: "hi", retries: "3", verbose: "true", tags: '["a","b"]' });
    expect(seen[1]).toEqual(seen[0]);
  });
});

describe("qntx server on a QNTX user's am.toml", () => {
  it("runs, and says once which QNTX sections it ignores", async () => {
    const dir = makeTempDir("qntx-e2e-cli-");
    const file = join(dir, "am.toml");
    writeFileSync(file, `${await hostTable(dir)}\n[storage.sqlite]\npath = "qntx.db"\n[auth]\nenabled = false\n[pulse]\nworkers = 2\n[plugin]\nenabled = []\n`);
    const server = spawn(process.execPath, [CLI, "server", "--config", file], { cwd: dir, env: { ...process.env, QNTX_LOG_LEVEL: "info" } });
    let output = "";
    server.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    server.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    try {
      await until(() => (existsSync(join(dir, "data", "host.json")) && output.includes("listening on") ? true : undefined), "qntx server to listen");
      expect(output.match(/QNTX settings this host does not use are ignored: \[storage\]; \[auth\]/g)).toHaveLength(1);
    } finally {
      server.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
