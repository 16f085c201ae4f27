/**
 * The config loader finding its file and paths, against real files in a temp dir with its own
 * `HOME` (helpers/config-sandbox.ts): defaults when no file exists, the lookup order, `~`
 * expansion and paths resolved against the config file's folder.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { QntxError } from "@qntx/protocol";
import { DEFAULT_HOST_SETTINGS, defaultDataDir, expandHome, findConfigFile, loadConfig } from "../src/config/index.js";
import { configError } from "./helpers/config-error.js";
import { load, sandbox, write } from "./helpers/config-sandbox.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

afterEach(() => cleanupTempDirs());

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
