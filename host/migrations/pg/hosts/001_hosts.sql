-- The hosts sharing this database (host/src/hosts/pg-directory.ts). Times are unix ms of the
-- database's clock, so hosts whose clocks disagree still agree on who is gone.
CREATE TABLE qntx_hosts (
  id          text   PRIMARY KEY,
  address     text   NOT NULL,
  version     text   NOT NULL,
  plugins     text   NOT NULL DEFAULT '[]',   -- JSON array of running plugin names
  started_at  bigint NOT NULL,
  last_seen   bigint NOT NULL,
  stopped_at  bigint                           -- set by a clean shutdown
);
CREATE INDEX qntx_hosts_last_seen ON qntx_hosts (last_seen);
