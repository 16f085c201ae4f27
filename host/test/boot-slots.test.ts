/** BootSlots: how many spawned plugins boot at once (the start of twenty plugins together). */
import { describe, expect, it } from "@jest/globals";
import { BootSlots, DEFAULT_BOOT_SLOTS } from "../src/plugin/boot-slots.js";

/** A boot that finishes when the test says so. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { done, open, fail };
}

describe("BootSlots", () => {
  it("runs at most `size` boots at once, the rest in arrival order as slots free", async () => {
    const slots = new BootSlots(2);
    const gates = Array.from({ length: 5 }, () => gate());
    const started: number[] = [];
    const runs = gates.map((g, i) => slots.run(async () => {
      started.push(i);
      await g.done;
      return i;
    }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    gates[1]!.open();
    await runs[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open();
    gates[2]!.open();
    await Promise.all([runs[0], runs[2]]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3]!.open();
    gates[4]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
  });

  it("a boot that fails frees its slot and its error reaches the caller", async () => {
    const slots = new BootSlots(1);
    const first = gate();
    const failing = slots.run(() => first.done);
    const next = slots.run(async () => "next ran");
    first.fail(new Error("exited before announcing its port"));
    await expect(failing).rejects.toThrow("exited before announcing its port");
    await expect(next).resolves.toBe("next ran");
  });

  it("refuses a size that is not a positive integer; the default scales with the CPUs", () => {
    expect(() => new BootSlots(0)).toThrow(RangeError);
    expect(() => new BootSlots(1.5)).toThrow(RangeError);
    expect(DEFAULT_BOOT_SLOTS).toBeGreaterThanOrEqual(2);
  });
});
