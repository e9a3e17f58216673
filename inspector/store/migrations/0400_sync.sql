-- Sync with HQ: enrolment, the pull cursor, HQ's view of our audit chain, and history.

-- One row: this laptop's enrolment (device token as issued; HQ keeps only its hash).
CREATE TABLE sync_enrolment (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  hq_url TEXT NOT NULL,
  device_id TEXT NOT NULL,
  token TEXT NOT NULL,
  badge_no TEXT NOT NULL,
  inspector_id TEXT,
  hq_ca_sha256 TEXT,
  enrolled_at TEXT NOT NULL
);

-- One row: where pull and the audit-chain upload stand. The cursor is written in the
-- same transaction that applies a pulled page.
CREATE TABLE sync_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pull_cursor INTEGER NOT NULL DEFAULT 0,
  hq_audit_seq INTEGER NOT NULL DEFAULT 0,
  hq_audit_hash TEXT,
  hq_audit_status TEXT,
  last_attempt_at TEXT,
  last_ok_at TEXT,
  last_error TEXT
);
INSERT INTO sync_state (id) VALUES (1);

-- Pulled changes not applied because the local row had unsent changes (local wins until pushed).
CREATE TABLE sync_pull_skipped (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  change_seq INTEGER NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  data TEXT,
  at TEXT NOT NULL
);

-- One row per sync run (for `inspector sync status`).
CREATE TABLE sync_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  ok INTEGER,
  summary TEXT
);
