/**
 * The one config checker (config-check.ts): the schema rules host and SDK both apply, issues
 * placed at a file and line, and the checks of a schema itself.
 */
import { describe, expect, it } from "@jest/globals";
import { checkSchemaConfig, ConfigChecker, formatIssue, schemaFieldProblems, schemaIssueLines, schemaValueProblem } from "../src/config-check.js";
import type { ConfigFieldSchema } from "../src/gen/domain.js";

const field = (over: Partial<ConfigFieldSchema>): ConfigFieldSchema => ({
  type: "string", description: "", defaultValue: "", required: false, minValue: "", maxValue: "", pattern: "", elementType: "", ...over,
});

describe("schemaValueProblem", () => {
  it("checks numbers, booleans, arrays and patterns by one set of rules", () => {
    expect(schemaValueProblem("3", field({ type: "number", maxValue: "5" }))).toBeUndefined();
    expect(schemaValueProblem("9", field({ type: "number", maxValue: "5" }))).toBe("must be at most 5 (got 9)");
    expect(schemaValueProblem("x", field({ type: "number" }))).toBe('must be a number (got "x")');
    expect(schemaValueProblem("1", field({ type: "boolean" }))).toBe('must be true or false (got "1")');
    expect(schemaValueProblem('["a",2]', field({ type: "array", elementType: "string" }))).toBe("item 1 must be a string (got 2)");
    expect(schemaValueProblem('["ab","c"]', field({ type: "array", pattern: "^..$" }))).toBe("item 1 must match ^..$");
    expect(schemaValueProblem("a,b", field({ type: "array" }))).toBe('must be an array, like ["a", "b"] (got "a,b")');
    expect(schemaValueProblem('["a"]', field({ type: "array", minValue: "2" }))).toBe("must be at least 2 items (got 1)");
    // A secret that fails its pattern is not echoed.
    expect(schemaValueProblem("hunter2", field({ pattern: "^[a-z]+$" }))).toBe("must match ^[a-z]+$");
  });
});

describe("checkSchemaConfig", () => {
  it("fills defaults, treats an empty value as missing, and places each issue where its key came from", () => {
    const checker = new ConfigChecker(undefined);
    const schema = { fields: { retries: field({ type: "number", maxValue: "5" }), mode: field({ defaultValue: "safe" }), token: field({ required: true, description: "API token" }) } };
    const out = checkSchemaConfig(checker, { retries: "9", mode: "", extra: "kept" }, schema, (key) => (key === "retries" ? { file: "/etc/am.plugins.toml", line: 7 } : undefined));
    expect(out).toEqual({ retries: "9", mode: "safe", extra: "kept" });
    expect(schemaIssueLines(checker.issues)).toEqual(["/etc/am.plugins.toml:7: retries: must be at most 5 (got 9)", "token: required (API token) but missing"]);
    expect(formatIssue(checker.issues[0]!, "other.toml")).toBe("/etc/am.plugins.toml:7: retries must be at most 5 (got 9)");
  });
});

describe("ConfigChecker", () => {
  it("locates typed TOML values through its locator and reports instead of throwing", () => {
    const checker = new ConfigChecker({ lineOf: (path) => (path[0] === "host" ? 3 : undefined) });
    expect(checker.positiveInteger(["host", "port"], 70000, "port")).toBeUndefined();
    expect(checker.boolean(["x"], "yes")).toBeUndefined();
    expect(checker.string(["host", "name"], "  ")).toBeUndefined();
    expect(checker.issues.map((issue) => formatIssue(issue, "am.plugins.toml"))).toEqual([
      "am.plugins.toml:3: host.port must be a port from 1 to 65535 (got 70000)",
      "am.plugins.toml: x must be true or false (got string)",
      "am.plugins.toml:3: host.name must not be empty",
    ]);
  });
});

describe("schemaFieldProblems", () => {
  it("names what is wrong with a field, its default included", () => {
    expect(schemaFieldProblems("a", field({ type: "date" }))).toEqual(['a: type "date" is not one of string, number, boolean, array']);
    expect(schemaFieldProblems("b", field({ type: "string", elementType: "string", pattern: "(" }))).toEqual([
      'b: element_type "string" needs type array and a string, number or boolean element',
      "b: pattern ( is not a valid regular expression",
    ]);
    expect(schemaFieldProblems("c", field({ type: "number", maxValue: "2", defaultValue: "3" }))).toEqual(["default of c: must be at most 2 (got 3)"]);
    expect(schemaFieldProblems("d", field({ type: "array", elementType: "number", defaultValue: "[1]" }))).toEqual([]);
  });
});
