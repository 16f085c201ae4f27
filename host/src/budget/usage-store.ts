/**
 * The usage record: every cost the host knows of, one row each — a job's `cost_actual` (one
 * row per job, updated as the job reports more) and each routed provider call's reported cost
 * and token usage — with who spent it (the plugin), on what (handler, or service/method), and
 * when. Budgets (budget.ts) sum it over sliding windows. SQLite in `qntx.db` (namespace
 * "usage"), so the record survives restarts; any host sharing the database shares the record.
 */
import type Database from "better-sqlite3";
import { migrate } from "@qntx/pulse";

/** One spend. Times are unix ms. */
export interface UsageRecord {
  /** When it was spent (a job: when its cost was first reported). */
  readonly at: number;
  /** The plugin that spent it: the job's handler's plugin, or the routed call's caller. */
  readonly plugin: string;
  /** `job` (a Pulse job's cost_actual) or `call` (a routed provider call). */
  readonly kind: "job" | "call";
  /** The qualified handler of a job; `service/Method` of a call (e.g. `llm/Chat`). */
  readonly name: string;
  /** The provider plugin that served a call ("" for a job). */
  readonly provider: string;
  readonly costUsd: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

/** Storage of the usage record. */
export interface UsageStore {
  /**
   * Adds a spend. With `key`, a later record of the same key replaces its cost and tokens (a
   * job's cost as it grows), keeping its first time.
   */
  record(usage: UsageRecord, key?: string): Promise<void>;
  /** Total cost and number of records with a cost, at or after `since`. */
  spendSince(since: number): Promise<{ usd: number; count: number }>;
  /** Every cost at or after `since`, oldest first (to say when a window frees up). */
  costsSince(since: number): Promise<Array<{ at: number; usd: number }>>;
  /** The newest records, newest first. */
  recent(limit: number): Promise<UsageRecord[]>;
}

/** The usage record's SQLite migrations (namespace "usage"). */
export const USAGE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE usage_records (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    key                TEXT    UNIQUE,                -- job:<id> for a job's cost; NULL for a call
    at                 INTEGER NOT NULL,
    plugin             TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind = 'job' OR kind = 'call'),
    name               TEXT    NOT NULL,
    provider           TEXT    NOT NULL DEFAULT '',
    cost_usd           REAL    NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    total_tokens       INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX usage_records_at ON usage_records (at);
  `,
];

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

/**
 * {@link UsageStore} on the host's SQLite connection. Records are written in batches, one
 * transaction per turn of the event loop: a routed call records one, and a commit each would
 * cost more CPU than forwarding the call (measured: about a third of the host's share at 16
 * calls in flight). Reads write what is pending first, so they always see every record.
 */
export class SqliteUsageStore implements UsageStore {
  private readonly st: ReturnType<typeof prepare>;
  private readonly writeBatch: (rows: ReadonlyArray<Record<string, unknown>>) => void;
  private pending: Array<Record<string, unknown>> = [];
  private written: Promise<void> | undefined;

  constructor(db: Database.Database) {
    migrate(db, "usage", USAGE_MIGRATIONS);
    this.st = prepare(db);
    this.writeBatch = db.transaction((rows: ReadonlyArray<Record<string, unknown>>) => {
      for (const row of rows) this.st.upsert.run(row);
    });
  }

  record(usage: UsageRecord, key?: string): Promise<void> {
    this.pending.push({ ...usage, key: key ?? null });
    this.written ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        try {
          this.flush();
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
    return this.written;
  }

  async spendSince(since: number): Promise<{ usd: number; count: number }> {
    this.flush();
    const row = this.st.spend.get(since) as { usd: number; count: number };
    return { usd: row.usd, count: row.count };
  }

  async costsSince(since: number): Promise<Array<{ at: number; usd: number }>> {
    this.flush();
    return this.st.costs.all(since) as Array<{ at: number; usd: number }>;
  }

  async recent(limit: number): Promise<UsageRecord[]> {
    this.flush();
    return (this.st.recent.all(limit) as Row[]).map((r) => ({
      at: r.at, plugin: r.plugin, kind: r.kind, name: r.name, provider: r.provider, costUsd: r.cost_usd,
      promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, totalTokens: r.total_tokens,
    }));
  }

  /** Writes the pending records in one transaction (a failed batch is dropped, and the error thrown). */
  private flush(): void {
    const rows = this.pending;
    if (rows.length === 0) return;
    this.pending = [];
    this.written = undefined;
    this.writeBatch(rows);
  }
}

function prepare(db: Database.Database) {
  return {
    upsert: db.prepare(`
      INSERT INTO usage_records (key, at, plugin, kind, name, provider, cost_usd, prompt_tokens, completion_tokens, total_tokens)
      VALUES (@key, @at, @plugin, @kind, @name, @provider, @costUsd, @promptTokens, @completionTokens, @totalTokens)
      ON CONFLICT (key) DO UPDATE SET cost_usd = excluded.cost_usd, prompt_tokens = excluded.prompt_tokens,
        completion_tokens = excluded.completion_tokens, total_tokens = excluded.total_tokens`),
    spend: db.prepare("SELECT COALESCE(SUM(cost_usd), 0) AS usd, COUNT(*) AS count FROM usage_records WHERE at >= ? AND cost_usd > 0"),
    costs: db.prepare("SELECT at, cost_usd AS usd FROM usage_records WHERE at >= ? AND cost_usd > 0 ORDER BY at"),
    recent: db.prepare("SELECT * FROM usage_records ORDER BY seq DESC LIMIT ?"),
  };
}
