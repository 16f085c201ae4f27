/**
 * QNTX's am.toml read by the host: a QNTX user's whole file loads, `[plugin] enabled/paths`
 * become plugins searched by name, `[<name>]` tables become their config as QNTX sends it,
 * `[server]`/`[pulse]` map where they mean the same, and the lookup finds am.toml as QNTX does.
 * Real files in a fresh temp dir with its own HOME.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, type HostConfig } from "../src/config/index.js";
import { configError } from "./helpers/config-error.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

afterEach(() => cleanupTempDirs());

interface Sandbox {
  readonly dir: string;
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
}

function sandbox(): Sandbox {
  const dir = makeTempDir("qntx-config-am-");
  const home = join(dir, "home");
  mkdirSync(home);
  return { dir, home, env: { HOME: home } };
}

/** Writes `lines` to `dir/name` (line numbers exact), creating folders. */
function write(dir: string, name: string, lines: string[]): string {
  const file = join(dir, name);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** Loads `lines` as `<dir>/am.toml`, with cwd = dir. */
function load(lines: string[], box: Sandbox = sandbox()): HostConfig {
  write(box.dir, "am.toml", lines);
  return loadConfig({ cwd: box.dir, env: box.env });
}

function loadError(lines: string[]): ConfigError {
  return configError(() => load(lines));
}

/** A QNTX user's am.toml, as QNTX's ADR-002 and am.go describe it. */
const QNTX_AM_TOML = [
  'ground_db_path = "/var/ground.db"', //          1
  "[storage]", //                                  2
  'backend = "sqlite"', //                         3
  "[storage.sqlite]", //                           4
  'path = "qntx.db"', //                           5
  "[server]", //                                   6
  "port = 8877", //                                7
  'bind_address = "0.0.0.0"', //                   8
  'allowed_origins = ["https://qntx.example.com"]', // 9
  'log_theme = "gruvbox"', //                      10
  "[server.rate_limit]", //                        11
  "read_rate = 60.0", //                           12
  "[auth]", //                                     13
  "enabled = false", //                            14
  "[pulse]", //                                    15
  "workers = 2", //                                16
  "daily_budget_usd = 5.0", //                     17
  "[ax]", //                                       18
  'default_actor = "me"', //                       19
  "[plugin]", //                                   20
  'enabled = ["code"]', //                         21
  'paths = ["~/.qntx/plugins", "./plugins"]', //   22
  "[plugin.websocket.keepalive]", //               23
  "ping_interval_secs = 20", //                    24
  "[[plugin.access_token]]", //                    25
  'host = "github.com"', //                        26
  'ref = "env:GITHUB_TOKEN"', //                   27
  "[code.gopls]", //                               28
  "enabled = true", //                             29
  'workspace_root = "."', //                       30
  "[embeddings]", //                               31
  "enabled = false", //                            32
];

describe("a QNTX user's whole am.toml", () => {
  it("loads: plugins from [plugin], settings from [server] and [pulse], one note for the rest", () => {
    const box = sandbox();
    const config = load(QNTX_AM_TOML, box);
    expect(config.format).toBe("am.toml");
    expect(config.host).toMatchObject({ listen: "0.0.0.0:8877", allowedOrigins: ["https://qntx.example.com"], pulseConcurrency: 2, wsPingIntervalMs: 20_000 });
    expect(config.plugins).toEqual([
      {
        name: "code",
        enabled: true,
        source: {
          kind: "binary",
          binary: "code",
          search: { paths: [join(box.home, ".qntx", "plugins"), join(box.dir, "plugins")], names: ["qntx-code-plugin", "qntx-code", "code"], repo: undefined },
          autoStart: true,
          args: [],
          env: {},
          cwd: undefined,
        },
        config: { "gopls.enabled": "true", "gopls.workspace_root": "." },
        dependsOn: [],
        line: 21,
      },
    ]);
    expect(config.notes).toEqual([
      "am.toml: QNTX settings this host does not use are ignored: ground_db_path; [storage]; [server] log_theme, rate_limit; [auth]; [ax]; [embeddings]; [plugin] access_token",
    ]);
    expect(Object.isFrozen(config.plugins[0]!.source)).toBe(true);
  });

  it("lets [host] win over [server] and [pulse]", () => {
    const config = load(["[server]", "port = 9000", "[pulse]", "workers = 7", "[host]", 'listen = "127.0.0.1:0"', "pulse_concurrency = 3"]);
    expect(config.host).toMatchObject({ listen: "127.0.0.1:0", pulseConcurrency: 3 });
    expect(config.notes).toEqual([]);
  });

  it("checks the QNTX keys it reads, at their lines", () => {
    const error = loadError(["[server]", 'port = "8770"', "[pulse]", "workers = 0", "[plugin]", 'enabeld = ["x"]', 'paths = ["https://example.com/plugins"]']);
    expect(error.message.split("\n")).toEqual([
      "am.toml:2: server.port must be a positive integer (got string)",
      "am.toml:4: pulse.workers must be a positive integer (got 0)",
      'am.toml:6: plugin.enabeld is not a known key (did you mean "enabled"?)',
      'am.toml:7: plugin.paths has "https://example.com/plugins", which is not a local folder',
    ]);
  });

  it("refuses am.plugins.toml's plugins section in am.toml, with the way to write it", () => {
    const error = loadError(["[[plugins]]", 'name = "a"', 'binary = "a"']);
    expect(error.message).toBe("am.toml:1: plugins is a section of am.plugins.toml, not of am.toml (QNTX's format enables plugins with [plugin] enabled)");
    expect(error.hint).toContain('[plugin] enabled = ["<name>"]');
  });
});

describe("[plugin] enabled and paths", () => {
  it("searches <data_dir>/plugins by default, and ./qntx-plugins when the cwd has it", () => {
    const box = sandbox();
    const without = load(["[plugin]", 'enabled = ["a"]'], box);
    expect(without.plugins[0]!.source).toMatchObject({ search: { paths: [join(box.home, ".qntx", "plugins")] } });
    mkdirSync(join(box.dir, "qntx-plugins"));
    const withLocal = load(["[host]", `data_dir = "${join(box.dir, "data")}"`, "[plugin]", 'enabled = ["a"]'], box);
    expect(withLocal.plugins[0]!.source).toMatchObject({ search: { paths: [join(box.dir, "data", "plugins"), join(box.dir, "qntx-plugins")] } });
  });

  it("resolves relative paths against the am.toml's folder, expands ~ and accepts file://", () => {
    const box = sandbox();
    write(box.dir, "proj/am.toml", ["[plugin]", 'enabled = ["a"]', 'paths = ["bin", "~/p", "file:///opt/qntx"]']);
    const config = loadConfig({ cwd: join(box.dir, "proj", "deep"), env: box.env, configPath: join(box.dir, "proj", "am.toml") });
    expect(config.plugins[0]!.source).toMatchObject({ search: { paths: [join(box.dir, "proj", "bin"), join(box.home, "p"), "/opt/qntx"] } });
  });

  it("keeps one entry per name, and gives each the line of its item", () => {
    const config = load(["[plugin]", "enabled = [", '  "a",', '  "b",', '  "a",', "]"]);
    expect(config.plugins.map((p) => [p.name, p.line])).toEqual([["a", 3], ["b", 4]]);
  });

  it("derives the name of a repository URL entry, as QNTX does, and keeps the URL", () => {
    const config = load([
      "[plugin]",
      "enabled = [",
      '  "https://github.com/sbvh-nl/duif",',
      '  "https://github.com/teranos/QNTX/tree/main/qntx-plugins/loom",',
      '  "https://github.com/teranos/pyre/tree/main/",',
      '  "https://example.com/x/notes.git",',
      "]",
    ]);
    expect(config.plugins.map((p) => p.name)).toEqual(["duif", "loom", "pyre", "notes"]);
    expect(config.plugins[1]!.source).toMatchObject({ search: { repo: "https://github.com/teranos/QNTX/tree/main/qntx-plugins/loom" } });
  });

  it("refuses names that cannot be plugin names, saying which item", () => {
    const error = loadError(["[plugin]", 'enabled = ["pulse", "a b", "https://x.org/y/bad.name"]']);
    expect(error.message.split("\n")).toEqual([
      expect.stringMatching(/^am\.toml:2: plugin\.enabled has "pulse", which uses a reserved name/),
      'am.toml:2: plugin.enabled has "a b", which is not a valid plugin name: use only letters, digits, "_" and "-"',
      'am.toml:2: plugin.enabled has "https://x.org/y/bad.name", whose plugin name "bad.name" is not a valid plugin name: use only letters, digits, "_" and "-"',
    ]);
  });
});

describe("[<name>] tables as QNTX sends them", () => {
  it("converts values the way QNTX's doInitialize does", () => {
    const config = load([
      "[plugin]",
      'enabled = ["hello"]',
      "[Hello]", //                       viper ignores the case of the table's name
      'Greeting = "Hi"',
      "ratio = 0.5",
      "whole = 1.0",
      "count = 3",
      "big = 9007199254740993",
      "flag = false",
      'list = [1, 2.5, "a<b&c"]',
      'empty = ""',
      '_internal = "skipped"',
      'args = ["--name", "hello"]',
      "when = 1979-05-27",
      "[Hello.DB]",
      'Host = "h"',
      "port = 5432",
    ]);
    const [hello] = config.plugins;
    expect(hello!.config).toEqual({
      greeting: "Hi",
      ratio: "0.500000",
      whole: "1.000000",
      count: "3",
      big: "9007199254740993",
      flag: "false",
      list: '[1,2.5,"a\\u003cb\\u0026c"]',
      args: '["--name","hello"]',
      when: '"1979-05-27"',
      "db.host": "h",
      "db.port": "5432",
    });
    expect(hello!.source).toMatchObject({ args: ["--name", "hello"] });
  });

  it("refuses two keys QNTX would read as one, and args that are not strings", () => {
    const error = loadError(["[plugin]", 'enabled = ["a"]', "[a]", 'Key = "x"', 'key = "y"', "args = [1]"]);
    expect(error.message.split("\n")).toEqual([
      'am.toml:5: a.key is the same key as "Key" to QNTX, which ignores the case of keys',
      "am.toml:6: a.args must be an array of strings (item 0 is a number)",
    ]);
  });

  it("ignores the tables of plugins that are not enabled (in the note)", () => {
    const config = load(["[plugin]", 'enabled = ["a"]', "[b]", "x = 1"]);
    expect(config.plugins[0]!.config).toEqual({});
    expect(config.notes[0]).toContain("ignored: [b]");
  });
});

describe("format and lookup", () => {
  it("reads a --config file by its content when its name says nothing", () => {
    const box = sandbox();
    const qntx = write(box.dir, "qntx.toml", ["[plugin]", 'enabled = ["a"]']);
    const ours = write(box.dir, "mine.toml", ["[plugins.a]", 'builtin = "clock"']);
    expect(loadConfig({ cwd: box.dir, env: box.env, configPath: qntx }).format).toBe("am.toml");
    expect(loadConfig({ cwd: box.dir, env: box.env, configPath: ours }).format).toBe("am.plugins.toml");
  });

  it("finds ./am.plugins.toml, then am.toml up from the cwd, then <data_dir>/am.plugins.toml, then ~/.qntx/am.toml", () => {
    const box = sandbox();
    const cwd = join(box.dir, "project", "src", "deep");
    mkdirSync(cwd, { recursive: true });
    const find = () => loadConfig({ cwd, env: box.env }).file;
    expect(find()).toBeUndefined();
    const userAm = write(box.home, ".qntx/am.toml", ["[plugin]", "enabled = []"]);
    expect(find()).toBe(userAm);
    const dataPlugins = write(box.home, ".qntx/am.plugins.toml", ["[host]"]);
    expect(find()).toBe(dataPlugins);
    const projectAm = write(box.dir, "project/am.toml", ["[plugin]", "enabled = []"]);
    expect(find()).toBe(projectAm);
    const nearerAm = write(box.dir, "project/src/am.toml", ["[plugin]", "enabled = []"]);
    expect(find()).toBe(nearerAm);
    const local = write(cwd, "am.plugins.toml", ["[host]"]);
    expect(find()).toBe(local);
  });
});
