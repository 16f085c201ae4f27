/**
 * Several hosts on one PostgreSQL database: what one writes is in the others' queries at once
 * and reaches their watches (NOTIFY, then a poll), once per watch — also from another process,
 * and also when a transaction that began earlier commits later.
 */
import { expect, it } from "@jest/globals";
import pg from "pg";
import { cmd, filter } from "../helpers.js";
import { describePg, lastJson, runNode, useAtsDatabase, waitFor } from "./support.js";

describePg("several hosts on one database", () => {
  const file = useAtsDatabase();
  const host = () => file.open();

  it("answers a query on one host with what another wrote, at once", async () => {
    const [a, b] = [await host(), await host()];
    const made = await a.batchGenerateAndCreate([cmd({ subjects: ["q1"] }), cmd({ subjects: ["q1"], predicates: ["x"] })], { source: "a" });
    expect(await b.query(filter({ subjects: ["q1"] }))).toEqual([...made].reverse());
    expect(await b.exists(made[0]!.id)).toBe(true);
  });

  it("delivers each host's writes to the other's watches once, in write order, and its own at commit", async () => {
    const [a, b] = [await host(), await host()];
    const gotA: string[] = [];
    const gotB: string[] = [];
    a.watch(filter({ subjects: ["w1"] }), (x) => gotA.push(x.id));
    b.watch(filter({ subjects: ["w1", "end"] }), (x) => gotB.push(x.id));
    const batch = await a.batchGenerateAndCreate([cmd({ subjects: ["w1"] }), cmd({ subjects: ["other"] }), cmd({ subjects: ["w1"], predicates: ["2"] })], { source: "a" });
    // Its own writes reach a's watch before the write's promise settles.
    expect(gotA).toEqual([batch[0]!.id, batch[2]!.id]);
    const fromB = await b.generateAndCreate(cmd({ subjects: ["w1"] }), { source: "b" });
    // Its own write is there at once (a's may have arrived already, or may still come).
    expect(gotB).toContain(fromB.id);
    const fromA = await a.generateAndCreate(cmd({ subjects: ["w1"] }), { source: "a" });
    // A last write from a: once b has it, b has had everything a wrote before it.
    const end = await a.generateAndCreate(cmd({ subjects: ["end"] }), { source: "a" });
    await waitFor("b's watch to get a's last write", () => gotB.includes(end.id));
    await waitFor("a's watch to get b's write", () => gotA.includes(fromB.id));
    // a's writes in a's order (b's own may fall anywhere among them), each once.
    expect(gotB.filter((id) => id !== fromB.id)).toEqual([batch[0]!.id, batch[2]!.id, fromA.id, end.id]);
    expect(gotB.filter((id) => id === fromB.id)).toHaveLength(1);
    expect([...gotA].sort()).toEqual([batch[0]!.id, batch[2]!.id, fromA.id, fromB.id].sort());
  });

  it("brings another process's writes to a watch and a query", async () => {
    const a = await host();
    const got: string[] = [];
    a.watch(filter({ subjects: ["from-child"] }), (x) => got.push(x.id));
    const { ids } = lastJson<{ ids: string[] }>(await runNode("pg-writer.mjs", [file.db.url, "5"]));
    await waitFor("the child's 5 attestations at the watch", () => got.length >= 5);
    expect(got).toEqual(ids);
    expect((await a.query(filter({ subjects: ["from-child"] }))).map((x) => x.id)).toEqual([...ids].reverse());
  });

  it("does not skip a row whose transaction began before another's but committed after it", async () => {
    const [a, b] = [await host(), await host()];
    const got: string[] = [];
    a.watch(filter({ subjects: ["late"] }), (x) => got.push(x.id));
    // A writer holding its transaction open: its row has the lower seq and the older
    // transaction id, and commits last. A position kept by seq would pass it and lose it.
    const slow = new pg.Client({ connectionString: file.db.url });
    await slow.connect();
    try {
      await slow.query("BEGIN");
      await slow.query(
        `INSERT INTO attestations (id, timestamp, created_at, source, signer_did, subjects, predicates, contexts, actors)
         VALUES ('slow-row', 1, 1, 'raw', '', '["late"]', '["p"]', '["c"]', '[]')`,
      );
      const quick = await b.generateAndCreate(cmd({ subjects: ["late"] }), { source: "b" });
      await slow.query("COMMIT");
      await waitFor("both rows at the watch", () => got.length >= 2);
      // Delivered by transaction age: the older transaction's row first, each once.
      expect(got).toEqual(["slow-row", quick.id]);
    } finally {
      await slow.end();
    }
  });
});
