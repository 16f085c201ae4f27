/**
 * The config loader against real files: each test writes its own `am.plugins.toml` into a
 * fresh temp dir and passes its own `HOME`, so the user's ~/.qntx is never read.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QntxError } from "@qntx/protocol";
import {
  ConfigError,
  DEFAULT_HOST_SETTINGS,
  defaultDataDir,
  expandHome,
  findConfigFile,
  loadConfig,
  parseConfig,
  RESERVED_PLUGIN_NAMES,
  type HostConfig,
} from "../src/config/index.js";
import { configError } from "./helpers/config-error.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

afterEach(() => cleanupTempDirs());

/** A temp dir with a `home` folder inside, and the env that points HOME at it. */
function sandbox(): { dir: string; home: string; env: NodeJS.ProcessEnv } {
  const dir = makeTempDir("qntx-config-");
  const home = join(dir, "home");
  mkdirSync(home);
  return { dir, home, env: { HOME: home } };
}

/** Writes `lines` (joined with "\n", so line numbers are exact) to `dir/name`. */
function write(dir: string, lines: string[], name = "am.plugins.toml"): string {
  const file = join(dir, name);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** The ConfigError thrown by `fn` (fails the test when nothing is thrown). */
/** Loads `lines` as `<dir>/am.plugins.toml` with cwd = dir. */
function load(lines: string[]): { config: HostConfig; dir: string; home: string } {
  const { dir, home, env } = sandbox();
  write(dir, lines);
  return { config: loadConfig({ cwd: dir, env }), dir, home };
}

function loadError(lines: string[]): ConfigError {
  const { dir, env } = sandbox();
  write(dir, lines);
  return configError(() => loadConfig({ cwd: dir, env }));
}

describe("loadConfig: defaults and lookup", () => {
  it("runs on defaults when no file exists", () => {
    const { dir, home, env } = sandbox();
    const config = loadConfig({ cwd: dir, env });
    expect(config.file).toBeUndefined();
    expect(config.baseDir).toBe(dir);
    expect(config.plugins).toEqual([]);
    expect(config.host).toEqual({
      listen: "127.0.0.1:8770",
      dataDir: join(home, ".qntx"),
      pluginBasePort: 38700,
      requestTimeoutMs: 30000,
      healthIntervalMs: 10000,
      portLineTimeoutMs: 2000,
      readyTimeoutMs: 5000,
      initializeTimeoutMs: 10000,
      shutdownTimeoutMs: 5000,
      maxBodyBytes: 10485760,
      grpcListen: "127.0.0.1:0",
      pulseConcurrency: 4,
      jobMaxAttempts: 3,
      jobTimeoutSecs: 300,
      jobRetryBaseMs: 1000,
      jobRetryMaxMs: 60000,
      wsPingIntervalMs: 30000,
      wsPongTimeoutMs: 10000,
      wsMaxFrameBytes: 1048576,
      allowedOrigins: [],
      autoMtls: false,
      metrics: true,
      restartBackoffBaseMs: 500,
      restartBackoffMaxMs: 30000,
      crashBudget: 5,
      crashWindowMs: 180000,
      healthFailures: 3,
      logMaxBytes: 10485760,
      logFiles: 3,
      logRingLines: 1000,
    });
    expect(DEFAULT_HOST_SETTINGS.listen).toBe("127.0.0.1:8770");
  });

  it("takes the data dir from QNTX_HOME, with ~ expanded", () => {
    const { dir, home } = sandbox();
    expect(defaultDataDir({ HOME: home, QNTX_HOME: "~/q" }, dir)).toBe(join(home, "q"));
    expect(defaultDataDir({ HOME: home, QNTX_HOME: "rel" }, dir)).toBe(join(dir, "rel"));
    expect(defaultDataDir({ HOME: home }, dir)).toBe(join(home, ".qntx"));
    expect(loadConfig({ cwd: dir, env: { HOME: home, QNTX_HOME: join(dir, "qh") } }).host.dataDir).toBe(join(dir, "qh"));
  });

  it("looks for --config, then ./am.plugins.toml, then <data dir>/am.plugins.toml", () => {
    const { dir, home, env } = sandbox();
    const cwd = join(dir, "project");
    const dataDir = join(home, ".qntx");
    const inData = write(dataDir, ['[host]', 'listen = "127.0.0.1:1001"']);
    expect(findConfigFile({ cwd, dataDir })).toBe(inData);
    expect(loadConfig({ cwd, env }).host.listen).toBe("127.0.0.1:1001");

    const inCwd = write(cwd, ['[host]', 'listen = "127.0.0.1:1002"']);
    expect(findConfigFile({ cwd, dataDir })).toBe(inCwd);
    expect(loadConfig({ cwd, env })).toMatchObject({ file: inCwd, baseDir: cwd, host: { listen: "127.0.0.1:1002" } });

    const explicit = write(join(dir, "elsewhere"), ['[host]', 'listen = "127.0.0.1:1003"'], "custom.toml");
    expect(findConfigFile({ explicit: "../elsewhere/custom.toml", cwd, dataDir })).toBe(explicit);
    expect(loadConfig({ cwd, env, configPath: "../elsewhere/custom.toml" })).toMatchObject({
      file: explicit,
      baseDir: join(dir, "elsewhere"),
      host: { listen: "127.0.0.1:1003" },
    });
  });

  it("searches the --data-dir override and QNTX_HOME for the file", () => {
    const { dir, home } = sandbox();
    write(join(dir, "d1"), ['[host]', 'listen = "127.0.0.1:2001"']);
    write(join(dir, "d2"), ['[host]', 'listen = "127.0.0.1:2002"']);
    const cwd = makeTempDir("qntx-config-cwd-");
    expect(loadConfig({ cwd, env: { HOME: home }, overrides: { dataDir: join(dir, "d1") } }).host.listen).toBe("127.0.0.1:2001");
    expect(loadConfig({ cwd, env: { HOME: home, QNTX_HOME: join(dir, "d2") } }).host.listen).toBe("127.0.0.1:2002");
  });

  it("fails when --config names a file that does not exist", () => {
    const { dir, env } = sandbox();
    write(dir, ['[host]']);
    const error = configError(() => loadConfig({ cwd: dir, env, configPath: "missing.toml" }));
    expect(error).toBeInstanceOf(QntxError);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(`config file not found: ${join(dir, "missing.toml")}`);
    expect(error.hint).toContain("--config");
    expect(configError(() => loadConfig({ cwd: dir, env, configPath: "." })).message).toContain("is not a file");
  });
});

describe("loadConfig: services and Pulse settings", () => {
  it("reads grpc_listen, pulse_concurrency, job_max_attempts and job_timeout_secs", () => {
    const { config } = load(["[host]", 'grpc_listen = "127.0.0.1:45000"', "pulse_concurrency = 16", "job_max_attempts = 5", "job_timeout_secs = 60"]);
    expect(config.host).toMatchObject({ grpcListen: "127.0.0.1:45000", pulseConcurrency: 16, jobMaxAttempts: 5, jobTimeoutSecs: 60 });
  });

  it("reads allowed_origins and refuses a non-array", () => {
    expect(load(["[host]", 'allowed_origins = ["https://*.example.com"]']).config.host.allowedOrigins).toEqual(["https://*.example.com"]);
    expect(loadError(["[host]", 'allowed_origins = "https://x"']).message).toMatch(/:2: host\.allowed_origins must be an array of strings/);
  });

  it("refuses a grpc_listen that is not host:port, with its line", () => {
    const error = loadError(["[host]", 'grpc_listen = "nowhere"']);
    expect(error.message).toMatch(/:2: host\.grpc_listen/);
  });
});

describe("loadConfig: depends_on", () => {
  it("reads names with optional semver ranges", () => {
    const { config } = load(["[plugins.a]", 'builtin = "clock"', "[plugins.b]", 'builtin = "clock"', 'depends_on = ["a", "c@^1.2"]']);
    expect(config.plugins[1]!.dependsOn).toEqual([{ name: "a", range: "" }, { name: "c", range: "^1.2" }]);
  });

  it("refuses a bad range and a plugin depending on itself, with their lines", () => {
    const error = loadError(["[plugins.a]", 'builtin = "clock"', 'depends_on = ["a", "b@not a range"]']);
    expect(error.message).toContain(':3: plugins.a.depends_on lists the plugin itself ("a")');
    expect(error.message).toContain('"b@not a range", whose version range "not a range" is not a semver range');
  });
});

describe("loadConfig: a full file", () => {
  const example = [
    "# host settings", //                              1
    "[host]", //                                       2
    'listen = "0.0.0.0:9000"', //                      3
    'data_dir = "data"', //                            4
    "plugin_base_port = 40000", //                     5
    "request_timeout_ms = 1000", //                    6
    "health_interval_ms = 2000", //                    7
    "port_line_timeout_ms = 300", //                   8
    "ready_timeout_ms = 400", //                       9
    "initialize_timeout_ms = 500", //                  10
    "shutdown_timeout_ms = 600", //                    11
    "max_body_bytes = 1024", //                        12
    "", //                                             13
    "[plugins.hello]", //                              14
    'binary = "./bin/hello"', //                       15
    'args = ["--verbose", "--x=1"]', //                16
    'env = { LOG_LEVEL = "debug" }', //                17
    'cwd = "work"', //                                 18
    "auto_start = false", //                           19
    'config = { greeting = "hi" }', //                 20
    "", //                                             21
    "[plugins.remote]", //                             22
    'address = "localhost:9001"', //                   23
    "enabled = false", //                              24
    "", //                                             25
    "[plugins.builtin_echo]", //                       26
    'builtin = "echo"', //                             27
  ];

  it("reads every key", () => {
    const { config, dir } = load(example);
    expect(config.file).toBe(join(dir, "am.plugins.toml"));
    expect(config.baseDir).toBe(dir);
    expect(config.host).toEqual({
      listen: "0.0.0.0:9000",
      dataDir: join(dir, "data"),
      pluginBasePort: 40000,
      requestTimeoutMs: 1000,
      healthIntervalMs: 2000,
      portLineTimeoutMs: 300,
      readyTimeoutMs: 400,
      initializeTimeoutMs: 500,
      shutdownTimeoutMs: 600,
      maxBodyBytes: 1024,
      grpcListen: "127.0.0.1:0",
      pulseConcurrency: 4,
      jobMaxAttempts: 3,
      jobTimeoutSecs: 300,
      jobRetryBaseMs: 1000,
      jobRetryMaxMs: 60000,
      wsPingIntervalMs: 30000,
      wsPongTimeoutMs: 10000,
      wsMaxFrameBytes: 1048576,
      allowedOrigins: [],
      autoMtls: false,
      metrics: true,
      restartBackoffBaseMs: 500,
      restartBackoffMaxMs: 30000,
      crashBudget: 5,
      crashWindowMs: 180000,
      healthFailures: 3,
      logMaxBytes: 10485760,
      logFiles: 3,
      logRingLines: 1000,
    });
    expect(config.plugins).toEqual([
      {
        name: "hello",
        enabled: true,
        source: {
          kind: "binary",
          binary: "./bin/hello",
          autoStart: false,
          args: ["--verbose", "--x=1"],
          env: { LOG_LEVEL: "debug" },
          cwd: join(dir, "work"),
        },
        config: { greeting: "hi" },
        dependsOn: [],
        line: 14,
      },
      { name: "remote", enabled: false, source: { kind: "address", address: "localhost:9001" }, config: {}, dependsOn: [], line: 22 },
      { name: "builtin_echo", enabled: true, source: { kind: "builtin", builtin: "echo" }, config: {}, dependsOn: [], line: 26 },
    ]);
  });

  it("applies binary defaults: auto_start true, no args, no env, no cwd", () => {
    const { config } = load(["[plugins.a]", 'binary = "a"']);
    expect(config.plugins[0]!.source).toEqual({ kind: "binary", binary: "a", autoStart: true, args: [], env: {}, cwd: undefined });
  });

  it("freezes the result deeply", () => {
    const { config } = load(example);
    const plugin = config.plugins[0]!;
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.host)).toBe(true);
    expect(Object.isFrozen(config.plugins)).toBe(true);
    expect(Object.isFrozen(plugin.config)).toBe(true);
    expect(plugin.source.kind === "binary" && Object.isFrozen(plugin.source.args)).toBe(true);
    expect(() => {
      (config.host as { listen: string }).listen = "x";
    }).toThrow(TypeError);
  });

  it("lets --listen and --data-dir win over the file", () => {
    const { dir, env } = sandbox();
    write(dir, example);
    const config = loadConfig({ cwd: dir, env, overrides: { listen: "127.0.0.1:0", dataDir: "other" } });
    expect(config.host.listen).toBe("127.0.0.1:0");
    expect(config.host.dataDir).toBe(join(dir, "other"));
    expect(config.host.pluginBasePort).toBe(40000);
  });

  it("reports a bad --listen as a flag, without a file position", () => {
    const { dir, env } = sandbox();
    write(dir, example);
    const error = configError(() => loadConfig({ cwd: dir, env, overrides: { listen: "9000" } }));
    expect(error.message).toBe('--listen must look like host:port (got "9000")');
    expect(error.hint).toBe('add the host: "127.0.0.1:9000"');
  });
});

