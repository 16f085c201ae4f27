/**
 * Pure pieces of the config: QNTX's value conversions (Go's %f and encoding/json, replicated
 * bit for bit) and the plugin diff a reload uses.
 */
import { describe, expect, it } from "@jest/globals";
import { parse } from "smol-toml";
import { diffPlugins, goFormatFloat, goJson, pluginEntriesDiffer, qntxSectionConfig, qntxTableConfig, type PluginEntry } from "../src/config/index.js";

describe("goFormatFloat (Go's %f)", () => {
  it.each([
    [0.5, "0.500000"],
    [1, "1.000000"],
    [-2.25, "-2.250000"],
    [1 / 3, "0.333333"],
    [2 / 3, "0.666667"],
    [0.0078125, "0.007812"], // an exact tie: Go rounds to even, toFixed would give 0.007813
    [0.0234375, "0.023438"], // a tie rounding up to even
    [1e-7, "0.000000"],
    [-1e-7, "-0.000000"],
    [-0, "-0.000000"],
    [1e21, "1000000000000000000000.000000"],
    [123456789.123456789, "123456789.123457"],
    [Number.MIN_VALUE, "0.000000"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
  ])("%p → %s", (value, text) => {
    expect(goFormatFloat(value)).toBe(text);
  });
});

describe("goJson (Go's encoding/json after viper)", () => {
  it("escapes like Go, sorts and lower-cases table keys, keeps integers exact", () => {
    expect(goJson(["<a> & b", "\u2028", 'q"'])).toBe('["\\u003ca\\u003e \\u0026 b","\\u2028","q\\""]');
    expect(goJson({ b: 1n, A: [true, 0.5], c: { Z: "z" } })).toBe('{"a":[true,0.5],"b":1,"c":{"z":"z"}}');
    expect(goJson([12345678901234567890n, 1e21, 1e-7])).toBe("[12345678901234567890,1e+21,1e-7]");
    expect(goJson([NaN])).toBeUndefined();
  });

  it("writes TOML dates as Go marshals them", () => {
    const dates = parse("a = 1979-05-27T07:32:00Z\nb = 1979-05-27T07:32:00.5-07:00\nc = 1979-05-27T07:32:00\nd = 07:32:00\ne = 1979-05-27T07:32:00+00:00");
    expect(Object.values(dates).map(goJson)).toEqual(['"1979-05-27T07:32:00Z"', '"1979-05-27T07:32:00.5-07:00"', '"1979-05-27T07:32:00"', '"07:32:00"', '"1979-05-27T07:32:00Z"']);
  });
});

describe("QNTX config tables", () => {
  it("a [<name>] table: flattened, lower-cased, _keys and empty strings dropped", () => {
    const table = parse('A = 1\nb = 1.5\nc = ""\n_d = "x"\n[E]\nF = [1, { G = 2 }]', { integersAsBigInt: true });
    expect(qntxTableConfig(table)).toEqual({ a: "1", b: "1.500000", "e.f": '[1,{"g":2}]' });
  });

  it("a [config] section of <name>.toml: lower-cased, not flattened, empty strings kept", () => {
    const table = parse('A = 1.0\nempty = ""\n[Nested]\nX = true', { integersAsBigInt: true });
    expect(qntxSectionConfig(table)).toEqual({ a: "1.000000", empty: "", nested: '{"x":true}' });
  });
});

/** A plugin entry as the loader builds them. */
function entry(name: string, overrides: Partial<PluginEntry> = {}): PluginEntry {
  return {
    name,
    enabled: true,
    source: { kind: "binary", binary: name, search: undefined, autoStart: true, args: [], env: {}, cwd: undefined },
    config: { greeting: "hi" },
    dependsOn: [],
    line: 1,
    ...overrides,
  };
}

describe("diffPlugins and pluginEntriesDiffer", () => {
  it("ignore the line, and compare every other field deeply", () => {
    expect(pluginEntriesDiffer(entry("a"), entry("a", { line: 40 }))).toBe(false);
    expect(pluginEntriesDiffer(entry("a"), entry("a", { config: { greeting: "hello" } }))).toBe(true);
    expect(pluginEntriesDiffer(entry("a"), entry("a", { source: { kind: "binary", binary: "a", search: undefined, autoStart: true, args: ["-v"], env: {}, cwd: undefined } }))).toBe(true);
    expect(pluginEntriesDiffer(entry("a"), entry("a", { enabled: false }))).toBe(true);
    expect(pluginEntriesDiffer(entry("a"), entry("a", { dependsOn: [{ name: "b", range: "" }] }))).toBe(true);
    expect(pluginEntriesDiffer(entry("a"), entry("a", { source: { kind: "address", address: "127.0.0.1:9" } }))).toBe(true);
  });

  it("sorts plugins into added, removed and changed", () => {
    const old = [entry("keep"), entry("edit"), entry("drop"), entry("moved", { line: 3 })];
    const next = [entry("new"), entry("moved", { line: 9 }), entry("edit", { config: {} }), entry("keep")];
    const diff = diffPlugins(old, next);
    expect(diff.added.map((e) => e.name)).toEqual(["new"]);
    expect(diff.removed.map((e) => e.name)).toEqual(["drop"]);
    expect(diff.changed.map((c) => [c.before.config, c.after.config])).toEqual([[{ greeting: "hi" }, {}]]);
    expect(diffPlugins(next, next)).toEqual({ added: [], removed: [], changed: [] });
  });
});
