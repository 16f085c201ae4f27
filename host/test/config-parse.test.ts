/**
 * The config loader reading a valid `am.plugins.toml` (helpers/config-sandbox.ts): services and
 * Pulse settings, depends_on, every key of a full file, flag overrides and plugin config values.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { loadConfig } from "../src/config/index.js";
import { configError } from "./helpers/config-error.js";
import { load, loadError, sandbox, write } from "./helpers/config-sandbox.js";
import { cleanupTempDirs } from "./helpers/tmp.js";

afterEach(() => cleanupTempDirs());

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
      jobLeaseMs: 30_000,
      heartbeatIntervalMs: 5_000,
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
