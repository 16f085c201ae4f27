import { afterEach, describe, expect, it, jest } from "@jest/globals";
import type { Attestation } from "@qntx/protocol";
import { att, cmd, filter, ids, tempStore, type TempStore } from "./helpers.js";

let t: TempStore;
afterEach(() => t.cleanup());

describe("watch", () => {
  it("delivers new matching attestations from create, generate and batch, in write order", () => {
    t = tempStore();
    const got: Attestation[] = [];
    t.store.watch(filter({ subjects: ["alice", "bob"], predicates: ["knows"] }), (a) => got.push(a));
    t.store.create(att({ id: "c1", subjects: ["alice"], predicates: ["knows"] }));
    t.store.create(att({ id: "c2", subjects: ["alice"], predicates: ["likes"] }));
    const g1 = t.store.generateAndCreate(cmd({ subjects: ["bob"], predicates: ["knows"] }), { source: "p" });
    t.store.generateAndCreate(cmd({ subjects: ["carol"], predicates: ["knows"] }), { source: "p" });
    const batch = t.store.batchGenerateAndCreate(
      [cmd({ subjects: ["alice"], predicates: ["knows"] }), cmd({ subjects: ["x"] }), cmd({ subjects: ["bob", "y"], predicates: ["z", "knows"] })],
      { source: "p" },
    );
    expect(ids(got)).toEqual(["c1", g1.id, batch[0]!.id, batch[2]!.id]);
    expect(got[1]).toEqual(g1);
    // What the listener saw is what is stored.
    expect(got[0]).toEqual(t.store.query(filter({ subjects: ["alice"], predicates: ["knows"] })).find((a) => a.id === "c1"));
  });

  it("does not deliver existing rows, and respects time bounds", () => {
    t = tempStore();
    t.store.create(att({ id: "old" }));
    const got: string[] = [];
    t.store.watch(filter({ timeStart: 10, timeEnd: 20, limit: 1 }), (a) => got.push(a.id));
    for (const ts of [9, 10, 15, 20, 21]) t.store.create(att({ id: `t${ts}`, timestamp: ts }));
    expect(got).toEqual(["t10", "t15", "t20"]);
  });

  it("stops after unsubscribe, which is idempotent, also mid-batch", () => {
    t = tempStore();
    const got: string[] = [];
    const stop = t.store.watch(filter(), (a) => {
      got.push(a.subjects[0]!);
      if (got.length === 2) stop();
    });
    t.store.batchGenerateAndCreate([cmd({ subjects: ["1"] }), cmd({ subjects: ["2"] }), cmd({ subjects: ["3"] })], { source: "p" });
    t.store.generateAndCreate(cmd({ subjects: ["4"] }), { source: "p" });
    stop();
    expect(got).toEqual(["1", "2"]);
  });

  it("delivers nothing for a batch that rolled back", () => {
    t = tempStore();
    const listener = jest.fn();
    t.store.watch(filter(), listener);
    expect(() => t.store.batchGenerateAndCreate([cmd(), cmd({ subjects: [] })], { source: "p" })).toThrow();
    t.db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON attestations WHEN NEW.subjects LIKE '%bad%'
               BEGIN SELECT RAISE(ABORT, 'no'); END`);
    expect(() => t.store.batchGenerateAndCreate([cmd(), cmd({ subjects: ["bad"] })], { source: "p" })).toThrow();
    expect(() => t.store.create(att({ id: "x", subjects: ["bad"] }))).toThrow();
    expect(listener).not.toHaveBeenCalled();
  });

  it("isolates a throwing listener: the write stands and other listeners still run", () => {
    const errors: [unknown, string][] = [];
    t = tempStore({ onWatchError: (err, a) => errors.push([err, a.id]) });
    const other = jest.fn();
    t.store.watch(filter(), () => {
      throw new Error("listener bug");
    });
    t.store.watch(filter(), other);
    const a = t.store.generateAndCreate(cmd(), { source: "p" });
    expect(t.store.exists(a.id)).toBe(true);
    expect(other).toHaveBeenCalledTimes(1);
    expect(errors).toHaveLength(1);
    expect((errors[0]![0] as Error).message).toBe("listener bug");
    expect(errors[0]![1]).toBe(a.id);
  });

  it("lets a listener write to the store (it runs after the commit)", () => {
    t = tempStore();
    t.store.watch(filter({ predicates: ["ping"] }), (a) => {
      t.store.generateAndCreate(cmd({ subjects: a.subjects, predicates: ["pong"] }), { source: "echo" });
    });
    t.store.generateAndCreate(cmd({ subjects: ["n"], predicates: ["ping"] }), { source: "p" });
    expect(t.store.query(filter({ predicates: ["pong"] })).map((a) => a.source)).toEqual(["echo"]);
  });

  it("drops watches on close", () => {
    t = tempStore();
    const listener = jest.fn();
    t.store.watch(filter(), listener);
    t.store.close();
    expect(() => t.store.generateAndCreate(cmd(), { source: "p" })).toThrow("attestation store is closed");
    expect(listener).not.toHaveBeenCalled();
  });
});
