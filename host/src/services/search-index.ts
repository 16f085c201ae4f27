/**
 * The built-in search provider: full-text search over documents plugins index, on SQLite FTS5
 * in `qntx.db` (namespace "search"). SearchService uses it while no plugin sets
 * `search_provider`. Its semantics, chosen to be close to what QNTX's Meilisearch provider
 * gives:
 *
 * - An index is created by the first IndexDocuments or ConfigureIndex call naming it, and
 *   belongs to that plugin: only it may index, delete or configure; every plugin may search.
 * - A document is a JSON object with its primary key (`id` unless ConfigureIndex says
 *   otherwise) as a string or a number; indexing the same key again replaces it.
 * - The text searched is every string and number of the document (or only the
 *   `searchable_attributes`, when configured). Query words must all occur (the last one as a
 *   prefix); results are ranked by BM25. An empty query lists the index's documents.
 * - `filters` is a JSON object of field → value (or an array of values, any of which matches);
 *   with `filterable_attributes` configured, only those fields may be filtered.
 * - `facets` counts the values of those fields over every match; `highlighted` is the
 *   document's matched string fields with the query words in `<em>`.
 */
import type Database from "better-sqlite3";
import { migrate } from "@qntx/pulse";
import { status } from "@grpc/grpc-js";
import type { ConfigureIndexRequest, SearchHit, SearchRequest, SearchResponse } from "@qntx/protocol";
import { RouteError } from "./provider-router.js";

/** Most documents one IndexDocuments call may carry. */
export const MAX_INDEX_BATCH = 10_000;
/** Results a search returns when `top_k` is not set, and the most it may ask for. */
const DEFAULT_TOP_K = 20;
const MAX_TOP_K = 1000;
/** Matches a search ranks, filters and counts facets over. */
const MAX_MATCHES = 10_000;

