/** Attestation watchers: validation by definePlugin and their place in the Initialize answer. */
import { describe, expect, it } from "@jest/globals";
import { InitializeRequest, type InitializeResponse } from "@qntx/protocol";
import { definePlugin, startPlugin, type PluginDef } from "../src/index.js";
import { call, dial } from "./helpers.js";

const meta = { name: "w", version: "1.0.0" };
const handlers = { analyze: () => 1, other: () => 2 };

describe("definePlugin watchers", () => {
  it("compiles watchers with empty dimensions and no rate limit by default", () => {
    const def = definePlugin({ metadata: meta, handlers, watchers: [{ id: "on-commit", handler: "analyze", predicates: ["committed"] }] });
    expect(def.watchers).toEqual([
      { id: "on-commit", handlerName: "analyze", subjects: [], predicates: ["committed"], contexts: [], actors: [], maxFiresPerSecond: 0 },
    ]);
    expect(definePlugin({ metadata: meta }).watchers).toEqual([]);
  });

  it.each([
    [{ watchers: [{ id: "a", handler: "nope" }] }, /watchers\[0\] \(a\): no handler named "nope" \(handlers: analyze, other\)/],
    [{ handlers: {}, watchers: [{ id: "a", handler: "analyze" }] }, /no handler named "analyze" \(handlers: none\)/],
    [{ watchers: [{ id: "", handler: "analyze" }] }, /watchers\[0\]: id must be a non-empty string/],
    [{ watchers: [{ id: "  ", handler: "analyze" }] }, /watchers\[0\]: id must be a non-empty string/],
    [{ watchers: [{ handler: "analyze" }] }, /watchers\[0\]: id must be a non-empty string/],
    [{ watchers: [{ id: "a", handler: "analyze" }, { id: "a", handler: "other" }] }, /watchers\[1\]: duplicate watcher id "a"/],
    [{ watchers: [{ id: "a", handler: "analyze", maxFiresPerSecond: -1 }] }, /maxFiresPerSecond must be an integer >= 0/],
    [{ watchers: [{ id: "a", handler: "analyze", maxFiresPerSecond: 0.5 }] }, /maxFiresPerSecond must be an integer >= 0/],
    [{ watchers: [{ id: "a", handler: "analyze", predicates: "committed" }] }, /watchers\[0\]\.predicates must be an array of non-empty strings/],
    [{ watchers: [{ id: "a", handler: "analyze", actors: [""] }] }, /watchers\[0\]\.actors must be an array of non-empty strings/],
    [{ watchers: { id: "a" } }, /watchers must be an array/],
    [{ watchers: [null] }, /watchers\[0\] must be an object/],
  ])("rejects %j", (extra, message) => {
    expect(() => definePlugin({ metadata: meta, handlers, ...(extra as Partial<PluginDef>) })).toThrow(message);
  });

  it("is not affected by later changes to the arrays passed in", () => {
    const predicates = ["committed"];
    const def = definePlugin({ metadata: meta, handlers, watchers: [{ id: "a", handler: "analyze", predicates }] });
    predicates.push("other");
    expect(def.watchers[0]!.predicates).toEqual(["committed"]);
  });
});

describe("Initialize answers watchers", () => {
  it("returns every watcher field, next to handler_names", async () => {
    const own = await startPlugin(
      definePlugin({
        metadata: meta,
        handlers,
        watchers: [
          { id: "on-commit", handler: "analyze", predicates: ["committed"] },
          { id: "all", handler: "other", subjects: ["s1", "s2"], predicates: ["p"], contexts: ["c"], actors: ["ada"], maxFiresPerSecond: 5 },
        ],
      }),
      { port: 0 },
    );
    const c = dial(own.address);
    try {
      const res = await call<InitializeRequest, InitializeResponse>(c, c.initialize, InitializeRequest.fromPartial({}));
      expect(res.handlerNames).toEqual(["analyze", "other"]);
      expect(res.watchers).toEqual([
        { id: "on-commit", handlerName: "analyze", subjects: [], predicates: ["committed"], contexts: [], actors: [], maxFiresPerSecond: 0 },
        { id: "all", handlerName: "other", subjects: ["s1", "s2"], predicates: ["p"], contexts: ["c"], actors: ["ada"], maxFiresPerSecond: 5 },
      ]);
      // A second Initialize (a host restart or reconnect) announces the same set.
      const again = await call<InitializeRequest, InitializeResponse>(c, c.initialize, InitializeRequest.fromPartial({}));
      expect(again.watchers).toEqual(res.watchers);
    } finally {
      c.close();
      await own.close({ force: true });
    }
  });

  it("answers an empty list when the plugin declares none", async () => {
    const own = await startPlugin(definePlugin({ metadata: meta, handlers }), { port: 0 });
    const c = dial(own.address);
    try {
      const res = await call<InitializeRequest, InitializeResponse>(c, c.initialize, InitializeRequest.fromPartial({}));
      expect(res.watchers).toEqual([]);
    } finally {
      c.close();
      await own.close({ force: true });
    }
  });
});
