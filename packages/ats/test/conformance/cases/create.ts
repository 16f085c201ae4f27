/** create (client-chosen id) and round trips of every field, for any store. */
import { expect, it } from "@jest/globals";
import { AtsError } from "../../../src/index.js";
import { att, filter, manualClock } from "../../helpers.js";
import { storeSuite, type StoreSubject } from "../subject.js";

async function codeOf(work: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await work();
  } catch (err) {
    return err instanceof AtsError ? err.code : `not an AtsError: ${String(err)}`;
  }
  return undefined;
}

/** The create and round-trip cases. */
export function createCases(subject: StoreSubject): void {
  storeSuite(subject, "create (client-chosen id)", ({ open }) => {
    it("stores the attestation as given and reports it with exists", async () => {
      const { store } = await open();
      expect(await store.exists("A1")).toBe(false);
      const a = att({ id: "A1", subjects: ["x"], predicates: [], contexts: ["c"], timestamp: 42, createdAt: 777, source: "" });
      await store.create(a);
      expect(await store.exists("A1")).toBe(true);
      expect(await store.exists("a1")).toBe(false);
      expect(await store.query(filter())).toEqual([a]);
    });

    it("refuses a duplicate id with ALREADY_EXISTS and keeps the first", async () => {
      const { store } = await open();
      await store.create(att({ id: "dup", source: "first" }));
      await expect(store.create(att({ id: "dup", source: "second" }))).rejects.toThrow("attestation dup already exists");
      expect(await codeOf(() => store.create(att({ id: "dup" })))).toBe("ALREADY_EXISTS");
      expect(await store.count()).toBe(1);
      expect((await store.query(filter()))[0]!.source).toBe("first");
      // No orphan terms were left by the failed insert: the subject matches exactly one row.
      expect(await store.query(filter({ subjects: ["s"] }))).toHaveLength(1);
    });

    it("stamps created_at 0 with now and keeps a client's non-zero created_at", async () => {
      const clock = manualClock(9_999);
      const { store } = await open({ now: clock.now });
      await store.create(att({ id: "a", createdAt: 0 }));
      await store.create(att({ id: "b", createdAt: 5 }));
      const byId = Object.fromEntries((await store.query(filter())).map((a) => [a.id, a.createdAt]));
      expect(byId).toEqual({ a: 9_999, b: 5 });
    });

    it("rejects a missing id, missing subjects or a missing attestation with INVALID_ARGUMENT", async () => {
      const { store } = await open();
      expect(await codeOf(() => store.create(att({ id: "" })))).toBe("INVALID_ARGUMENT");
      await expect(store.create(att({ id: "x", subjects: [] }))).rejects.toThrow("attestation needs at least one subject");
      expect(await codeOf(() => store.create(undefined as never))).toBe("INVALID_ARGUMENT");
      expect(await store.count()).toBe(0);
    });
  });

  storeSuite(subject, "round trips", ({ open }) => {
    it("keeps a JSON object of attributes exactly", async () => {
      const { store } = await open();
      const attributes = {
        nested: { deeper: { list: [1, [2, [3]], { k: "v" }], empty: {}, none: [] } },
        numbers: [0, -1, 3.14159, -2.5e-8, 1e21, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
        booleans: [true, false],
        nothing: null,
        unicode: "héllo wörld ✓ 日本語 🚀 \u0000 \n\t\"quoted\"",
        "key with spaces & ünïcode 🔑": "v",
        emptyString: "",
      };
      const g = await store.generateAndCreate({ subjects: ["s"], predicates: [], contexts: [], actors: [], attributes, source: "", sourceVersion: "" }, { source: "p" });
      await store.create(att({ id: "c", attributes }));
      for (const a of await store.query(filter())) expect(a.attributes).toEqual(attributes);
      expect(g.attributes).toEqual(attributes);
    });

    it("keeps unset attributes unset and an empty object empty", async () => {
      const { store } = await open();
      await store.create(att({ id: "unset", attributes: undefined, createdAt: 2 }));
      await store.create(att({ id: "empty", attributes: {}, createdAt: 1 }));
      expect((await store.query(filter())).map((a) => a.attributes)).toEqual([undefined, {}]);
    });

    it("keeps signature bytes and signer_did", async () => {
      const { store } = await open();
      const signature = Buffer.from([0, 1, 2, 254, 255, 0, 128]);
      await store.create(att({ id: "signed", signature, signerDid: "did:key:z6Mk" }));
      await store.create(att({ id: "unsigned" }));
      const [signed] = (await store.query(filter({ subjects: ["s"] }))).filter((a) => a.id === "signed");
      expect(Buffer.isBuffer(signed!.signature)).toBe(true);
      expect([...signed!.signature]).toEqual([0, 1, 2, 254, 255, 0, 128]);
      expect(signed!.signerDid).toBe("did:key:z6Mk");
      const [unsigned] = (await store.query(filter())).filter((a) => a.id === "unsigned");
      expect(unsigned!.signature).toEqual(Buffer.alloc(0));
      expect(unsigned!.signerDid).toBe("");
    });

    it("keeps the order and repetitions of list values, and unicode in them", async () => {
      const { store } = await open();
      const a = att({ id: "lists", subjects: ["ß", "a", "ß"], predicates: ["p 1", "日本"], contexts: [""], actors: ["u", "v"] });
      await store.create(a);
      const [back] = await store.query(filter({ subjects: ["ß"], predicates: ["日本"], contexts: [""], actors: ["v"] }));
      expect(back).toEqual({ ...a, createdAt: expect.any(Number) });
    });
  });
}
