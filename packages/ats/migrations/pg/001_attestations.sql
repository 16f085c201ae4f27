-- The attestation store on PostgreSQL: the same layout as the SQLite schema (src/schema.ts),
-- chosen by measurement over GIN indexes on text[] columns (docs/scale-out.md): a term table
-- walks "value X, newest first" in index order and stops at the limit, where a GIN bitmap
-- must collect and sort every match.
--
-- attestations: one row per attestation; the four string lists and the attributes as JSON
-- text, exactly as the SQLite store keeps them (jsonb would reorder keys and refuse \u0000).
-- seq orders rows written in the same millisecond. tx is the writing transaction's id: the
-- watch feed reads new rows by it, since every transaction older than the oldest one still
-- running has finished (pg_snapshot_xmin), which seq alone cannot tell.
CREATE TABLE attestations (
  seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id         text   NOT NULL UNIQUE,
  timestamp  bigint NOT NULL,
  created_at bigint NOT NULL,
  source     text   NOT NULL,
  attributes text,
  signature  bytea,
  signer_did text   NOT NULL DEFAULT '',
  subjects   text   NOT NULL,
  predicates text   NOT NULL,
  contexts   text   NOT NULL,
  actors     text   NOT NULL,
  -- Unix ms from the expires_at attribute; NULL = never.
  expires_at bigint,
  tx         xid8   NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX attestations_created_at ON attestations (created_at DESC, seq DESC);
CREATE INDEX attestations_timestamp ON attestations (timestamp, created_at, seq);
CREATE INDEX attestations_tx ON attestations (tx, seq);
-- Only attestations that expire: "which stored ones have expired" stays a short range.
CREATE INDEX attestations_expires_at ON attestations (expires_at) WHERE expires_at IS NOT NULL;

-- The inverted index: one row per (dimension, value, attestation), keyed so that one value's
-- rows are one index range ordered by (created_at, seq), with timestamp in the index for time
-- bounds. dim: 0 subjects, 1 predicates, 2 contexts, 3 actors (never renumbered).
CREATE TABLE attestation_terms (
  dim        smallint NOT NULL,
  value      text     NOT NULL,
  created_at bigint   NOT NULL,
  seq        bigint   NOT NULL,
  timestamp  bigint   NOT NULL,
  PRIMARY KEY (dim, value, created_at, seq) INCLUDE (timestamp)
);
