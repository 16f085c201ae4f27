/**
 * A plugin's config from its layers (config table < QNTX's <data_dir>/plugins/<name>.toml
 * [config] < the host's <data_dir>/am.<name>.toml) and the references resolved at start
 * (`env:VAR`, `${VAR}`), against real files in a fresh data dir.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QntxError } from "@qntx/protocol";
import type { PluginEntry } from "../src/config/index.js";
import { configSourceOf, layeredConfig, resolveConfigValues } from "../src/plugin/plugin-config.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

afterEach(() => cleanupTempDirs());

function entry(config: Record<string, string>): PluginEntry {
  return {
    name: "hello",
    enabled: true,
    source: { kind: "binary", binary: "hello", search: undefined, autoStart: true, args: [], env: {}, cwd: undefined },
    config,
    dependsOn: [],
    line: 7,
  };
}

function dataDir(files: Record<string, string>): string {
  const dir = makeTempDir("qntx-layers-");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): QntxError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(QntxError);
    return error as QntxError;
  }
  throw new Error("expected an error");
}

describe("layeredConfig", () => {
  it("puts QNTX's plugins/<name>.toml [config] over the table, and am.<name>.toml over both", () => {
    const dir = dataDir({
      "plugins/hello.toml": 'name = "hello"\nenabled = true\n[config]\nGreeting = "from-qntx-file"\nratio = 0.25\nremoved = ""\nonly_qntx = "q"\n',
      "am.hello.toml": 'greeting = "from-own-file"\n',
    });
    const table = { greeting: "from-table", removed: "gone", ratio: "1", kept: "k" };
    expect(layeredConfig(entry(table), dir)).toEqual({ greeting: "from-own-file", ratio: "0.250000", kept: "k", only_qntx: "q" });
    // PUT passes the config it is about to store in place of am.<name>.toml.
    expect(layeredConfig(entry(table), dir, { kept: "put" })).toEqual({ greeting: "from-qntx-file", ratio: "0.250000", kept: "put", only_qntx: "q" });
  });

  it("names the file and line of a broken plugins/<name>.toml", () => {
    const dir = dataDir({ "plugins/hello.toml": "[config]\nx = \n" });
    const error = thrown(() => layeredConfig(entry({}), dir));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(new RegExp(`^${join(dir, "plugins", "hello.toml")}:2:\\d+: TOML syntax error`));
    const notTable = dataDir({ "plugins/hello.toml": 'name = "hello"\nconfig = "x"\n' });
    expect(thrown(() => layeredConfig(entry({}), notTable)).message).toBe(`${join(notTable, "plugins", "hello.toml")}:2: config must be a table (got string)`);
  });
});

describe("resolveConfigValues", () => {
  const where = configSourceOf({ file: "/etc/am.toml", format: "am.toml" }, entry({}));

  it("resolves env:VAR and ${VAR}, and leaves other values alone", () => {
    const env = { HELLO_TOKEN: "t0k3n", REGION: "eu" };
    expect(resolveConfigValues({ token: "env:HELLO_TOKEN", url: "https://${REGION}.example.com", plain: "environment: x" }, env, "hello", where)).toEqual({
      token: "t0k3n",
      url: "https://eu.example.com",
      plain: "environment: x",
    });
  });

  it("names plugin, key and variable of every missing reference, never a value", () => {
    const env = { EMPTY: "", OTHER_SECRET: "do-not-print" };
    const error = thrown(() => resolveConfigValues({ token: "env:HELLO_TOKEN", key: "env:EMPTY", url: "x/${NOPE}", fine: "env:OTHER_SECRET" }, env, "hello", where));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(
      "plugin hello config (/etc/am.toml [hello]): token references env:HELLO_TOKEN, which is unset or empty; key references env:EMPTY, which is unset or empty; url uses ${NOPE}, which is not set",
    );
    expect(error.hint).toBe("export HELLO_TOKEN, EMPTY, NOPE before starting the host, then qntx plugin start hello; or write ${VAR:-default}");
    expect(`${error.message} ${error.hint}`).not.toContain("do-not-print");
  });

  it("refuses ssm:// references, which need AWS", () => {
    const error = thrown(() => resolveConfigValues({ token: "ssm:///qntx/token" }, {}, "hello", where));
    expect(error.message).toContain("token is an ssm:// reference, which this host cannot read");
    expect(error.message).not.toContain("/qntx/token");
  });
});
