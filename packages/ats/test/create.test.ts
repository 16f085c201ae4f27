import { afterEach, describe, expect, it } from "@jest/globals";
import { AtsError } from "../src/index.js";
import { att, filter, manualClock, tempStore, type TempStore } from "./helpers.js";

let t: TempStore | undefined;
afterEach(() => t?.cleanup());

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AtsError ? err.code : `not an AtsError: ${String(err)}`;
  }
  return undefined;
}

describe("create (client-chosen id)", () => {
  it("stores the attestation as given and reports it with exists", () => {
    t = tempStore();
    expect(t.store.exists("A1")).toBe(false);
    const a = att({ id: "A1", subjects: ["x"], predicates: [], contexts: ["c"], timestamp: 42, createdAt: 777, source: "" });
    t.store.create(a);
    expect(t.store.exists("A1")).toBe(true);
    expect(t.store.exists("a1")).toBe(false);
    expect(t.store.query(filter())).toEqual([a]);
  });

  it("refuses a duplicate id with ALREADY_EXISTS and keeps the first", () => {
    t = tempStore();
    const store = t.store;
    store.create(att({ id: "dup", source: "first" }));
    expect(() => store.create(att({ id: "dup", source: "second" }))).toThrow("attestation dup already exists");
    expect(codeOf(() => store.create(att({ id: "dup" })))).toBe("ALREADY_EXISTS");
    expect(store.count()).toBe(1);
    expect(store.query(filter())[0]!.source).toBe("first");
    // No orphan terms were left by the failed insert: the subject matches exactly one row.
    expect(store.query(filter({ subjects: ["s"] }))).toHaveLength(1);
  });

  it("stamps created_at 0 with now and keeps a client's non-zero created_at", () => {
    const clock = manualClock(9_999);
    t = tempStore({ now: clock.now });
    t.store.create(att({ id: "a", createdAt: 0 }));
    t.store.create(att({ id: "b", createdAt: 5 }));
    const byId = Object.fromEntries(t.store.query(filter()).map((a) => [a.id, a.createdAt]));
    expect(byId).toEqual({ a: 9_999, b: 5 });
  });

  it("rejects a missing id, missing subjects or a missing attestation with INVALID_ARGUMENT", () => {
    t = tempStore();
    const store = t.store;
    expect(codeOf(() => store.create(att({ id: "" })))).toBe("INVALID_ARGUMENT");
    expect(() => store.create(att({ id: "x", subjects: [] }))).toThrow("attestation needs at least one subject");
    expect(codeOf(() => store.create(undefined as never))).toBe("INVALID_ARGUMENT");
    expect(store.count()).toBe(0);
  });
});

describe("round trips", () => {
  it("keeps a JSON object of attributes exactly", () => {
    t = tempStore();
    const attributes = {
      nested: { deeper: { list: [1, [2, [3]], { k: "v" }], empty: {}, none: [] } },
      numbers: [0, -1, 3.14159, -2.5e-8, 1e21, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
      booleans: [true, false],
      nothing: null,
      unicode: "héllo wörld ✓ 日本語 🚀 \u0000 \n\t\"quoted\"",
      "key with spaces & ünïcode 🔑": "v",
      emptyString: "",
    };
    const g = t.store.generateAndCreate({ subjects: ["s"], predicates: [], contexts: [], actors: [], attributes, source: "", sourceVersion: "" }, { source: "p" });
    t.store.create(att({ id: "c", attributes }));
    for (const a of t.store.query(filter())) expect(a.attributes).toEqual(attributes);
    expect(g.attributes).toEqual(attributes);
  });

  it("keeps unset attributes unset and an empty object empty", () => {
    t = tempStore();
    t.store.create(att({ id: "unset", attributes: undefined, createdAt: 2 }));
    t.store.create(att({ id: "empty", attributes: {}, createdAt: 1 }));
    expect(t.store.query(filter()).map((a) => a.attributes)).toEqual([undefined, {}]);
  });

  it("keeps signature bytes and signer_did", () => {
    t = tempStore();
    const signature = Buffer.from([0, 1, 2, 254, 255, 0, 128]);
    t.store.create(att({ id: "signed", signature, signerDid: "did:key:z6Mk" }));
    t.store.create(att({ id: "unsigned" }));
    const [signed] = t.store.query(filter({ subjects: ["s"] })).filter((a) => a.id === "signed");
    expect(Buffer.isBuffer(signed!.signature)).toBe(true);
    expect([...signed!.signature]).toEqual([0, 1, 2, 254, 255, 0, 128]);
    expect(signed!.signerDid).toBe("did:key:z6Mk");
    const [unsigned] = t.store.query(filter()).filter((a) => a.id === "unsigned");
    expect(unsigned!.signature).toEqual(Buffer.alloc(0));
    expect(unsigned!.signerDid).toBe("");
  });

  it("keeps the order and repetitions of list values, and unicode in them", () => {
    t = tempStore();
    const a = att({ id: "lists", subjects: ["ß", "a", "ß"], predicates: ["p 1", "日本"], contexts: [""], actors: ["u", "v"] });
    t.store.create(a);
    const [back] = t.store.query(filter({ subjects: ["ß"], predicates: ["日本"], contexts: [""], actors: ["v"] }));
    expect(back).toEqual({ ...a, createdAt: expect.any(Number) });
  });
});
