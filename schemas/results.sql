-- lifetrace results database, schema version 3.
--
-- One SQLite file holds every run (replay, fuzz campaign, CI check, triage),
-- the stats a fuzz campaign samples over time, the traces each run replayed,
-- every finding keyed by its signature, and each occurrence of a finding.
-- This file is the schema: the build compiles it into the store
-- (reports/store.c), which creates it whole in a new database.
-- Times are Unix milliseconds (UTC).
--
-- Changing the schema: add a migration to reports/store.c that takes
-- version N to N+1 (ALTER/CREATE statements), update this file so that a new
-- database and a migrated one agree (tests/test_store.c checks that), bump
-- LT_STORE_SCHEMA_VERSION.

CREATE TABLE schema_version (
  version INTEGER NOT NULL
);

CREATE TABLE runs (
  id           INTEGER PRIMARY KEY,
  uuid         TEXT NOT NULL UNIQUE,          -- the ingest key: same uuid = same run
  kind         TEXT NOT NULL CHECK (kind IN ('replay', 'fuzz', 'check', 'triage')),
  command      TEXT,                          -- the exact command line
  tool_version TEXT,
  seed         INTEGER,
  driver       TEXT,
  policy       TEXT,
  engine       TEXT,
  host         TEXT,
  started_at   INTEGER NOT NULL,
  ended_at     INTEGER,                       -- NULL while running (or killed)
  exit_code    INTEGER,
  driver_sha256  TEXT,                        -- sha256 of the driver file (the .so, or the
                                              -- binary that carries it); NULL unknown
  driver_version TEXT                         -- what the user says it is (git describe)
);

CREATE TABLE stats (
  run_id       INTEGER NOT NULL REFERENCES runs (id),
  t            INTEGER NOT NULL,
  execs        INTEGER NOT NULL DEFAULT 0,
  exec_per_sec REAL NOT NULL DEFAULT 0,
  corpus_size  INTEGER NOT NULL DEFAULT 0,
  coverage     INTEGER NOT NULL DEFAULT 0,
  features     INTEGER NOT NULL DEFAULT 0,
  rss_mb       REAL NOT NULL DEFAULT 0,
  crashes      INTEGER NOT NULL DEFAULT 0,
  timeouts     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, t)
);

CREATE TABLE traces (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs (id),
  path       TEXT NOT NULL,
  sha256     TEXT NOT NULL DEFAULT '',        -- '' when the file could not be read
  size       INTEGER NOT NULL DEFAULT -1,
  n_events   INTEGER NOT NULL DEFAULT 0,
  verdict    TEXT NOT NULL CHECK (verdict IN ('clean', 'warnings', 'errors', 'unreadable',
                                              'pass', 'fail')),
  diag       TEXT,
  n_findings INTEGER NOT NULL DEFAULT 0,
  seen_at    INTEGER NOT NULL,
  UNIQUE (run_id, path)
);

CREATE TABLE findings (
  signature     TEXT PRIMARY KEY,             -- 16 hex digits (lt_signature_hex)
  kind          TEXT NOT NULL,
  layer         TEXT NOT NULL,
  object        TEXT NOT NULL,
  severity      TEXT NOT NULL,                -- the worst seen: 'error' beats 'warning'
  ddi           TEXT NOT NULL DEFAULT '',
  site          TEXT NOT NULL DEFAULT '',
  message       TEXT NOT NULL DEFAULT '',     -- of the first occurrence
  status        TEXT NOT NULL DEFAULT 'open'  -- 'expected': only ever seen where a
                CHECK (status IN ('open', 'fixed', 'ignored', 'expected')), -- corpus expects it
  status_at     INTEGER,
  first_seen    INTEGER NOT NULL,
  last_seen     INTEGER NOT NULL,
  first_run     INTEGER NOT NULL REFERENCES runs (id),
  last_run      INTEGER NOT NULL REFERENCES runs (id),
  count         INTEGER NOT NULL DEFAULT 0,   -- occurrences
  repro_path    TEXT,                         -- the smallest trace that shows it
  repro_size    INTEGER,
  repro_command TEXT
);

CREATE TABLE occurrences (
  id            INTEGER PRIMARY KEY,
  signature     TEXT NOT NULL REFERENCES findings (signature),
  run_id        INTEGER NOT NULL REFERENCES runs (id),
  trace_id      INTEGER NOT NULL REFERENCES traces (id),
  seq           INTEGER NOT NULL,             -- position among the trace's findings
  seen_at       INTEGER NOT NULL,
  severity      TEXT NOT NULL,
  event         INTEGER NOT NULL,
  origin_record INTEGER,
  origin_line   INTEGER,
  object        TEXT NOT NULL,
  handle        INTEGER NOT NULL,
  pid           INTEGER NOT NULL,
  process       TEXT,                         -- untrusted text from the trace header
  created_at    INTEGER,                      -- event index, NULL unknown
  destroyed_at  TEXT NOT NULL DEFAULT '[]',   -- JSON array of event indices
  history       TEXT NOT NULL DEFAULT '[]',   -- JSON array of {event, op, origin}
  bytes         INTEGER NOT NULL DEFAULT 0,
  message       TEXT NOT NULL DEFAULT '',
  expected      INTEGER NOT NULL DEFAULT 0,   -- 1: the trace's .expected.json names it
  UNIQUE (trace_id, seq)
);

-- The stacks of a finding (its first occurrence's), as the reports show them:
-- allocated / freed / accessed, the faulting stack, ... Signatures name the
-- top frames with in_driver = 1 (docs/replay-engine.md, "Signatures").
CREATE TABLE frames (
  signature TEXT NOT NULL REFERENCES findings (signature),
  stack     INTEGER NOT NULL,                -- the stack's position in the finding
  role      TEXT NOT NULL,                   -- allocated, freed, freed-again, access, fault,
                                             -- found, ddi, at (lifetrace/stack.h)
  depth     INTEGER NOT NULL,                -- 0 = innermost frame shown
  function  TEXT NOT NULL DEFAULT '',
  file      TEXT NOT NULL DEFAULT '',
  line      INTEGER NOT NULL DEFAULT 0,
  module    TEXT NOT NULL DEFAULT '',
  offset    INTEGER NOT NULL DEFAULT 0,      -- from the module's load address
  in_driver INTEGER NOT NULL DEFAULT 0,      -- 1: a frame of the driver under test
  PRIMARY KEY (signature, stack, depth)
);

CREATE INDEX occurrences_by_signature ON occurrences (signature, seen_at);
CREATE INDEX occurrences_by_run ON occurrences (run_id);
CREATE INDEX traces_by_run ON traces (run_id);
CREATE INDEX runs_by_start ON runs (started_at);
