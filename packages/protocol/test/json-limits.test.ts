/** The JSON depth limit: exact at the boundary, iterative (no stack overflow on any depth). */
import { describe, expect, it } from "@jest/globals";
import { MAX_JSON_DEPTH, jsonBytesTooDeep, jsonDepthExceeds } from "../src/json-limits.js";

const nest = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { k: value };
  return value;
};

describe("jsonDepthExceeds", () => {
  it("counts arrays and objects as levels, scalars as none", () => {
    for (const scalar of [1, "s", null, true]) expect(jsonDepthExceeds(scalar, 0)).toBe(false);
    expect(jsonDepthExceeds({}, 0)).toBe(true);
    expect(jsonDepthExceeds({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [1, { b: 2 }] }, 2)).toBe(true);
  });

  it("takes exactly the limit and refuses one more, at any breadth", () => {
    expect(jsonDepthExceeds(nest(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonDepthExceeds(nest(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonDepthExceeds([nest(2), nest(MAX_JSON_DEPTH), nest(3)])).toBe(true);
  });

  it("walks a million levels without overflowing the stack", () => {
    expect(jsonDepthExceeds(nest(1_000_000))).toBe(true);
  });
});

describe("jsonBytesTooDeep", () => {
  it("names what was too deep and leaves bytes that are not JSON alone", () => {
    expect(jsonBytesTooDeep(Buffer.from("[".repeat(100) + "]".repeat(100)), "the payload")).toContain(`the payload is nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(jsonBytesTooDeep(Buffer.from('{"ok":true}'), "the payload")).toBeUndefined();
    expect(jsonBytesTooDeep(Buffer.from([0xff, 0x00, 0x7b]), "the payload")).toBeUndefined();
    expect(jsonBytesTooDeep(new Uint8Array(), "the payload")).toBeUndefined();
  });
});
