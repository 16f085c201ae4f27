/**
 * am.plugins.toml's two forms of plugin: `[plugins.<name>]` tables and the `[[plugins]]`
 * entries of QNTX's external-plugin guide, alone and in one file, against real files in a
 * fresh temp dir with its own HOME.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, pluginEntriesDiffer, type HostConfig } from "../src/config/index.js";
import { configError } from "./helpers/config-error.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

afterEach(() => cleanupTempDirs());

/** Writes `lines` as `<dir>/am.plugins.toml` (line numbers exact) and loads it with cwd = dir. */
function load(lines: string[]): HostConfig {
  const dir = makeTempDir("qntx-config-array-");
  mkdirSync(join(dir, "home"));
  writeFileSync(join(dir, "am.plugins.toml"), `${lines.join("\n")}\n`);
  return loadConfig({ cwd: dir, env: { HOME: join(dir, "home") } });
}

function loadError(lines: string[]): ConfigError {
  return configError(() => load(lines));
}

describe("[[plugins]] entries", () => {
  it("reads the guide's two examples like the same [plugins.<name>] tables", () => {
    const guide = load([
      "[[plugins]]",
      'name = "myplugin"',
      "enabled = true",
      'address = "localhost:9001"',
      "",
      "[[plugins]]",
      'name = "other"',
      "enabled = true",
      'binary = "qntx-myplugin"',
      "auto_start = true",
      'args = ["--verbose"]',
      'env = { LOG = "debug" }',
      'config = { greeting = "hi", retries = 3 }',
    ]);
    const tables = load([
      "[plugins.myplugin]",
      'address = "localhost:9001"',
      "[plugins.other]",
      'binary = "qntx-myplugin"',
      'args = ["--verbose"]',
      'env = { LOG = "debug" }',
      'config = { greeting = "hi", retries = 3 }',
    ]);
    expect(guide.plugins.map((p) => [p.name, p.line])).toEqual([["myplugin", 1], ["other", 6]]);
    expect(guide.plugins[0]!.source).toEqual({ kind: "address", address: "localhost:9001" });
    expect(guide.plugins[1]!.source).toMatchObject({ kind: "binary", binary: "qntx-myplugin", autoStart: true, args: ["--verbose"], env: { LOG: "debug" } });
    expect(guide.plugins[1]!.config).toEqual({ greeting: "hi", retries: "3" });
    guide.plugins.forEach((entry, i) => expect(pluginEntriesDiffer(entry, tables.plugins[i]!)).toBe(false));
  });

  it("defaults enabled and auto_start to true when an entry leaves them out (QNTX's Go struct would say false)", () => {
    const config = load(["[[plugins]]", 'name = "a"', 'binary = "a"']);
    expect(config.plugins[0]).toMatchObject({ enabled: true, source: { autoStart: true } });
  });

  it("reads an inline array of tables", () => {
    const config = load(['plugins = [{ name = "a", builtin = "clock" }, { name = "b", address = "127.0.0.1:9" }]']);
    expect(config.plugins.map((p) => [p.name, p.source.kind, p.line])).toEqual([["a", "builtin", 1], ["b", "address", 1]]);
  });

  it("reports problems of an entry at their lines, as plugins[i].key", () => {
    const error = loadError([
      "[[plugins]]", //                 1
      'name = "a"', //                  2
      'binary = "a"', //                3
      "[[plugins]]", //                 4
      'name = "b"', //                  5
      'binary = "b"', //                6
      'args = "--x"', //                7
      "colour = 1", //                  8
      "[[plugins]]", //                 9
      "binary = 3", //                  10
      "[[plugins]]", //                 11
      'name = "pulse"', //              12
      'builtin = "clock"', //           13
    ]);
    expect(error.message.split("\n")).toEqual([
      "am.plugins.toml:7: plugins[1].args must be an array of strings (got string)",
      "am.plugins.toml:8: plugins[1].colour is not a known key",
      "am.plugins.toml:9: plugins[2] needs a name",
      "am.plugins.toml:10: plugins[2].binary must be a string (got number)",
      expect.stringMatching(/^am\.plugins\.toml:12: plugins\[3\]\.name uses a reserved name: "pulse"/),
    ]);
    expect(error.issues[1]!.hint).toBe("[[plugins]] accepts: name, enabled, binary, address, builtin, auto_start, args, env, cwd, config, depends_on, enqueue, attest, services, sha256, transport, auto_mtls, tls, server_name");
  });
});

describe("both forms in one file", () => {
  it("reads [plugins.<name>] tables written after the [[plugins]] entries, in file order, with their lines", () => {
    const config = load([
      "[[plugins]]", //                 1
      'name = "first"', //              2
      'binary = "first"', //            3
      "[plugins.config]", //            4  TOML: the entry's own config table
      'greeting = "hi"', //             5
      "", //                            6
      "[plugins.hello]", //             7
      'binary = "hello"', //            8
      "[plugins.hello.config]", //      9
      "retries = 2", //                 10
      "", //                            11
      "[[plugins]]", //                 12
      'name = "last"', //               13
      'builtin = "clock"', //           14
    ]);
    expect(config.plugins.map((p) => [p.name, p.line])).toEqual([["first", 1], ["hello", 7], ["last", 12]]);
    expect(config.plugins[0]!.config).toEqual({ greeting: "hi" });
    expect(config.plugins[1]!.config).toEqual({ retries: "2" });
  });

  it("locates errors in a lifted table by the line of its own keys", () => {
    const error = loadError(["[[plugins]]", 'name = "a"', 'builtin = "clock"', "[plugins.b]", 'binary = "b"', "auto_start = 1"]);
    expect(error.message).toBe("am.plugins.toml:6: plugins.b.auto_start must be true or false (got number)");
  });

  it("explains [[plugins]] written after [plugins.<name>] tables, which TOML cannot read", () => {
    const error = loadError(["[plugins.a]", 'builtin = "clock"', "", "[[plugins]]", 'name = "b"', 'builtin = "clock"']);
    expect(error.message).toBe("am.plugins.toml:4: [[plugins]] comes after [plugins.a] (line 1), which made plugins a table");
    expect(error.hint).toContain("write the [[plugins]] entries before the [plugins.<name>] tables");
  });
});

describe("a name used twice is an error naming both lines", () => {
  it("in two [[plugins]] entries", () => {
    const error = loadError(["[[plugins]]", 'name = "a"', 'builtin = "clock"', "[[plugins]]", 'name = "a"', 'address = "127.0.0.1:9"']);
    expect(error.message).toBe('am.plugins.toml:5: plugins[1].name defines plugin "a" a second time (lines 2 and 5)');
    expect(error.hint).toContain("a plugin may appear once");
  });

  it("in an entry and a table", () => {
    const error = loadError(["[[plugins]]", 'name = "a"', 'builtin = "clock"', "", "[plugins.a]", 'builtin = "clock"']);
    expect(error.message).toBe('am.plugins.toml:5: plugins.a defines plugin "a" a second time (lines 2 and 5)');
  });

  it("in two tables (a TOML error, given both lines)", () => {
    const error = loadError(["[plugins.a]", 'builtin = "clock"', "[plugins.b]", 'builtin = "clock"', "[plugins.a]", 'builtin = "clock"']);
    expect(error.message).toBe("am.plugins.toml:5: [plugins.a] is defined twice (lines 1 and 5)");
    expect(error.hint).toContain("a plugin may appear once");
  });
});
