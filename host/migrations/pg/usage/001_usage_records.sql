-- The usage record on PostgreSQL (host/src/budget/pg-usage-store.ts): the same columns as the
-- SQLite table, so every host sharing the database sums the same spend.
CREATE TABLE usage_records (
  seq                bigserial        PRIMARY KEY,
  key                text             UNIQUE,      -- job:<id> for a job's cost; NULL for a call
  at                 bigint           NOT NULL,
  plugin             text             NOT NULL,
  kind               text             NOT NULL CHECK (kind = 'job' OR kind = 'call'),
  name               text             NOT NULL,
  provider           text             NOT NULL DEFAULT '',
  cost_usd           double precision NOT NULL DEFAULT 0,
  prompt_tokens      bigint           NOT NULL DEFAULT 0,
  completion_tokens  bigint           NOT NULL DEFAULT 0,
  total_tokens       bigint           NOT NULL DEFAULT 0
);
CREATE INDEX usage_records_at ON usage_records (at);
