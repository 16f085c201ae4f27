/** Generated ids and the defaults of generateAndCreate, for any store. */
import { expect, it } from "@jest/globals";
import { AtsError, GENERATED_ID_PATTERN, idToken, randomSuffix } from "../../../src/index.js";
import { cmd, filter, manualClock } from "../../helpers.js";
import { storeSuite, type StoreSubject } from "../subject.js";

/** The generated-id and generate-defaults cases. */
export function generateCases(subject: StoreSubject): void {
  storeSuite(subject, "generated ids", ({ open }) => {
    it("have the form AS-<S>-<P>-<C>-<8 random [a-z0-9]> from the first values", async () => {
      const { store } = await open();
      const a = await store.generateAndCreate(cmd({ subjects: ["alice", "bob"], predicates: ["knows", "x"], contexts: ["work"] }), {
        source: "p",
      });
      expect(a.id).toMatch(/^AS-alice-knows-work-[a-z0-9]{8}$/);
      expect(a.id).toMatch(GENERATED_ID_PATTERN);
    });

    it("reduce values to safe tokens of at most 16 characters, `_` when nothing is left", async () => {
      expect(idToken("hello world/ünï:code")).toBe("helloworldncode");
      expect(idToken("a.b_c-D9")).toBe("a.b_c-D9");
      expect(idToken("abcdefghijklmnopqrstuvwxyz")).toBe("abcdefghijklmnop");
      expect(idToken("")).toBe("_");
      expect(idToken("日本語")).toBe("_");
      const { store } = await open();
      const a = await store.generateAndCreate(cmd({ subjects: ["user:42@example.com"], contexts: ["€"] }), { source: "p" });
      expect(a.id).toMatch(/^AS-user42example.co-_-_-[a-z0-9]{8}$/);
    });

    it("are unique and use every character of [a-z0-9]", () => {
      const seen = new Set<string>();
      for (let i = 0; i < 2000; i++) seen.add(randomSuffix());
      expect(seen.size).toBe(2000);
      const chars = new Set([...seen].join(""));
      expect([...chars].sort().join("")).toBe("0123456789abcdefghijklmnopqrstuvwxyz");
    });
  });

  storeSuite(subject, "generateAndCreate defaults", ({ open }) => {
    it("defaults empty predicates and contexts to [\"_\"], and empty actors to the attestation's own id", async () => {
      const { store } = await open();
      const a = await store.generateAndCreate(cmd({ subjects: ["s"] }), { source: "p" });
      expect(a.predicates).toEqual(["_"]);
      expect(a.contexts).toEqual(["_"]);
      // Self-certifying, as QNTX's stores make it: the attestation vouches for itself.
      expect(a.actors).toEqual([a.id]);
      expect(await store.query(filter({ predicates: ["_"], contexts: ["_"] }))).toEqual([a]);
      expect((await store.query(filter({ actors: [a.id] }))).map((x) => x.id)).toEqual([a.id]);
    });

    it("keeps actors a command gives", async () => {
      const { store } = await open();
      expect((await store.generateAndCreate(cmd({ actors: ["loom", "ada"] }), { source: "p" })).actors).toEqual(["loom", "ada"]);
    });

    it("makes each attestation of a batch without actors its own actor", async () => {
      const { store } = await open();
      const [a, b, c] = await store.batchGenerateAndCreate([cmd(), cmd({ actors: ["bob"] }), cmd()], { source: "p" });
      expect([a!.actors, b!.actors, c!.actors]).toEqual([[a!.id], ["bob"], [c!.id]]);
      expect((await store.query(filter({ actors: [c!.id] }))).map((x) => x.id)).toEqual([c!.id]);
    });

    it("takes the source from the command, then the caller's default, then \"plugin\"", async () => {
      const { store } = await open();
      expect((await store.generateAndCreate(cmd({ source: "own" }), { source: "hello" })).source).toBe("own");
      expect((await store.generateAndCreate(cmd(), { source: "hello" })).source).toBe("hello");
      expect((await store.generateAndCreate(cmd(), { source: "" })).source).toBe("plugin");
    });

    it("stores a non-empty source_version in attributes without touching the caller's object", async () => {
      const { store } = await open();
      const attributes = { k: 1, source_version: "old" };
      const a = await store.generateAndCreate(cmd({ attributes, sourceVersion: "1.2.3" }), { source: "p" });
      expect(a.attributes).toEqual({ k: 1, source_version: "1.2.3" });
      expect(attributes.source_version).toBe("old");
      const b = await store.generateAndCreate(cmd({ sourceVersion: "2.0.0" }), { source: "p" });
      expect(b.attributes).toEqual({ source_version: "2.0.0" });
      const c = await store.generateAndCreate(cmd(), { source: "p" });
      expect(c.attributes).toBeUndefined();
      const stored = await store.query(filter());
      expect(stored.map((x) => x.attributes)).toEqual([undefined, { source_version: "2.0.0" }, { k: 1, source_version: "1.2.3" }]);
    });

    it("checks timestamp presence, not truthiness: 0 is kept, absent means now", async () => {
      const clock = manualClock(5_000);
      const { store } = await open({ now: clock.now });
      expect((await store.generateAndCreate(cmd({ timestamp: 0 }), { source: "p" })).timestamp).toBe(0);
      expect((await store.generateAndCreate(cmd({ timestamp: -7 }), { source: "p" })).timestamp).toBe(-7);
      expect((await store.generateAndCreate(cmd({ timestamp: 123 }), { source: "p" })).timestamp).toBe(123);
      const now = await store.generateAndCreate(cmd({ timestamp: undefined }), { source: "p" });
      expect(now.timestamp).toBe(5_000);
      expect(now.createdAt).toBe(5_000);
      expect((await store.query(filter({ timeStart: 0, timeEnd: 0 }))).map((x) => x.timestamp)).toEqual([0]);
    });

    it("stamps created_at with the clock and never goes backwards when the clock does", async () => {
      const clock = manualClock(10_000);
      const { store } = await open({ now: clock.now });
      const a = await store.generateAndCreate(cmd(), { source: "p" });
      clock.set(9_000);
      const b = await store.generateAndCreate(cmd(), { source: "p" });
      expect(a.createdAt).toBe(10_000);
      expect(b.createdAt).toBe(10_000);
      // Same millisecond: write order decides, newest first.
      expect((await store.query(filter())).map((x) => x.id)).toEqual([b.id, a.id]);
    });

    it("returns exactly what a query reads back", async () => {
      const { store } = await open();
      const a = await store.generateAndCreate(
        cmd({ subjects: ["s1", "s2"], predicates: ["p"], contexts: ["c"], actors: ["u"], attributes: { x: [1, "y"] } }),
        { source: "p" },
      );
      expect(await store.query(filter())).toEqual([a]);
    });

    it("rejects a command without subjects, or a missing command, with INVALID_ARGUMENT", async () => {
      const { store } = await open();
      await expect(store.generateAndCreate(cmd({ subjects: [] }), { source: "p" })).rejects.toThrow("attestation needs at least one subject");
      try {
        await store.generateAndCreate(undefined as never, { source: "p" });
        throw new Error("not thrown");
      } catch (err) {
        expect(err).toBeInstanceOf(AtsError);
        expect((err as AtsError).code).toBe("INVALID_ARGUMENT");
        expect((err as AtsError).message).toBe("attestation command is missing");
      }
      await expect(store.generateAndCreate(cmd({ timestamp: 1.5 }), { source: "p" })).rejects.toThrow(/timestamp must be an integer/);
      await expect(store.generateAndCreate(cmd({ attributes: [1] as never }), { source: "p" })).rejects.toThrow(/attributes must be an object/);
      expect(await store.count()).toBe(0);
    });
  });
}
