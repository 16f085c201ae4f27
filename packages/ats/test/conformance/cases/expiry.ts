/**
 * Expiry, for any store: an attestation whose `expires_at` attribute (unix ms) has passed is
 * not returned by query, iterate, exists or count, not delivered to watches, and is deleted
 * with its term rows by sweepExpired.
 */
import { expect, it } from "@jest/globals";
import type { Attestation } from "@qntx/protocol";
import { AtsError, EXPIRES_AT_ATTRIBUTE } from "../../../src/index.js";
import { att, cmd, filter, ids, manualClock } from "../../helpers.js";
import { drain } from "./iterate.js";
import { storeSuite, type StoreSubject } from "../subject.js";

const expiring = (at: number, more: Record<string, unknown> = {}) => ({ attributes: { [EXPIRES_AT_ATTRIBUTE]: at, ...more } });

/** The expiry cases. */
export function expiryCases(subject: StoreSubject): void {
  storeSuite(subject, "expiry", ({ open }) => {
    it("leaves expired attestations out of query, iterate, exists and count, from the moment they expire", async () => {
      const clock = manualClock(10_000);
      const { store } = await open({ now: clock.now });
      const soon = await store.generateAndCreate(cmd({ subjects: ["a"], ...expiring(10_500) }), { source: "p" });
      const gone = await store.generateAndCreate(cmd({ subjects: ["a"], ...expiring(10_000) }), { source: "p" });
      const kept = await store.generateAndCreate(cmd({ subjects: ["a"] }), { source: "p" });
      expect(soon.attributes).toEqual({ expires_at: 10_500 });
      expect(ids(await store.query(filter()))).toEqual([kept.id, soon.id]);
      expect(await store.exists(gone.id)).toBe(false);
      expect(await store.exists(soon.id)).toBe(true);
      expect(await store.count()).toBe(2);
      clock.set(10_499);
      expect(await store.count()).toBe(2);
      clock.set(10_500);
      expect(ids(await store.query(filter({ subjects: ["a"] })))).toEqual([kept.id]);
      expect(ids(await drain(store.iterate(filter())))).toEqual([kept.id]);
      expect(await store.exists(soon.id)).toBe(false);
      expect(await store.count()).toBe(1);
    });

    it("counts only live attestations towards a limit, whichever plan runs", async () => {
      const clock = manualClock(5_000);
      const opened = await open({ now: clock.now });
      const { store } = opened;
      // Newest first: each live one sits behind an expired one.
      const made: Attestation[] = [];
      for (let i = 0; i < 6; i++) {
        made.push(await store.generateAndCreate(cmd({ subjects: ["s", `x${i}`], predicates: ["p"], timestamp: 100 + i, ...(i % 2 ? expiring(1) : {}) }), { source: "p" }));
        clock.tick();
      }
      const live = ids(made.filter((_, i) => i % 2 === 0)).reverse();
      const filters = [
        filter({ limit: 2 }),
        filter({ subjects: ["s"], limit: 2 }),
        filter({ subjects: ["s", "nobody"], limit: 2 }),
        filter({ subjects: ["s"], predicates: ["p"], limit: 2 }),
        filter({ timeStart: 100, timeEnd: 200, limit: 2 }),
      ];
      for (const f of filters) expect(ids(await store.query(f))).toEqual(live.slice(0, 2));
      expect(new Set(await Promise.all(filters.map(async (f) => (await opened.explain(f)).strategy)))).toEqual(new Set(["scan", "terms", "time"]));
    });

    it("sweeps expired attestations and their terms, and nothing else", async () => {
      const clock = manualClock(1_000);
      const opened = await open({ now: clock.now });
      const { store } = opened;
      await store.batchGenerateAndCreate(
        [cmd({ subjects: ["a", "b"], ...expiring(1_500) }), cmd({ subjects: ["c"], ...expiring(3_000) }), cmd({ subjects: ["d"] })],
        { source: "p" },
      );
      const termsBefore = await opened.termRows();
      expect(await store.sweepExpired()).toBe(0);
      clock.set(2_000);
      expect(await store.sweepExpired()).toBe(1);
      // a and b, and the defaults "_" of predicates and contexts, and its own id as actor.
      expect(await opened.termRows()).toBe(termsBefore - 5);
      expect(await store.sweepExpired()).toBe(0);
      clock.set(3_000);
      expect(await store.sweepExpired()).toBe(1);
      expect((await store.query(filter())).map((a) => a.subjects)).toEqual([["d"]]);
      expect(await opened.termRows()).toBe(4);
    });

    it("sweeps more than one chunk of expired attestations in one call", async () => {
      const clock = manualClock(1_000);
      const { store } = await open({ now: clock.now });
      await store.batchGenerateAndCreate(Array.from({ length: 2_500 }, (_, i) => cmd({ subjects: [`s${i}`], ...expiring(1_100) })), { source: "p" });
      await store.generateAndCreate(cmd({ subjects: ["live"] }), { source: "p" });
      clock.set(1_100);
      expect(await store.sweepExpired()).toBe(2_500);
      expect(await store.count()).toBe(1);
    });

    it("keeps an expired attestation's id taken until it is swept", async () => {
      const clock = manualClock(1_000);
      const { store } = await open({ now: clock.now });
      await store.create(att({ id: "ttl", ...expiring(1_200) }));
      clock.set(1_200);
      expect(await store.exists("ttl")).toBe(false);
      await expect(store.create(att({ id: "ttl" }))).rejects.toThrow("attestation ttl already exists");
      await store.sweepExpired();
      await store.create(att({ id: "ttl" }));
      expect(await store.exists("ttl")).toBe(true);
    });

    it("does not deliver an attestation to watches once it has expired", async () => {
      const clock = manualClock(1_000);
      const { store } = await open({ now: clock.now });
      const got: string[] = [];
      store.watch(filter(), (a) => got.push(a.subjects[0]!));
      await store.batchGenerateAndCreate([cmd({ subjects: ["past"], ...expiring(999) }), cmd({ subjects: ["future"], ...expiring(2_000) })], { source: "p" });
      expect(got).toEqual(["future"]);
    });

    it("refuses an expires_at that is not a number of milliseconds, and takes null as never", async () => {
      const { store } = await open();
      for (const bad of ["2030-01-01T00:00:00Z", true, { at: 1 }, [1]]) {
        const error = await store.generateAndCreate(cmd({ attributes: { expires_at: bad } }), { source: "p" }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AtsError);
        expect((error as AtsError).code).toBe("INVALID_ARGUMENT");
        expect((error as AtsError).message).toMatch(/^attributes\.expires_at must be unix milliseconds/);
      }
      await expect(store.create(att({ id: "x", attributes: { expires_at: "soon" } }))).rejects.toThrow(/expires_at must be unix milliseconds/);
      await expect(store.batchGenerateAndCreate([cmd(), cmd({ attributes: { expires_at: "soon" } })], { source: "p" })).rejects.toThrow(
        /^batch command 1: attributes\.expires_at must be unix milliseconds/,
      );
      const never = await store.generateAndCreate(cmd({ attributes: { expires_at: null } }), { source: "p" });
      expect(await store.exists(never.id)).toBe(true);
      expect(await store.count()).toBe(1);
    });
  });
}
