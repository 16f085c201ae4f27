/** Handler and schedule validation, payload/result codecs, the progress throttle, registerHandler rules. */
import { describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { InitializeRequest, type ExecuteJobRequest, type ExecuteJobResponse, type InitializeResponse } from "@qntx/protocol";
import { createLogger, decodePayload, definePlugin, encodeResult, startPlugin, type AtsClient, type InitContext, type PluginDef } from "../src/index.js";
import { ProgressPusher, type ProgressValue } from "../src/progress.js";
import { startFakeHost } from "./fake-host.js";
import { call, dial } from "./helpers.js";

const meta = { name: "v", version: "1.0.0" };
const quiet = createLogger({ write: () => undefined });

describe("definePlugin handlers and schedules", () => {
  it("exposes handlers in order and schedules with defaults", () => {
    const def = definePlugin({ metadata: meta, handlers: { b: () => 1, a: () => 2 }, schedules: [{ handler: "a", intervalSeconds: 5 }] });
    expect([...def.handlers.keys()]).toEqual(["b", "a"]);
    expect(def.schedules).toEqual([{ handlerName: "a", intervalSeconds: 5, enabledByDefault: true, description: "", atsCode: "" }]);
  });

  it.each([
    [{ handlers: { "a/b": () => 1 } }, /handler name "a\/b" is invalid/],
    [{ handlers: { "": () => 1 } }, /handler name "" is invalid/],
    [{ handlers: { x: "nope" } }, /handlers.x must be a function/],
    [{ handlers: { x: () => 1 }, schedules: [{ handler: "y", intervalSeconds: 1 }] }, /schedules\[0\]: no handler named "y" \(handlers: x\)/],
    [{ handlers: { x: () => 1 }, schedules: [{ handler: "x", intervalSeconds: -1 }] }, /intervalSeconds must be an integer >= 0/],
    [{ handlers: { x: () => 1 }, schedules: [{ handler: "x", intervalSeconds: 1.5 }] }, /intervalSeconds must be an integer >= 0/],
    [{ schedules: { handler: "x" } }, /schedules must be an array/],
  ])("rejects %j", (extra, message) => {
    expect(() => definePlugin({ metadata: meta, ...(extra as Partial<PluginDef>) })).toThrow(message);
  });
});

describe("payload and result codecs", () => {
  it("decodes JSON, else bytes, empty as undefined", () => {
    expect(decodePayload(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(decodePayload(Buffer.from("42"))).toBe(42);
    expect(decodePayload(Buffer.from("null"))).toBeNull();
    expect(Buffer.isBuffer(decodePayload(Buffer.from("hi there")))).toBe(true);
    expect(decodePayload(Buffer.alloc(0))).toBeUndefined();
    expect(decodePayload(new Uint8Array([0x5b, 0x5d]))).toEqual([]);
  });

  it("encodes bytes as is, strings as UTF-8, undefined as empty, the rest as JSON", () => {
    expect([...encodeResult(new Uint8Array([9, 8]))]).toEqual([9, 8]);
    expect(encodeResult("é").toString("utf8")).toBe("é");
    expect(encodeResult(undefined).length).toBe(0);
    expect(encodeResult(null).toString()).toBe("null");
    expect(encodeResult({ a: [1] }).toString()).toBe('{"a":[1]}');
    expect(() => encodeResult(() => 1)).toThrow(/cannot be encoded/);
    expect(() => encodeResult(10n)).toThrow();
  });
});

describe("ProgressPusher", () => {
  it("keeps one push in flight, coalesces, and sends the last value on finish", async () => {
    const sent: ProgressValue[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const pusher = new ProgressPusher(
      async (value) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 30));
        sent.push(value);
        inFlight--;
      },
      quiet,
      100,
    );
    for (let i = 1; i <= 100; i++) pusher.push({ current: i, total: 100 });
    await pusher.finish(1_000);
    expect(maxInFlight).toBe(1);
    expect(sent.map((v) => v.current)).toEqual([1, 100]);
    pusher.push({ current: 101, total: 100 }); // after finish: ignored
    await pusher.finish(1_000); // would send it at once, were it pending
    expect(sent).toHaveLength(2);
  });

  it("survives a failing push and keeps going", async () => {
    const sent: number[] = [];
    let calls = 0;
    const pusher = new ProgressPusher(
      async (value) => {
        if (calls++ === 0) throw new Error("host down");
        sent.push(value.current);
      },
      quiet,
      10,
    );
    pusher.push({ current: 1, total: 2 });
    pusher.push({ current: 2, total: 2 });
    await pusher.finish(1_000);
    expect(sent).toEqual([2]);
  });
});

describe("registerHandler rules", () => {
  async function initWith(def: PluginDef, fields: Partial<InitializeRequest> = {}) {
    const own = await startPlugin(def);
    const c = dial(own.address);
    const result = await call<InitializeRequest, InitializeResponse>(c, c.initialize, InitializeRequest.fromPartial(fields)).catch((e: grpc.ServiceError) => e);
    return { own, c, result };
  }

  it("fails Initialize when a dynamic name shadows a static handler or is invalid", async () => {
    for (const [name, message] of [
      ["fixed", /fixed is already a static handler of plugin v/],
      ["a b", /handler name "a b" is invalid/],
    ] as const) {
      const { own, c, result } = await initWith({ metadata: meta, handlers: { fixed: () => 1 }, initialize: (ctx) => ctx.registerHandler(name, () => 2) });
      try {
        expect((result as grpc.ServiceError).code).toBe(grpc.status.INTERNAL);
        expect((result as grpc.ServiceError).details).toMatch(message);
      } finally {
        c.close();
        await own.close({ force: true });
      }
    }
  });

  it("keeps the last registration of a name and refuses registrations after initialize", async () => {
    let saved: InitContext | undefined;
    const { own, c, result } = await initWith({
      metadata: meta,
      initialize(ctx) {
        saved = ctx;
        ctx.registerHandler("dyn", () => "first");
        ctx.registerHandler("dyn", () => "second");
      },
    });
    try {
      expect((result as InitializeResponse).handlerNames).toEqual(["dyn"]);
      const res = await call<ExecuteJobRequest, ExecuteJobResponse>(c, c.executeJob, { jobId: "1", handlerName: "dyn", payload: Buffer.alloc(0) });
      expect(Buffer.from(res.result).toString()).toBe("second");
      expect(() => saved!.registerHandler("late", () => 1)).toThrow(/after initialize finished/);
    } finally {
      c.close();
      await own.close({ force: true });
    }
  });

  it("closes the host clients when the plugin stops", async () => {
    const fake = await startFakeHost({ token: "t" });
    let ats: AtsClient | undefined;
    const { own, c } = await initWith(
      { metadata: meta, initialize: (ctx) => void (ats = ctx.ats) },
      { atsStoreEndpoint: fake.address, queueEndpoint: fake.address, authToken: "t" },
    );
    try {
      expect(await ats!.query({})).toEqual([]);
      c.close();
      await own.close();
      await expect(ats!.query({})).rejects.toMatchObject({ code: "HOST_CALL_FAILED" });
    } finally {
      await own.close({ force: true });
      await fake.close();
    }
  });
});