describe("loadConfig: paths", () => {
  it("resolves a plugin cwd against the config file's folder, not the process cwd", () => {
    const { dir, env } = sandbox();
    const configDir = join(dir, "conf");
    write(configDir, ["[plugins.a]", 'binary = "a"', 'cwd = "../run"', "[plugins.b]", 'binary = "b"', `cwd = "${dir}/abs"`]);
    const config = loadConfig({ cwd: dir, env, configPath: "conf/am.plugins.toml" });
    expect(config.plugins.map((p) => (p.source.kind === "binary" ? p.source.cwd : undefined))).toEqual([join(dir, "run"), join(dir, "abs")]);
  });

  it("expands ~ in data_dir, cwd and --data-dir", () => {
    const { config, home } = load(["[host]", 'data_dir = "~/qdata"', "[plugins.a]", 'binary = "~/bin/a"', 'cwd = "~"']);
    expect(config.host.dataDir).toBe(join(home, "qdata"));
    const source = config.plugins[0]!.source;
    expect(source.kind === "binary" && source.cwd).toBe(home);
    // binary stays as written: the plugin manager resolves it.
    expect(source.kind === "binary" && source.binary).toBe("~/bin/a");

    const { dir, env } = sandbox();
    expect(loadConfig({ cwd: dir, env, overrides: { dataDir: "~/flag" } }).host.dataDir).toBe(join(env.HOME!, "flag"));
  });

  it("expandHome only touches a leading ~", () => {
    expect(expandHome("~", "/h")).toBe("/h");
    expect(expandHome("~/a/b", "/h")).toBe("/h/a/b");
    expect(expandHome("~user/a", "/h")).toBe("~user/a");
    expect(expandHome("a/~/b", "/h")).toBe("a/~/b");
  });
});

