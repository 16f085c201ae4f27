/**
 * watch, for any store: delivery after commit, before the write's promise settles, once per
 * watch, in write order. (Watches across store instances are PostgreSQL's: test/pg.)
 */
import { expect, it, jest } from "@jest/globals";
import type { Attestation } from "@qntx/protocol";
import { att, cmd, filter, ids } from "../../helpers.js";
import { storeSuite, type StoreSubject } from "../subject.js";

/** The watch cases. */
export function watchCases(subject: StoreSubject): void {
  storeSuite(subject, "watch", ({ open }) => {
    it("delivers new matching attestations from create, generate and batch, in write order", async () => {
      const { store } = await open();
      const got: Attestation[] = [];
      store.watch(filter({ subjects: ["alice", "bob"], predicates: ["knows"] }), (a) => got.push(a));
      await store.create(att({ id: "c1", subjects: ["alice"], predicates: ["knows"] }));
      await store.create(att({ id: "c2", subjects: ["alice"], predicates: ["likes"] }));
      const g1 = await store.generateAndCreate(cmd({ subjects: ["bob"], predicates: ["knows"] }), { source: "p" });
      await store.generateAndCreate(cmd({ subjects: ["carol"], predicates: ["knows"] }), { source: "p" });
      const batch = await store.batchGenerateAndCreate(
        [cmd({ subjects: ["alice"], predicates: ["knows"] }), cmd({ subjects: ["x"] }), cmd({ subjects: ["bob", "y"], predicates: ["z", "knows"] })],
        { source: "p" },
      );
      expect(ids(got)).toEqual(["c1", g1.id, batch[0]!.id, batch[2]!.id]);
      expect(got[1]).toEqual(g1);
      // What the listener saw is what is stored.
      expect(got[0]).toEqual((await store.query(filter({ subjects: ["alice"], predicates: ["knows"] }))).find((a) => a.id === "c1"));
    });

    it("does not deliver existing rows, and respects time bounds", async () => {
      const { store } = await open();
      await store.create(att({ id: "old" }));
      const got: string[] = [];
      store.watch(filter({ timeStart: 10, timeEnd: 20, limit: 1 }), (a) => got.push(a.id));
      for (const ts of [9, 10, 15, 20, 21]) await store.create(att({ id: `t${ts}`, timestamp: ts }));
      expect(got).toEqual(["t10", "t15", "t20"]);
    });

    it("stops after unsubscribe, which is idempotent, also mid-batch", async () => {
      const { store } = await open();
      const got: string[] = [];
      const stop = store.watch(filter(), (a) => {
        got.push(a.subjects[0]!);
        if (got.length === 2) stop();
      });
      await store.batchGenerateAndCreate([cmd({ subjects: ["1"] }), cmd({ subjects: ["2"] }), cmd({ subjects: ["3"] })], { source: "p" });
      await store.generateAndCreate(cmd({ subjects: ["4"] }), { source: "p" });
      stop();
      expect(got).toEqual(["1", "2"]);
    });

    it("delivers nothing for a batch that rolled back", async () => {
      const opened = await open();
      const { store } = opened;
      const listener = jest.fn();
      store.watch(filter(), listener);
      await expect(store.batchGenerateAndCreate([cmd(), cmd({ subjects: [] })], { source: "p" })).rejects.toThrow();
      await opened.refuseSubjectsContaining("bad", "no");
      await expect(store.batchGenerateAndCreate([cmd(), cmd({ subjects: ["bad"] })], { source: "p" })).rejects.toThrow();
      // (Its error is better-sqlite3's own, from outside jest's realm: toThrow would not see it.)
      await expect(store.create(att({ id: "x", subjects: ["bad"] }))).rejects.toHaveProperty("message", "no");
      expect(listener).not.toHaveBeenCalled();
      // A write after them is delivered: had the refused ones been, they would have come first.
      const after = await store.generateAndCreate(cmd({ subjects: ["after"] }), { source: "p" });
      expect(listener.mock.calls.map(([a]) => (a as Attestation).id)).toEqual([after.id]);
    });

    it("isolates a throwing listener: the write stands and other listeners still run", async () => {
      const errors: [unknown, string][] = [];
      const { store } = await open({ onWatchError: (err, a) => errors.push([err, a.id]) });
      const other = jest.fn();
      store.watch(filter(), () => {
        throw new Error("listener bug");
      });
      store.watch(filter(), other);
      const a = await store.generateAndCreate(cmd(), { source: "p" });
      expect(await store.exists(a.id)).toBe(true);
      expect(other).toHaveBeenCalledTimes(1);
      expect(errors).toHaveLength(1);
      expect((errors[0]![0] as Error).message).toBe("listener bug");
      expect(errors[0]![1]).toBe(a.id);
    });

    it("lets a listener write to the store (it runs after the commit)", async () => {
      const { store } = await open();
      const echoes: Promise<unknown>[] = [];
      store.watch(filter({ predicates: ["ping"] }), (a) => {
        echoes.push(store.generateAndCreate(cmd({ subjects: a.subjects, predicates: ["pong"] }), { source: "echo" }));
      });
      await store.generateAndCreate(cmd({ subjects: ["n"], predicates: ["ping"] }), { source: "p" });
      await Promise.all(echoes);
      expect((await store.query(filter({ predicates: ["pong"] }))).map((a) => a.source)).toEqual(["echo"]);
    });

    it("drops watches on close", async () => {
      const { store } = await open();
      const listener = jest.fn();
      store.watch(filter(), listener);
      await store.close();
      await expect(store.generateAndCreate(cmd(), { source: "p" })).rejects.toThrow("attestation store is closed");
      expect(() => store.watch(filter(), listener)).toThrow("attestation store is closed");
      expect(listener).not.toHaveBeenCalled();
    });
  });
}
