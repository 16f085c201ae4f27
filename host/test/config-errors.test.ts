/**
 * The config loader refusing a bad `am.plugins.toml` (helpers/config-sandbox.ts): syntax errors
 * as file:line:col, several bad keys at once with their lines, did-you-mean hints, names and types.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { loadConfig, parseConfig, RESERVED_PLUGIN_NAMES } from "../src/config/index.js";
import { configError } from "./helpers/config-error.js";
import { load, loadError, sandbox } from "./helpers/config-sandbox.js";
import { cleanupTempDirs } from "./helpers/tmp.js";

afterEach(() => cleanupTempDirs());

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
    expect(RESERVED_PLUGIN_NAMES).toEqual(["plugins", "pulse", "commands", "attestations", "ws", "health", "admin", "static", "host", "files", "dashboard"]);
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
