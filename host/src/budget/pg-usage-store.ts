/**
 * {@link UsageStore} on PostgreSQL: the usage record every host sharing the database writes,
 * so a budget counts the spend of all of them. Same rows as the SQLite table (usage-store.ts);
 * records are written in batches, one statement per turn of the event loop, as there.
 */
import { migratePg, type PgPool } from "@qntx/ats";
import { hostPgMigrations } from "../schema/components.js";
import { connectOrExplain } from "../schema/pg-pool.js";
import type { UsageRecord, UsageStore } from "./usage-store.js";

// One statement per batch, from arrays (a batch holds each key once: flush merges them, since
// ON CONFLICT cannot touch one row twice in a statement).
const UPSERT = `INSERT INTO usage_records (key, at, plugin, kind, name, provider, cost_usd, prompt_tokens, completion_tokens, total_tokens)
SELECT key, at, plugin, kind, name, provider, cost, pt, ct, tt
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::bigint[], $9::bigint[], $10::bigint[])
  WITH ORDINALITY AS u(key, at, plugin, kind, name, provider, cost, pt, ct, tt, ord)
ORDER BY ord
ON CONFLICT (key) DO UPDATE SET cost_usd = excluded.cost_usd, prompt_tokens = excluded.prompt_tokens,
  completion_tokens = excluded.completion_tokens, total_tokens = excluded.total_tokens`;

interface Row {
  at: number;
  plugin: string;
  kind: "job" | "call";
  name: string;
  provider: string;
  cost_usd: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** {@link UsageStore} on a PostgreSQL database, shared by every host on it. */
export class PgUsageStore implements UsageStore {
  private pending: Array<{ usage: UsageRecord; key: string | null }> = [];
  private written: Promise<void> | undefined;

  private constructor(private readonly pool: PgPool) {}

  /**
   * Migrates `usage_records` (under the migration advisory lock) on `pool`, which stays the
   * caller's to end.
   * @param url the pool's database, for messages (its password is masked)
   * @throws QntxError DATABASE_UNAVAILABLE naming the URL; SCHEMA_TOO_NEW
   */
  static async open(pool: PgPool, url: string): Promise<PgUsageStore> {
    const client = await connectOrExplain(pool, url, "opening the usage record");
    try {
      await migratePg(client, "usage", hostPgMigrations("usage"));
    } finally {
      client.release();
    }
    return new PgUsageStore(pool);
  }

  record(usage: UsageRecord, key?: string): Promise<void> {
    this.pending.push({ usage, key: key ?? null });
    this.written ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
    return this.written;
  }

  async spendSince(since: number): Promise<{ usd: number; count: number }> {
    await this.flush();
    const { rows } = await this.pool.query<{ usd: number; count: number }>(
      "SELECT COALESCE(SUM(cost_usd), 0)::float8 AS usd, COUNT(*) AS count FROM usage_records WHERE at >= $1 AND cost_usd > 0", [since]);
    return { usd: rows[0]!.usd, count: rows[0]!.count };
  }

  async costsSince(since: number): Promise<Array<{ at: number; usd: number }>> {
    await this.flush();
    return (await this.pool.query<{ at: number; usd: number }>("SELECT at, cost_usd AS usd FROM usage_records WHERE at >= $1 AND cost_usd > 0 ORDER BY at", [since])).rows;
  }

  async recent(limit: number): Promise<UsageRecord[]> {
    await this.flush();
    const { rows } = await this.pool.query<Row>("SELECT * FROM usage_records ORDER BY seq DESC LIMIT $1", [limit]);
    return rows.map((r) => ({
      at: r.at, plugin: r.plugin, kind: r.kind, name: r.name, provider: r.provider, costUsd: r.cost_usd,
      promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, totalTokens: r.total_tokens,
    }));
  }

  /** Writes what is pending (before the pool is ended). */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
  }

  /** Writes the pending records in one statement (a failed batch is dropped, and the error thrown). */
  private async flush(): Promise<void> {
    const pending = this.pending;
    this.written = undefined;
    if (pending.length === 0) return;
    this.pending = [];
    // A key recorded twice in one batch: its last cost and tokens, its first time.
    const byKey = new Map<string, { usage: UsageRecord; key: string | null }>();
    const batch: Array<{ usage: UsageRecord; key: string | null }> = [];
    for (const entry of pending) {
      const first = entry.key === null ? undefined : byKey.get(entry.key);
      if (first) first.usage = { ...entry.usage, at: first.usage.at };
      else {
        const copy = { ...entry };
        batch.push(copy);
        if (entry.key !== null) byKey.set(entry.key, copy);
      }
    }
    const col = <T>(pick: (u: UsageRecord) => T): T[] => batch.map((b) => pick(b.usage));
    await this.pool.query(UPSERT, [
      batch.map((b) => b.key), col((u) => u.at), col((u) => u.plugin), col((u) => u.kind), col((u) => u.name), col((u) => u.provider),
      col((u) => u.costUsd), col((u) => u.promptTokens), col((u) => u.completionTokens), col((u) => u.totalTokens),
    ]);
  }
}
