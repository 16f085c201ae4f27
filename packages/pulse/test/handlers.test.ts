import { afterEach, describe, expect, it } from "@jest/globals";
import { HandlerRegistry, Pulse, PulseError } from "../src/index.js";
import { scriptedExecutor, tempDb, testOptions, type TempDb } from "./helpers.js";

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PulseError);
    return { code: (err as PulseError).code, message: (err as PulseError).message };
  }
  throw new Error("expected a PulseError");
}

describe("HandlerRegistry", () => {
  it("registers announced names as plugin/handler and resolves qualified and unique bare names", () => {
    const r = new HandlerRegistry();
    expect(r.register("hello", ["resize", "greet", "resize"])).toEqual(["hello/resize", "hello/greet"]);
    expect(r.resolve("hello/resize")).toEqual({ qualified: "hello/resize", plugin: "hello", handler: "resize" });
    expect(r.resolve("greet")).toEqual({ qualified: "hello/greet", plugin: "hello", handler: "greet" });
    expect(r.list().map((e) => e.qualified)).toEqual(["hello/greet", "hello/resize"]);
  });

  it("refuses an ambiguous bare name, naming every candidate", () => {
    const r = new HandlerRegistry();
    r.register("a", ["sync"]);
    r.register("b", ["sync"]);
    const e = codeOf(() => r.resolve("sync"));
    expect(e.code).toBe("AMBIGUOUS_HANDLER");
    expect(e.message).toContain("a/sync, b/sync");
    expect(r.resolve("b/sync").plugin).toBe("b");
  });

  it("refuses an unknown name, listing the known handlers", () => {
    const r = new HandlerRegistry();
    expect(codeOf(() => r.resolve("x")).message).toContain("no plugin has announced any handler");
    r.register("a", ["one", "two"]);
    const e = codeOf(() => r.resolve("three"));
    expect(e.code).toBe("UNKNOWN_HANDLER");
    expect(e.message).toContain("a/one, a/two");
    const own = codeOf(() => r.resolve("a/three"));
    expect(own.code).toBe("UNKNOWN_HANDLER");
    expect(own.message).toBe('plugin a has no handler "three"; it announces: a/one, a/two');
  });

  it("replaces a plugin's set on re-register and forgets it on unregister", () => {
    const r = new HandlerRegistry();
    const changes: string[] = [];
    r.onChange((p) => changes.push(p));
    r.register("a", ["x", "y"]);
    r.register("a", ["y"]);
    expect(r.has("a/x")).toBe(false);
    expect(r.resolve("y").qualified).toBe("a/y");
    r.register("b", ["y"]);
    r.unregister("a");
    expect(r.resolve("y").qualified).toBe("b/y");
    expect(r.plugins()).toEqual(["b"]);
    expect(changes).toEqual(["a", "a", "b", "a"]);
  });

  it("rejects invalid plugin and handler names", () => {
    const r = new HandlerRegistry();
    expect(codeOf(() => r.register("a/b", ["x"])).code).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => r.register("a", [""])).code).toBe("INVALID_ARGUMENT");
  });
});

describe("enqueue routing", () => {
  let t: TempDb;
  afterEach(() => t.cleanup());

  it("routes bare and qualified names and refuses unknown/ambiguous ones at enqueue (nothing queued)", async () => {
    t = tempDb();
    const pulse = new Pulse(testOptions(t.db, scriptedExecutor().executor));
    await pulse.registerPlugin("img", ["resize", "thumb"]);
    await pulse.registerPlugin("vid", ["thumb"]);

    const bare = await pulse.enqueue({ handler: "resize" });
    expect([bare.handler, bare.plugin, bare.handlerName]).toEqual(["img/resize", "img", "resize"]);
    const qualified = await pulse.enqueue({ handler: "vid/thumb" });
    expect([qualified.handler, qualified.plugin, qualified.handlerName]).toEqual(["vid/thumb", "vid", "thumb"]);

    await expect(pulse.enqueue({ handler: "thumb" })).rejects.toMatchObject({
      code: "AMBIGUOUS_HANDLER",
      message: expect.stringContaining("img/thumb, vid/thumb"),
    });
    await expect(pulse.enqueue({ handler: "crop" })).rejects.toMatchObject({
      code: "UNKNOWN_HANDLER",
      message: expect.stringContaining("img/resize, img/thumb, vid/thumb"),
    });
    await expect(pulse.enqueueWire({ id: "", handlerName: "nope", payload: Buffer.alloc(0), source: "", status: "", costEstimate: 0, costActual: 0, error: "", parentJobId: "", retryCount: 0, createdAt: 0, startedAt: 0, completedAt: 0 })).rejects.toMatchObject({ code: "UNKNOWN_HANDLER" });
    expect((await pulse.list()).map((j) => j.id).sort()).toEqual([bare.id, qualified.id].sort());
  });

  it("validates enqueue arguments", async () => {
    t = tempDb();
    const pulse = new Pulse(testOptions(t.db, scriptedExecutor().executor));
    pulse.handlers.register("p", ["h"]);
    await expect(pulse.enqueue({ handler: "p/h", maxAttempts: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(pulse.enqueue({ handler: "p/h", priority: 1.5 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(pulse.enqueue({ handler: "p/h", timeoutSecs: -1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(pulse.enqueue({ handler: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const j = await pulse.enqueue({ handler: "p/h", id: "fixed" });
    expect(j.id).toBe("fixed");
    await expect(pulse.enqueue({ handler: "p/h", id: "fixed" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: 'job id "fixed" already exists' });
  });
});