describe("loadConfig: plugin config", () => {
  it("flattens config values to strings", () => {
    const { config } = load([
      "[plugins.a]",
      'builtin = "a"',
      "[plugins.a.config]",
      's = "text"',
      "i = 42",
      "f = 1.5",
      "b = true",
      'arr = [1, "two", false]',
      "t = { k = 1, nested = { x = \"y\" } }",
      "d = 1979-05-27T07:32:00Z",
      "ld = 1979-05-27",
      '"dotted.key" = "q"',
    ]);
    expect(config.plugins[0]!.config).toEqual({
      s: "text",
      i: "42",
      f: "1.5",
      b: "true",
      arr: '[1,"two",false]',
      t: '{"k":1,"nested":{"x":"y"}}',
      d: "1979-05-27T07:32:00.000Z",
      ld: "1979-05-27",
      "dotted.key": "q",
    });
  });
});

describe("loadConfig: errors", () => {
  it("reports a TOML syntax error as file:line:col", () => {
    const error = loadError(["[host]", 'listen = "127.0.0.1:1"', "plugin_base_port = ", "[plugins.a]"]);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(/^am\.plugins\.toml:3:\d+: TOML syntax error: /);
    expect(error.issues).toEqual([expect.objectContaining({ line: 3 })]);
    expect(error.hint).toContain("line 3");
    expect(error.describe()).toContain("hint:");
    expect(error.cause).toBeDefined();
  });

  it("reports several bad keys together, each with its line", () => {
    const error = loadError([
      "[host]", //                              1
      "plugin_base_port = 70000", //            2
      "request_timeout_ms = -5", //             3
      'listen = "http://127.0.0.1:1"', //       4
      "max_body_bytes = 1.5", //                5
      "", //                                    6
      "[plugins.hello]", //                     7
      'binary = "hello"', //                    8
      "args = 3", //                            9
      "env = { PORT = 8080 }", //               10
      "enabled = \"yes\"", //                   11
      "", //                                    12
      "[plugins.remote]", //                    13
      'address = "localhost"', //               14
      'args = ["x"]', //                        15
    ]);
    expect(error.message.split("\n")).toEqual([
      "am.plugins.toml:2: host.plugin_base_port must be a port from 1 to 65535 (got 70000)",
      "am.plugins.toml:3: host.request_timeout_ms must be a positive integer (got -5)",
      'am.plugins.toml:4: host.listen must be host:port without a scheme (got "http://127.0.0.1:1")',
      "am.plugins.toml:5: host.max_body_bytes must be a positive integer (got 1.5)",
      "am.plugins.toml:9: plugins.hello.args must be an array of strings (got number)",
      "am.plugins.toml:10: plugins.hello.env.PORT must be a string (got number)",
      "am.plugins.toml:11: plugins.hello.enabled must be true or false (got string)",
      'am.plugins.toml:14: plugins.remote.address must look like host:port (got "localhost")',
      "am.plugins.toml:15: plugins.remote.args only applies to plugins started from a binary (this one uses address)",
    ]);
    expect(error.issues.map((issue) => issue.line)).toEqual([2, 3, 4, 5, 9, 10, 11, 14, 15]);
    expect(error.hint).toBe("fix the 9 problems above in am.plugins.toml");
  });

  it("names unknown keys with a did-you-mean hint", () => {
    const error = loadError([
      "[host]", //                     1
      "pluginBasePort = 1", //         2
      "[plugins.a]", //                3
      'binry = "a"', //                4
      'binary = "a"', //               5
      "colour = 1", //                 6
      "[plugin.b]", //                 7
      'builtin = "b"', //              8
    ]);
    expect(error.message.split("\n")).toEqual([
      'am.plugins.toml:2: host.pluginBasePort is not a known key (did you mean "plugin_base_port"?)',
      'am.plugins.toml:4: plugins.a.binry is not a known key (did you mean "binary"?)',
      "am.plugins.toml:6: plugins.a.colour is not a known key",
      "am.plugins.toml:7: plugin is a section of QNTX's am.toml, not of am.plugins.toml (did you mean \"plugins\"?)",
    ]);
    const single = loadError(["[plugins.a]", 'builtin = "a"', 'confg = { a = "b" }']);
    expect(single.message).toBe('am.plugins.toml:3: plugins.a.confg is not a known key (did you mean "config"?)');
    expect(single.hint).toContain("[plugins.a] accepts: enabled, binary, address, builtin");
  });

  it("requires exactly one of binary, address, builtin", () => {
    const error = loadError(["[plugins.two]", 'binary = "x"', 'address = "127.0.0.1:1"', "", "[plugins.none]", "enabled = true"]);
    expect(error.message.split("\n")).toEqual([
      "am.plugins.toml:1: plugins.two must have exactly one of binary, address or builtin (got binary and address)",
      "am.plugins.toml:5: plugins.none needs one of binary, address or builtin (none given)",
    ]);
  });

  it("rejects a plugin name that cannot be a URL segment", () => {
    const error = loadError(['[plugins."my plugin"]', 'builtin = "x"']);
    expect(error.message).toBe('am.plugins.toml:1: plugins."my plugin" is not a valid plugin name: use only letters, digits, "_" and "-"');
  });

  it("rejects reserved names", () => {
    expect(RESERVED_PLUGIN_NAMES).toEqual(["plugins", "pulse", "commands", "attestations", "ws", "health", "admin", "static", "host", "files"]);
    const error = loadError(["[plugins.ok]", 'builtin = "x"', "[plugins.pulse]", 'builtin = "x"', "[plugins.Admin]", 'builtin = "x"']);
    expect(error.issues.map((issue) => [issue.line, issue.path])).toEqual([
      [3, "plugins.pulse"],
      [5, "plugins.Admin"],
    ]);
    expect(error.message).toContain("plugins.pulse uses a reserved name");
  });

  it("checks types of tables and listen addresses", () => {
    const error = loadError(['host = "x"', "plugins = 3"]);
    expect(error.message.split("\n")).toEqual([
      "am.plugins.toml:1: host must be a table (got string)",
      "am.plugins.toml:2: plugins must be [plugins.<name>] tables or [[plugins]] entries (got number)",
    ]);
    expect(load(["[host]", 'listen = "[::1]:0"']).config.host.listen).toBe("[::1]:0");
    expect(loadError(["[plugins.a]", 'address = "127.0.0.1:0"']).message).toContain("the port must be from 1 to 65535");
  });

  it("finds lines in dotted keys and inline tables, and is not fooled by multi-line strings", () => {
    const error = loadError([
      "[plugins]", //                                1
      'a.binary = "a"', //                           2
      "a.args = 1", //                               3
      'b = { builtin = "b", enabled = 1 }', //       4
      "", //                                         5
      "[plugins.c]", //                              6
      'builtin = "c"', //                            7
      "config.text = '''", //                        8
      "[plugins.fake]", //                           9
      "args = 1", //                                 10
      "'''", //                                      11
      "config.list = [", //                          12
      "  1,", //                                     13
      "]", //                                        14
      "enabled = 2", //                              15
    ]);
    expect(error.message.split("\n")).toEqual([
      "am.plugins.toml:3: plugins.a.args must be an array of strings (got number)",
      "am.plugins.toml:4: plugins.b.enabled must be true or false (got number)",
      "am.plugins.toml:15: plugins.c.enabled must be true or false (got number)",
    ]);
  });

  it("parseConfig works on text without a file", () => {
    const { dir, env } = sandbox();
    const config = parseConfig('[plugins.a]\nbuiltin = "a"\n', undefined, { cwd: dir, env });
    expect(config).toMatchObject({ file: undefined, baseDir: dir, plugins: [{ name: "a", line: 1 }] });
    expect(configError(() => parseConfig("[plugins.a]\n", undefined, { cwd: dir, env })).message).toBe(
      "<config>:1: plugins.a needs one of binary, address or builtin (none given)",
    );
  });
});