/** The built-in search index's SQLite migrations (namespace "search"). */
export const SEARCH_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE search_indexes (
    name        TEXT    PRIMARY KEY,
    owner       TEXT    NOT NULL,                 -- the plugin that created it
    primary_key TEXT    NOT NULL DEFAULT 'id',
    filterable  TEXT    NOT NULL DEFAULT '[]',    -- JSON arrays of field names
    sortable    TEXT    NOT NULL DEFAULT '[]',
    searchable  TEXT    NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL
  );
  CREATE TABLE search_documents (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,  -- the rowid of its search_fts row
    idx       TEXT    NOT NULL,
    doc_id    TEXT    NOT NULL,
    document  TEXT    NOT NULL,
    UNIQUE (idx, doc_id)
  );
  CREATE VIRTUAL TABLE search_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
  `,
];

interface IndexRow {
  name: string;
  owner: string;
  primary_key: string;
  filterable: string;
  sortable: string;
  searchable: string;
}

/** The built-in index over the host's SQLite connection. */
export class SearchIndex {
  private readonly st: ReturnType<typeof prepare>;
  private readonly indexTx: (index: IndexRow, docs: ReadonlyArray<{ id: string; json: string; body: string }>) => number;
  private readonly deleteTx: (index: string, ids: readonly string[]) => number;
  private readonly reindexTx: (index: IndexRow) => void;

  constructor(db: Database.Database) {
    migrate(db, "search", SEARCH_MIGRATIONS);
    this.st = prepare(db);
    this.indexTx = db.transaction((index: IndexRow, docs: ReadonlyArray<{ id: string; json: string; body: string }>) => {
      for (const doc of docs) {
        const old = this.st.docSeq.get(index.name, doc.id) as { seq: number } | undefined;
        if (old) {
          this.st.ftsDelete.run(old.seq);
          this.st.docDelete.run(old.seq);
        }
        const seq = Number(this.st.docInsert.run(index.name, doc.id, doc.json).lastInsertRowid);
        this.st.ftsInsert.run(seq, doc.body);
      }
      return docs.length;
    });
    this.deleteTx = db.transaction((index: string, ids: readonly string[]) => {
      let deleted = 0;
      for (const id of ids) {
        const old = this.st.docSeq.get(index, id) as { seq: number } | undefined;
        if (!old) continue;
        this.st.ftsDelete.run(old.seq);
        this.st.docDelete.run(old.seq);
        deleted++;
      }
      return deleted;
    });
    this.reindexTx = db.transaction((index: IndexRow) => {
      const searchable = JSON.parse(index.searchable) as string[];
      for (const row of this.st.docsOf.all(index.name) as Array<{ seq: number; document: string }>) {
        this.st.ftsDelete.run(row.seq);
        this.st.ftsInsert.run(row.seq, searchText(JSON.parse(row.document) as Record<string, unknown>, searchable));
      }
    });
  }

  /** Adds or replaces documents of `index` (created, owned by `plugin`, when new). */
  index(plugin: string, index: string, documents: readonly Uint8Array[]): number {
    if (documents.length > MAX_INDEX_BATCH) throw invalid(`one call may index at most ${MAX_INDEX_BATCH} documents (got ${documents.length}): split it`);
    const row = this.owned(plugin, index, true);
    const searchable = JSON.parse(row.searchable) as string[];
    const docs = documents.map((bytes, i) => {
      let doc: unknown;
      try {
        doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
      } catch (error) {
        throw invalid(`document ${i} is not JSON (${(error as Error).message})`);
      }
      if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw invalid(`document ${i} is not a JSON object`);
      const key = (doc as Record<string, unknown>)[row.primary_key];
      if ((typeof key !== "string" || key === "") && typeof key !== "number") {
        throw invalid(`document ${i} has no primary key "${row.primary_key}" (a non-empty string or a number)`);
      }
      return { id: String(key), json: JSON.stringify(doc), body: searchText(doc as Record<string, unknown>, searchable) };
    });
    return this.indexTx(row, docs);
  }

  /** Deletes documents of `index` by id; returns how many existed. */
  delete(plugin: string, index: string, ids: readonly string[]): number {
    this.owned(plugin, index, false);
    return this.deleteTx(index, ids);
  }

  /** Sets the index's primary key and attribute lists (creating it, owned by `plugin`, when new). */
  configure(plugin: string, request: ConfigureIndexRequest): void {
    const row = this.owned(plugin, request.index, true);
    const primaryKey = request.primaryKey || row.primary_key;
    if (primaryKey !== row.primary_key && (this.st.count.get(row.name) as { n: number }).n > 0) {
      throw new RouteError(status.FAILED_PRECONDITION, `index ${row.name} has documents keyed by "${row.primary_key}": its primary key cannot change now (delete its documents first)`);
    }
    const next: IndexRow = {
      ...row, primary_key: primaryKey, filterable: JSON.stringify(request.filterableAttributes),
      sortable: JSON.stringify(request.sortableAttributes), searchable: JSON.stringify(request.searchableAttributes),
    };
    this.st.configure.run(next);
    if (next.searchable !== row.searchable) this.reindexTx(next);
  }

  /** Searches `request.index` (see the file comment). */
  search(request: SearchRequest): SearchResponse {
    const started = performance.now();
    const row = this.st.index.get(request.index) as IndexRow | undefined;
    if (!row) throw new RouteError(status.NOT_FOUND, `no search index named "${request.index}" (an index is created by the first IndexDocuments or ConfigureIndex naming it)`);
    const filters = parseFilters(request.filters, JSON.parse(row.filterable) as string[]);
    const terms = words(request.query);
    const matches = (terms.length === 0
      ? (this.st.all.all(row.name, MAX_MATCHES) as Array<{ doc_id: string; document: string; rank: number }>)
      : (this.st.match.all(ftsQuery(terms), row.name, MAX_MATCHES) as Array<{ doc_id: string; document: string; rank: number }>))
      .map((m) => ({ ...m, doc: JSON.parse(m.document) as Record<string, unknown> }))
      .filter((m) => filters.every(([field, wanted]) => wanted.some((w) => sameValue(m.doc[field], w))));
    const topK = request.topK > 0 ? Math.min(request.topK, MAX_TOP_K) : DEFAULT_TOP_K;
    const hits: SearchHit[] = matches.slice(0, topK).map((m) => ({
      id: m.doc_id,
      score: terms.length === 0 ? 0 : -m.rank,
      document: Buffer.from(m.document),
      highlighted: Buffer.from(JSON.stringify(highlight(m.doc, terms))),
    }));
    const facets = facetCounts(matches.map((m) => m.doc), request.facets);
    return { hits, total: matches.length, processingMs: Math.round(performance.now() - started), facetDistribution: Buffer.from(facets ? JSON.stringify(facets) : "") };
  }

  /** The index row when `plugin` owns it; created for it when `create` and it does not exist. */
  private owned(plugin: string, name: string, create: boolean): IndexRow {
    if (!name) throw invalid("index is required");
    let row = this.st.index.get(name) as IndexRow | undefined;
    if (!row) {
      if (!create) throw new RouteError(status.NOT_FOUND, `no search index named "${name}"`);
      this.st.create.run(name, plugin, Date.now());
      row = this.st.index.get(name) as IndexRow;
    }
    if (row.owner !== plugin) throw new RouteError(status.PERMISSION_DENIED, `index ${name} belongs to plugin ${row.owner}: plugin ${plugin} may search it, not change it`);
    return row;
  }
}

function prepare(db: Database.Database) {
  return {
    index: db.prepare("SELECT * FROM search_indexes WHERE name = ?"),
    create: db.prepare("INSERT INTO search_indexes (name, owner, created_at) VALUES (?, ?, ?)"),
    configure: db.prepare("UPDATE search_indexes SET primary_key = @primary_key, filterable = @filterable, sortable = @sortable, searchable = @searchable WHERE name = @name"),
    count: db.prepare("SELECT COUNT(*) AS n FROM search_documents WHERE idx = ?"),
    docSeq: db.prepare("SELECT seq FROM search_documents WHERE idx = ? AND doc_id = ?"),
    docInsert: db.prepare("INSERT INTO search_documents (idx, doc_id, document) VALUES (?, ?, ?)"),
    docDelete: db.prepare("DELETE FROM search_documents WHERE seq = ?"),
    docsOf: db.prepare("SELECT seq, document FROM search_documents WHERE idx = ?"),
    ftsInsert: db.prepare("INSERT INTO search_fts (rowid, body) VALUES (?, ?)"),
    ftsDelete: db.prepare("DELETE FROM search_fts WHERE rowid = ?"),
    match: db.prepare(`
      SELECT d.doc_id, d.document, bm25(search_fts) AS rank
      FROM search_fts JOIN search_documents d ON d.seq = search_fts.rowid
      WHERE search_fts MATCH ? AND d.idx = ? ORDER BY rank LIMIT ?`),
    all: db.prepare("SELECT doc_id, document, 0 AS rank FROM search_documents WHERE idx = ? ORDER BY seq LIMIT ?"),
  };
}

function invalid(message: string): RouteError {
  return new RouteError(status.INVALID_ARGUMENT, message);
}

/** The words of a query or a text: letters and digits, lower case. */
function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, 32);
}

/** FTS5 syntax for "every word, the last as a prefix": each quoted, so no word is an operator. */
function ftsQuery(terms: readonly string[]): string {
  return terms.map((t, i) => `"${t}"${i === terms.length - 1 ? "*" : ""}`).join(" ");
}

/** The text a document is found by: its strings and numbers (of `searchable` fields, when given), nested ones too. */
function searchText(doc: Record<string, unknown>, searchable: readonly string[]): string {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string" || typeof value === "number") out.push(String(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
  };
  if (searchable.length === 0) walk(doc);
  else for (const field of searchable) walk(doc[field]);
  return out.join("\n");
}

/** `filters` JSON as [field, accepted values] pairs. */
function parseFilters(bytes: Uint8Array, filterable: readonly string[]): Array<[string, unknown[]]> {
  if (bytes.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw invalid(`filters is not JSON (${(error as Error).message}); the built-in provider takes an object of field → value`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid('filters must be a JSON object of field → value, e.g. {"tag": ["a", "b"]}');
  return Object.entries(parsed).map(([field, value]) => {
    if (filterable.length > 0 && !filterable.includes(field)) throw invalid(`field "${field}" is not filterable (filterable_attributes: ${filterable.join(", ")})`);
    return [field, Array.isArray(value) ? value : [value]];
  });
}

function sameValue(have: unknown, want: unknown): boolean {
  if (Array.isArray(have)) return have.some((h) => sameValue(h, want));
  return have === want || (have !== undefined && have !== null && String(have) === String(want));
}

/** The document's string fields that contain a query word, with each word in `<em>`. */
function highlight(doc: Record<string, unknown>, terms: readonly string[]): Record<string, string> {
  if (terms.length === 0) return {};
  const pattern = new RegExp(`(${terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})[\\p{L}\\p{N}_]*`, "giu");
  const out: Record<string, string> = {};
  for (const [field, value] of Object.entries(doc)) {
    if (typeof value !== "string") continue;
    const marked = value.replace(pattern, "<em>$&</em>");
    if (marked !== value) out[field] = marked;
  }
  return out;
}

/** Counts of each value of each facet field over the matches, or undefined when none asked. */
function facetCounts(docs: ReadonlyArray<Record<string, unknown>>, facets: readonly string[]): Record<string, Record<string, number>> | undefined {
  if (facets.length === 0) return undefined;
  const out: Record<string, Record<string, number>> = {};
  for (const field of facets) {
    const counts: Record<string, number> = {};
    for (const doc of docs) {
      const value = doc[field];
      for (const v of Array.isArray(value) ? value : [value]) {
        if (v === undefined || v === null || typeof v === "object") continue;
        counts[String(v)] = (counts[String(v)] ?? 0) + 1;
      }
    }
    out[field] = counts;
  }
  return out;
}
